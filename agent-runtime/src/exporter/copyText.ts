// PostgreSQL's COPY text format, decoded: the bytes of `COPY ... TO STDOUT` (in whatever chunks
// the connection delivers them) into rows of text or null, as
// https://www.postgresql.org/docs/current/sql-copy.html ("Text Format") describes them: rows end
// with a newline, columns are separated by a tab, `\N` alone is NULL, and a backslash starts
// one of the escapes \\ \b \f \n \r \t \v, \NNN (octal) or \xHH (hex), the last two naming a
// byte. Chunks are cut at the last newline byte before any text is decoded, so a UTF-8
// character split across two chunks is decoded whole (no byte of a multi-byte UTF-8 character
// is a newline, tab or backslash, so cutting and splitting on those bytes is safe).

const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;

/** One row: each column as text, or null for SQL NULL. */
export type CopyRow = (string | null)[];

/** The bytes that a backslash and one letter stand for. */
const NAMED_ESCAPES: Record<string, number> = {
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
};

const isOctal = (c: number): boolean => c >= 0x30 && c <= 0x37;
const isHex = (c: number): boolean =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

export class CopyFormatError extends Error {
  readonly code = 'EW_COPY_FORMAT';
  constructor(message: string) {
    super(message);
    this.name = 'CopyFormatError';
  }
}

/**
 * Decodes one column's text as COPY wrote it. Escapes work on bytes (an octal or hex escape
 * names one byte, possibly part of a UTF-8 character), so a column holding a backslash is
 * taken back to its bytes, unescaped, and decoded again; columns without one (nearly all)
 * are returned as they are.
 */
export function decodeCopyColumn(text: string): string | null {
  if (text === '\\N') return null;
  if (!text.includes('\\')) return text;
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c !== BACKSLASH) {
      out[n++] = c;
      continue;
    }
    const next = bytes[i + 1];
    if (next === undefined) {
      // A lone backslash at the end of a column: PostgreSQL never writes one; keep it.
      out[n++] = c;
      continue;
    }
    const letter = String.fromCharCode(next);
    if (NAMED_ESCAPES[letter] !== undefined) {
      out[n++] = NAMED_ESCAPES[letter];
      i++;
    } else if (isOctal(next)) {
      // \N, \NN or \NNN: one to three octal digits.
      let value = 0;
      let j = i + 1;
      while (j < bytes.length && j < i + 4 && isOctal(bytes[j]!))
        value = value * 8 + bytes[j++]! - 0x30;
      out[n++] = value & 0xff;
      i = j - 1;
    } else if (next === 0x78 && i + 2 < bytes.length && isHex(bytes[i + 2]!)) {
      // \xH or \xHH: one or two hex digits.
      let j = i + 2;
      let value = 0;
      while (j < bytes.length && j < i + 4 && isHex(bytes[j]!))
        value = value * 16 + parseInt(String.fromCharCode(bytes[j++]!), 16);
      out[n++] = value;
      i = j - 1;
    } else {
      // "Any other backslashed character that is not mentioned in the above table will be
      // taken to represent itself."
      out[n++] = next;
      i++;
    }
  }
  return out.toString('utf8', 0, n);
}

/** Decodes one row (a line without its newline). */
export function decodeCopyLine(line: string): CopyRow {
  return line.split('\t').map(decodeCopyColumn);
}

/**
 * Turns chunks of COPY text output into rows. Holds at most the bytes of one unfinished row
 * between chunks.
 */
export class CopyTextDecoder {
  private rest: Buffer = Buffer.alloc(0);
  private ended = false;

  /** The rows that `chunk` completes (with what earlier chunks left unfinished). */
  push(chunk: Buffer): CopyRow[] {
    if (this.ended) return [];
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0) {
      this.rest = Buffer.from(data); // a copy: the chunk's buffer may be reused or large
      return [];
    }
    this.rest = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : Buffer.alloc(0);
    const rows: CopyRow[] = [];
    for (const line of data.toString('utf8', 0, last).split('\n')) {
      // "\." alone marks the end of data (older servers and files; the protocol ends otherwise).
      if (line === '\\.') {
        this.ended = true;
        this.rest = Buffer.alloc(0);
        break;
      }
      rows.push(decodeCopyLine(line));
    }
    return rows;
  }

  /** At the end of the data: an unfinished row means the output was cut short. */
  end(): void {
    if (this.rest.length > 0)
      throw new CopyFormatError(
        `COPY output ended inside a row (${this.rest.length} bytes without a newline)`,
      );
  }
}
