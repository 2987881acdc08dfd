// `edgewarden parse`: reads syslog lines in any shape OpenWrt and its collectors produce and
// prints one JSON object per line. Unreadable lines go to stderr with their line number; they
// are counted and skipped, never fatal.
import { once } from 'node:events';
import type { Readable } from 'node:stream';

import { openInput, printable, readLines } from '../../agent-runtime/src/parse/lines.js';
import { SyslogParser } from '../../agent-runtime/src/parse/syslog.js';
import { defineCommand, type Values } from './options.js';

const options = {
  input: {
    type: 'string',
    value: 'FILE|-',
    default: '-',
    help: 'file to read, or - for standard input',
  },
  host: {
    type: 'string',
    value: 'NAME',
    help: "host for lines that name none (logread's local format)",
  },
  timezone: {
    type: 'string',
    value: 'ZONE',
    help: 'IANA zone of timestamps that carry none (default UTC)',
  },
  'reference-time': {
    type: 'string',
    value: 'TIME',
    help: 'when the lines were received, RFC 3339; sets the year of lines that have none (default now)',
  },
} as const;

async function run(values: Values<typeof options>): Promise<number> {
  const reference = values['reference-time'];
  if (reference !== undefined && Number.isNaN(Date.parse(reference))) {
    console.error(`edgewarden parse: --reference-time: not an RFC 3339 time: ${reference}`);
    return 2;
  }
  let parser: SyslogParser;
  try {
    parser = new SyslogParser({
      defaultHost: values.host,
      timeZone: values.timezone,
      referenceTime: reference === undefined ? undefined : new Date(reference),
    });
  } catch {
    console.error(`edgewarden parse: --timezone: unknown time zone: ${values.timezone}`);
    return 2;
  }

  let input: Readable;
  try {
    input = await openInput(values.input);
  } catch (error) {
    console.error(
      `edgewarden parse: --input: cannot read ${values.input}: ${(error as Error).message}`,
    );
    return 2;
  }

  let parsed = 0;
  let unreadable = 0;
  let buffer = '';
  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const ok = process.stdout.write(buffer);
    buffer = '';
    if (!ok) await once(process.stdout, 'drain');
  };
  for await (const batch of readLines(input))
    for (const [n, line] of batch) {
      const outcome = parser.parse(line);
      if (outcome.ok) {
        parsed++;
        buffer += JSON.stringify(outcome.record) + '\n';
        if (buffer.length > 64 * 1024) await flush();
      } else {
        unreadable++;
        process.stderr.write(`line ${n}: ${printable(outcome.reason)}: ${printable(line)}\n`);
      }
    }
  await flush();
  process.stderr.write(`parsed ${parsed} lines, ${unreadable} unreadable\n`);
  return 0;
}

export const parseCommand = defineCommand({
  name: 'parse',
  synopsis: ['edgewarden parse [--input FILE|-] [options]'],
  about: `Parses syslog lines (OpenWrt logread, RFC 3164 with or without <PRI>, RFC 3339 timestamps,
RFC 5424) and prints one JSON object per line: timestamp (RFC 3339, UTC), host, facility,
level, program, pid, message. Unreadable lines go to stderr as "line N: reason".`,
  options,
  run,
});
