// `kubectl edgewarden` (bin/kubectl-edgewarden.js): the command line parsed, the cluster
// reached with the user's kubeconfig, the command run. Errors are kubectl's: `error: ...` on
// stderr and exit code 1; warnings (a pod that could not be read) on stderr, the rest still
// shown, and exit code 1 at the end.
import { agentsCommand } from './agentsCommand.js';
import { anomaliesCommand } from './anomaliesCommand.js';
import { anomalyCommand } from './anomalyCommand.js';
import { parseCommandLine, type CommandName } from './args.js';
import type { CommandRun, RunContext } from './context.js';
import { commandHelp } from './help.js';
import { kubeAccess } from './kubeAccess.js';
import { processIo, type Io } from './output.js';
import { topDevicesCommand } from './topCommand.js';
import { triageCommand } from './triageCommand.js';

const RUNS: Record<CommandName, CommandRun> = {
  anomalies: anomaliesCommand,
  anomaly: anomalyCommand,
  ack: triageCommand('ack'),
  resolve: triageCommand('resolve'),
  'false-positive': triageCommand('false-positive'),
  agents: agentsCommand,
  top: topDevicesCommand,
};

export interface MainOptions {
  io?: Io;
  env?: NodeJS.ProcessEnv;
  now?: () => Date;
  /** Ends a --watch; by default SIGINT or SIGTERM. */
  interrupted?: Promise<void>;
}

function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done).off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done).once('SIGTERM', done);
  });
}

/** Runs the plugin; resolves to its exit code (0 or 1). */
export async function main(argv: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const line = parseCommandLine(argv);
  if (line.kind === 'help') {
    io.out(commandHelp(line.command));
    return 0;
  }
  if (line.kind === 'error') {
    io.err(`error: ${line.message}`);
    io.err(`See 'kubectl edgewarden ${line.command ? `${line.command} ` : ''}--help' for usage.`);
    return 1;
  }
  try {
    const access = await kubeAccess(line.flags, options.env ?? process.env);
    const context: RunContext = {
      io,
      client: access.client,
      namespace: access.namespace,
      flags: line.flags,
      argument: line.argument,
      now: options.now ?? (() => new Date()),
      interrupted:
        options.interrupted ?? (line.flags.watch ? signalled() : new Promise(() => undefined)),
    };
    return await RUNS[line.command](context);
  } catch (error) {
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
