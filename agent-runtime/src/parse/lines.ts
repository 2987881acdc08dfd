// Reads a log file (or standard input, as "-") as a stream of lines, so a file of any size is
// read in constant memory. Accepts LF, CRLF and NUL-terminated lines (OpenWrt's log_trailer_null).
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

export function openInput(input: string): Readable {
  return input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 256 * 1024 });
}

// A line ends at LF, CRLF, or NUL (optionally followed by LF).
const LINE_END = /\r?\n|\0\n?/;

/**
 * Yields batches of [lineNumber, line] pairs, numbered from 1: each chunk read is split in one
 * go, so a million lines cost a few hundred awaits, not a million.
 */
export async function* readLines(stream: Readable): AsyncGenerator<[number, string][]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let n = 0;
  for await (const chunk of stream) {
    const parts = (
      carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer))
    ).split(LINE_END);
    carry = parts.pop() ?? '';
    if (parts.length > 0) yield parts.map((line) => [++n, line] as [number, string]);
  }
  const last = carry + decoder.end();
  if (last.length > 0) yield [[++n, last]];
}
