// The one `edgewarden` executable. Each subcommand arrives with the issue that makes it work;
// `--help` lists only those that exist.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Command } from './command.js';
import { agentCommand } from './agent.js';
import { analyzeCommand } from './analyze.js';
import { demoCommand } from './demo.js';
import { parseCommand } from './parse.js';
import { validateCommand } from './validate.js';

const commands: Record<string, Command> = {
  agent: agentCommand,
  analyze: analyzeCommand,
  demo: demoCommand,
  parse: parseCommand,
  validate: validateCommand,
};

/** The version in our package.json, found by walking up from this file (src/ or dist/). */
function version(): string {
  for (
    let dir = path.dirname(fileURLToPath(import.meta.url));
    dir !== path.dirname(dir);
    dir = path.dirname(dir)
  ) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
    if (pkg.name === 'edgewarden') return pkg.version;
  }
  return 'unknown';
}

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
  const command = commands[name];
  if (!command) {
    console.error(`edgewarden: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}
