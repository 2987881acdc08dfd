// The command line of `kubectl edgewarden`: the command, its arguments, kubectl's own flags
// (--kubeconfig, --context, -n, -A, -o) and each command's flags. Pure: argv in, a parsed
// command line or the error kubectl would print, out. A flag a command does not take is an
// error, as kubectl says it ("unknown flag: --note").
import { parseArgs } from 'node:util';

export const COMMANDS = [
  'anomalies',
  'anomaly',
  'ack',
  'resolve',
  'false-positive',
  'agents',
  'top',
] as const;
export type CommandName = (typeof COMMANDS)[number];

export const OUTPUTS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUTS)[number];

/** Every flag, as node:util's parseArgs reads it. */
const FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  'all-namespaces': { type: 'boolean', short: 'A' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
  severity: { type: 'string' },
  agent: { type: 'string' },
  rule: { type: 'string' },
  device: { type: 'string' },
  status: { type: 'string' },
  since: { type: 'string' },
  watch: { type: 'boolean', short: 'w' },
  interval: { type: 'string' },
  note: { type: 'string' },
  expires: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'no-suppress': { type: 'boolean' },
} as const;
type Flag = keyof typeof FLAGS;

const CONNECTION: Flag[] = ['kubeconfig', 'context', 'namespace', 'help'];
const TRIAGE: Flag[] = [...CONNECTION, 'note', 'output'];

/** The flags each command takes, besides the connection's. */
export const COMMAND_FLAGS: Record<CommandName, Flag[]> = {
  anomalies: [
    ...CONNECTION,
    ...(['all-namespaces', 'output', 'severity', 'agent', 'rule', 'device'] as const),
    ...(['status', 'since', 'watch', 'interval'] as const),
  ],
  anomaly: [...CONNECTION, 'output'],
  ack: TRIAGE,
  resolve: TRIAGE,
  'false-positive': [...TRIAGE, 'expires', 'dry-run', 'no-suppress'],
  agents: [...CONNECTION, 'all-namespaces', 'output'],
  top: [...CONNECTION, 'all-namespaces', 'output', 'since'],
};

/** How many arguments (besides flags) each command takes: an anomaly ID, or `devices`. */
const ARGUMENTS: Record<CommandName, string | undefined> = {
  anomalies: undefined,
  anomaly: 'ID',
  ack: 'ID',
  resolve: 'ID',
  'false-positive': 'ID',
  agents: undefined,
  top: 'devices',
};

export interface Flags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  output: OutputFormat;
  severity?: string;
  agent?: string;
  rule?: string;
  device?: string;
  status?: string;
  since?: string;
  watch: boolean;
  interval?: string;
  note?: string;
  expires?: string;
  dryRun: boolean;
  noSuppress: boolean;
}

export type CommandLine =
  | { kind: 'help'; command?: CommandName }
  | { kind: 'run'; command: CommandName; argument?: string; flags: Flags }
  | { kind: 'error'; message: string; command?: CommandName };

const isCommand = (name: string | undefined): name is CommandName =>
  (COMMANDS as readonly string[]).includes(name ?? '');

/** The command line, or what is wrong with it. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: FLAGS, allowPositionals: true, tokens: true });
  } catch (error) {
    return { kind: 'error', message: (error as Error).message.replace(/\. To specify.*$/s, '') };
  }
  const [name, ...rest] = parsed.positionals;
  if (name === undefined || name === 'help')
    return { kind: 'help', command: isCommand(rest[0]) ? rest[0] : undefined };
  if (!isCommand(name)) return { kind: 'error', message: `unknown command "${name}"` };
  if (parsed.values.help) return { kind: 'help', command: name };
  const given = new Set(parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : [])));
  const unknown = [...given].find((f) => !COMMAND_FLAGS[name].includes(f));
  if (unknown) return { kind: 'error', command: name, message: `unknown flag: --${unknown}` };
  const expected = ARGUMENTS[name];
  if (rest.length > (expected ? 1 : 0))
    return { kind: 'error', command: name, message: `unexpected argument "${rest.at(-1)}"` };
  if (expected && rest.length === 0)
    return { kind: 'error', command: name, message: `${name} needs ${expected}` };
  if (name === 'top' && rest[0] !== 'devices')
    return { kind: 'error', command: name, message: 'top: only `top devices` exists' };
  const v = parsed.values;
  const output = v.output ?? 'table';
  if (!(OUTPUTS as readonly string[]).includes(output))
    return {
      kind: 'error',
      command: name,
      message: `unable to match a printer suitable for the output format "${output}", allowed formats are: ${OUTPUTS.join(',')}`,
    };
  if (v.namespace !== undefined && v['all-namespaces'])
    return { kind: 'error', command: name, message: '--namespace and --all-namespaces: give one' };
  return {
    kind: 'run',
    command: name,
    argument: rest[0],
    flags: {
      ...pick(v, ['kubeconfig', 'context', 'namespace', 'severity', 'agent', 'rule', 'device']),
      ...pick(v, ['status', 'since', 'interval', 'note', 'expires']),
      allNamespaces: v['all-namespaces'] ?? false,
      output: output as OutputFormat,
      watch: v.watch ?? false,
      dryRun: v['dry-run'] ?? false,
      noSuppress: v['no-suppress'] ?? false,
    },
  };
}

function pick<K extends string>(
  values: Partial<Record<string, string | boolean>>,
  keys: readonly K[],
): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const k of keys) if (typeof values[k] === 'string') out[k] = values[k];
  return out;
}
