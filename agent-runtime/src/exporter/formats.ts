// The three output formats, as text pieces a file is made of: a head, each record (with its
// separator), and a tail. A file is always head + records + tail, so its size before
// compression is known record by record, and a file cut back to a checkpoint is a prefix of
// the same bytes.
//   json   one JSON array per file ("[\n", records joined by ",\n", "\n]\n")
//   jsonl  one JSON object per line
//   csv    RFC 4180: a header row, CRLF line ends, a field quoted when it holds a comma, a
//          double quote, CR or LF (quotes doubled); objects and arrays as JSON, null as empty.
// CSV is written here rather than with csv-stringify: for flat records of known columns the
// quoting rule is one regular expression, and a per-record string keeps the byte accounting
// (and the speed) in our hands; csv-parse reads the files back in the tests.

export type Format = 'json' | 'jsonl' | 'csv';

export interface Encoder {
  /** File extension, without compression's ".gz". */
  readonly extension: string;
  head(): string;
  /** One record; `first` says whether it is the file's first (JSON needs no comma before it). */
  record(value: Record<string, unknown>, first: boolean): string;
  tail(): string;
}

const NEEDS_QUOTES = /[",\r\n]/;
/** Characters JSON must escape (and lone surrogates, which JSON.stringify escapes too). */
// eslint-disable-next-line no-control-regex -- the control characters are what it finds
const JSON_UNSAFE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON_UNSAFE.test(value) ? JSON.stringify(value) : `"${value}"`;
  return value === undefined ? 'null' : JSON.stringify(value);
}

/**
 * A record as a JSON object with the fields in the given order: what JSON.stringify gives
 * for records of exactly these keys, built from precomputed key prefixes (a third faster).
 */
function jsonObject(fields: readonly string[]): (value: Record<string, unknown>) => string {
  const prefixes = fields.map((f, i) => `${i === 0 ? '{' : ','}${JSON.stringify(f)}:`);
  return (value) => {
    let out = '';
    for (let i = 0; i < fields.length; i++) out += prefixes[i]! + jsonValue(value[fields[i]!]);
    return `${out}}`;
  };
}

export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint'
        ? String(value)
        : JSON.stringify(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function encoderFor(format: Format, fields: readonly string[]): Encoder {
  switch (format) {
    case 'jsonl': {
      const object = jsonObject(fields);
      return {
        extension: 'jsonl',
        head: () => '',
        record: (v) => `${object(v)}\n`,
        tail: () => '',
      };
    }
    case 'json': {
      const object = jsonObject(fields);
      return {
        extension: 'json',
        head: () => '[\n',
        record: (v, first) => `${first ? '' : ',\n'}${object(v)}`,
        tail: () => '\n]\n',
      };
    }
    case 'csv': {
      const header = `${fields.map(csvField).join(',')}\r\n`;
      return {
        extension: 'csv',
        head: () => header,
        record: (v) => {
          let line = '';
          for (let i = 0; i < fields.length; i++) {
            if (i > 0) line += ',';
            line += csvField(v[fields[i]!]);
          }
          return `${line}\r\n`;
        },
        tail: () => '',
      };
    }
  }
}
