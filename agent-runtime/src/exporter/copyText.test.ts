// The COPY text decoder against an encoder written from PostgreSQL's documentation of the
// format (sql-copy.html, "Text Format"): any text (tabs, newlines, backslashes, characters of
// two to four UTF-8 bytes) and NULLs come back as they went in, however the bytes are cut into
// chunks, and also when the encoder names bytes by the octal and hex escapes the docs allow.
import fc from 'fast-check';

import { CopyFormatError, CopyTextDecoder, decodeCopyColumn, type CopyRow } from './copyText.js';

/** "The following special backslash sequences are recognized by COPY FROM" (and written by COPY TO). */
const ESCAPED: Record<string, string> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};

/** Encodes as COPY TO does: NULL as \N, the special characters by their named escapes. */
function encodeColumn(value: string | null): string {
  if (value === null) return '\\N';
  return [...value].map((c) => ESCAPED[c] ?? c).join('');
}

/** Encodes every byte of a column's text as an octal (\NNN) or hex (\xHH) escape instead. */
function encodeColumnAsByteEscapes(value: string, hex: boolean[]): string {
  return [...Buffer.from(value, 'utf8')]
    .map((b, i) =>
      hex[i % hex.length]
        ? `\\x${b.toString(16).padStart(2, '0')}`
        : `\\${b.toString(8).padStart(3, '0')}`,
    )
    .join('');
}

const encodeRows = (rows: CopyRow[], column = encodeColumn): Buffer =>
  Buffer.from(rows.map((r) => `${r.map(column).join('\t')}\n`).join(''), 'utf8');

function decodeChunks(chunks: Buffer[]): CopyRow[] {
  const decoder = new CopyTextDecoder();
  const rows = chunks.flatMap((c) => decoder.push(c));
  decoder.end();
  return rows;
}

const awkward = fc.constantFrom(
  '\t',
  '\n',
  '\r',
  '\\',
  '\b',
  '\f',
  '\v',
  'N',
  '.',
  'x',
  '0',
  'é',
  '✓',
  '𝄞',
  '漢',
  ' ',
);
const text = fc.oneof(
  fc.string({ unit: awkward, maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
const column = fc.option(text, { nil: null, freq: 4 });
// Every row of one COPY has the same number of columns; a single empty column would make a
// row that is only a newline, which COPY writes too.
const rows = fc
  .integer({ min: 1, max: 8 })
  .chain((width) =>
    fc.array(fc.array(column, { minLength: width, maxLength: width }), { maxLength: 12 }),
  );

test('rows round-trip through the documented encoding in one chunk', () => {
  fc.assert(fc.property(rows, (rs) => expect(decodeChunks([encodeRows(rs)])).toEqual(rs)));
});

test('cut into two chunks at every byte, the rows come out the same', () => {
  fc.assert(
    fc.property(rows, (rs) => {
      const bytes = encodeRows(rs);
      for (let i = 0; i <= bytes.length; i++)
        expect(decodeChunks([bytes.subarray(0, i), bytes.subarray(i)])).toEqual(rs);
    }),
    { numRuns: 60 },
  );
});

test('cut into chunks of one byte each, multi-byte characters are decoded whole', () => {
  fc.assert(
    fc.property(rows, (rs) => {
      const bytes = encodeRows(rs);
      const chunks = [...bytes].map((b) => Buffer.from([b]));
      expect(decodeChunks(chunks)).toEqual(rs);
    }),
  );
});

test('bytes named by octal and hex escapes decode to the same text', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(text, { minLength: 3, maxLength: 3 }), { maxLength: 6 }),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
      fc.integer({ min: 1, max: 7 }),
      (rs, hex, chunkSize) => {
        const bytes = encodeRows(rs, (v) => encodeColumnAsByteEscapes(v!, hex));
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += chunkSize)
          chunks.push(bytes.subarray(i, i + chunkSize));
        expect(decodeChunks(chunks)).toEqual(rs);
      },
    ),
  );
});

test.each([
  ['\\N', null],
  ['\\\\N', '\\N'],
  ['a\\Nb', 'aNb'], // \N inside a column is an N ("any other backslashed character")
  ['\\101\\x42\\7', 'AB\x07'], // three octal digits, two hex digits, one octal digit
  ['\\1010', 'A0'], // at most three octal digits
  ['\\x4a1', 'J1'], // at most two hex digits
  ['\\xg', 'xg'], // \x without a hex digit is an x
  ['\\303\\251', 'é'], // two escaped bytes make one UTF-8 character
  ['\\q', 'q'],
  ['', ''],
])('column %j decodes to %j', (input, expected) => {
  expect(decodeCopyColumn(input)).toEqual(expected);
});

test('\\. alone ends the data', () => {
  expect(decodeChunks([Buffer.from('a\tb\n\\.\nc\td\n')])).toEqual([['a', 'b']]);
});

test('output ending inside a row is an error, not a short row', () => {
  const decoder = new CopyTextDecoder();
  expect(decoder.push(Buffer.from('a\tb\nc\t'))).toEqual([['a', 'b']]);
  expect(() => decoder.end()).toThrow(CopyFormatError);
});
