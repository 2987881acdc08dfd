// Reads a log file (or standard input, as "-") as a stream of lines, so a file of any size is
// read in constant memory. Accepts LF, CRLF and NUL-terminated lines (OpenWrt's log_trailer_null).
import { createReadStream } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';

/**
 * Opens a file, or standard input as "-", and resolves once it can be read, so a missing or
 * unreadable file is an error here, before any output.
 */
export async function openInput(input: string): Promise<Readable> {
  const stream =
    input === '-' ? process.stdin : createReadStream(input, { highWaterMark: 256 * 1024 });
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.once('readable', resolve);
    stream.once('end', resolve);
  });
  return stream;
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
