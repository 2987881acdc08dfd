// Reads a log file (or standard input, as "-") line by line as a stream, so a file of any size
// is read in constant memory. Accepts LF, CRLF and NUL-terminated lines (OpenWrt's
// log_trailer_null).
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export function openInput(input: string): Readable {
  return input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 256 * 1024 });
}

/** Yields [lineNumber, line] pairs, numbered from 1. */
export async function* readLines(stream: Readable): AsyncGenerator<[number, string]> {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    if (line.includes('\0')) {
      for (const part of line.split('\0')) if (part.length > 0) yield [++n, part];
    } else {
      yield [++n, line];
    }
  }
}
