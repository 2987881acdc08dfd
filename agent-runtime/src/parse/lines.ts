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
 * The longest line the reader holds, in characters: the parser refuses longer ones (its 64 KiB
 * check), so of a longer line only its first `MAX_LINE + 1` characters are kept and yielded
 * (still too long, so counted and skipped as before); the rest, up to its end, is dropped as it
 * arrives. A line without an end therefore costs 64 KiB, not its size (issue 20).
 */
export const MAX_LINE = 64 * 1024;

/**
 * Yields batches of [lineNumber, line] pairs, numbered from 1: each chunk read is split in one
 * go, so a million lines cost a few hundred awaits, not a million. A line longer than
 * `MAX_LINE` comes out cut to `MAX_LINE + 1` characters.
 */
export async function* readLines(stream: Readable): AsyncGenerator<[number, string][]> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let dropping = false; // inside an over-long line: its rest is dropped up to its end
  let n = 0;
  for await (const chunk of stream) {
    let text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    if (dropping) {
      const end = LINE_END.exec(text);
      if (end === null) continue;
      dropping = false;
      text = text.slice(end.index + end[0].length);
      yield [[++n, carry]];
      carry = '';
    }
    const parts = (carry + text).split(LINE_END);
    carry = parts.pop() ?? '';
    if (carry.length > MAX_LINE) {
      carry = carry.slice(0, MAX_LINE + 1);
      dropping = true;
    }
    if (parts.length > 0) yield parts.map((line) => [++n, cut(line)] as [number, string]);
  }
  const last = carry + (dropping ? '' : decoder.end());
  if (last.length > 0) yield [[++n, last]];
}

function cut(line: string): string {
  return line.length > MAX_LINE ? line.slice(0, MAX_LINE + 1) : line;
}

// Control, format (bidi overrides), separator and unpaired surrogate characters: what a
// terminal or a log viewer may act on instead of showing.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;

/**
 * A piece of an input line fit to print in a message: at most `max` characters of it, with
 * control and other unprintable characters written as \xNN or \u{N} (and \ as \\), so a log
 * line can never move a terminal's cursor, retitle it or hide text.
 */
export function printable(text: string, max = 120): string {
  const head = [...text.slice(0, max * 2)].slice(0, max).join('');
  const escaped = head.replace(UNPRINTABLE, (c) => {
    if (c === '\\') return '\\\\';
    const code = c.codePointAt(0)!;
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
  return head.length < text.length ? `${escaped}…` : escaped;
}
