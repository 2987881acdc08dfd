// The one `edgewarden` executable. Each subcommand arrives with the issue that makes it work;
// `--help` lists only those that exist.
import type { Command } from './command.js';
import { version } from './version.js';

// Each command's module is loaded only when it runs: `edgewarden analyze` never loads the
// database, HTTP or ONNX libraries the agent needs, and `--help` loads none.
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  agent: {
    summary: "Run one analysis agent against PostgreSQL (an agent pod's entrypoint).",
    load: async () => (await import('./agent.js')).agentCommand,
  },
  analyze: {
    summary: 'Analyse a log file with the built-in agents, no database needed.',
    load: async () => (await import('./analyze.js')).analyzeCommand,
  },
  demo: {
    summary: 'Run every agent on real router logs with injected attacks; print what they find.',
    load: async () => (await import('./demo.js')).demoCommand,
  },
  export: {
    summary: 'Export logs and anomalies to JSON / JSONL / CSV files (an ExportJob pod).',
    load: async () => (await import('./export.js')).exportCommand,
  },
  features: {
    summary: 'Print the window features an agent computes over logs, as CSV (for training).',
    load: async () => (await import('./train.js')).featuresCommand,
  },
  operator: {
    summary: 'Run the operator: AnalysisAgents become agent pods, with their status.',
    load: async () => (await import('./operator.js')).operatorCommand,
  },
  parse: {
    summary: 'Parse syslog lines from a file or stdin into JSON, one object per line.',
    load: async () => (await import('./parse.js')).parseCommand,
  },
  rules: {
    summary: 'Test the detection rules, explain which rules a log line sets off, list them.',
    load: async () => (await import('./rules.js')).rulesCommand,
  },
  train: {
    summary: "Train an agent's anomaly model (Isolation Forest, ONNX) on logs or exports.",
    load: async () => (await import('./train.js')).trainCommand,
  },
  validate: {
    summary: 'Check edgewarden resources in files against the API schemas, offline.',
    load: async () => (await import('./validate.js')).validateCommand,
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    'edgewarden: AI anomaly detection over OpenWrt router logs, run by a Kubernetes operator.',
    '',
    'Usage: edgewarden <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    "Run `edgewarden <command> --help` for a command's options; `edgewarden --version` for the version.",
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`edgewarden: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}
