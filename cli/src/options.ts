// A command's options written once, as a table: node:util's parseArgs reads the arguments from
// it, defaults included, and `edgewarden <command> --help` is generated from it, so the help
// can never list an option, or a default, that the parser does not have.
import { parseArgs } from 'node:util';

import type { Command } from './command.js';

export interface Option {
  type: 'string' | 'boolean';
  /** What the value is, as the help shows it: FILE, N, DURATION. */
  value?: string;
  /** One sentence or two; "(default …)" is added from `default`. */
  help: string;
  /** The value when the option is not given; a boolean is false unless given. */
  default?: string;
  /** Repeatable: the values in order, [] when never given. */
  multiple?: boolean;
}

export type Options = Record<string, Option>;

/** The parsed value of each option of a table, typed by its definition. */
export type Values<T extends Options> = {
  -readonly [K in keyof T]: T[K] extends { type: 'boolean' }
    ? boolean
    : T[K] extends { multiple: true }
      ? string[]
      : T[K] extends { default: string }
        ? string
        : string | undefined;
};

/** Prints a usage error (the message, then the command's help) and returns its exit code, 2. */
export type Fail = (message: string) => number;

export interface CommandSpec<T extends Options> {
  /** The command's name after `edgewarden`. */
  name: string;
  /** The synopsis, one line per form: `edgewarden parse [--input FILE|-] [options]`. */
  synopsis: string[];
  /** What the command does, as written (not re-wrapped). */
  about: string;
  options: T;
  /** Arguments that are not options (files, lines, a subcommand). */
  positionals?: boolean;
  /** Text after the options: configuration by environment, exit codes. */
  more?: string;
  /** Runs with parsed options; `fail` prints a usage error and returns its exit code (2). */
  run(values: Values<T>, positionals: string[], fail: Fail): Promise<number>;
}

const HELP_WIDTH = 96;
const MAX_NAME_COLUMN = 28;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** The "Options:" lines of a table: each option, its value, what it does and its default. */
export function optionsHelp(options: Options): string {
  const entries = Object.entries(options).map(([name, o]) => ({
    head: `--${name}${o.value ? ` ${o.value}` : ''}`,
    text: o.default === undefined ? o.help : `${o.help} (default ${o.default})`,
  }));
  const column = Math.min(MAX_NAME_COLUMN, Math.max(...entries.map((e) => e.head.length))) + 4;
  return entries
    .flatMap(({ head, text }) => {
      const [first = '', ...rest] = wrap(text, HELP_WIDTH - column);
      const start = `  ${head}`;
      const lead = start.length + 2 > column ? `${start}  ` : start.padEnd(column);
      return [lead + first, ...rest.map((l) => ' '.repeat(column) + l)];
    })
    .join('\n');
}

/** The whole `--help` text of a command. */
export function usageText(spec: Omit<CommandSpec<Options>, 'run'>): string {
  const synopsis = spec.synopsis.map((s, i) => `${i === 0 ? 'Usage: ' : '       '}${s}`);
  const options =
    Object.keys(spec.options).length > 0 ? [`Options:\n${optionsHelp(spec.options)}`] : [];
  return [synopsis.join('\n'), spec.about, ...options, ...(spec.more ? [spec.more] : [])].join(
    '\n\n',
  );
}

function parseArgsOptions(options: Options) {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => {
      const fallback = o.multiple ? [] : o.type === 'boolean' ? false : o.default;
      return [
        name,
        {
          type: o.type,
          multiple: o.multiple ?? false,
          ...(fallback === undefined ? {} : { default: fallback }),
        },
      ];
    }),
  ) as Record<
    string,
    { type: 'string' | 'boolean'; multiple: boolean; default?: string | boolean | string[] }
  >;
}

/** A command whose options, defaults and help come from one table. */
export function defineCommand<const T extends Options>(spec: CommandSpec<T>): Command {
  const usage = usageText(spec);
  const fail: Fail = (message) => {
    console.error(`edgewarden ${spec.name}: ${message}\n\n${usage}`);
    return 2;
  };
  const run = async (args: string[]): Promise<number> => {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        options: parseArgsOptions(spec.options),
        allowPositionals: spec.positionals ?? false,
      });
    } catch (error) {
      return fail((error as Error).message);
    }
    return spec.run(parsed.values as Values<T>, parsed.positionals, fail);
  };
  return { usage, run };
}
