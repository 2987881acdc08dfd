// The agent runtime's log: the structured logger both programs share (api/src/log.ts), one per
// program, named by its `component` on every line (agent, export, trainer, ...). Built at module
// level so a library logs without being handed a logger: it imports only api/, so any file of
// the runtime can import it without a cycle.
import { jsonLogger, type Logger } from '../../api/src/log.js';

export type { Fields, Logger } from '../../api/src/log.js';

const toStderr = jsonLogger();
// The exporter logs on stdout: its stderr is left to the run's last word when it fails, one plain
// line `edgewarden export: failed: <reason>: <message>` that the CLI prints and its tests read
// whole (cli/src/readOnly.test.ts).
const toStdout = jsonLogger({ write: (line) => void process.stdout.write(`${line}\n`) });

/** The logger of one program or library of the agent runtime, on stderr unless told stdout. */
export function componentLog(component: string, stream: 'stderr' | 'stdout' = 'stderr'): Logger {
  return (stream === 'stdout' ? toStdout : toStderr).with({ component });
}
