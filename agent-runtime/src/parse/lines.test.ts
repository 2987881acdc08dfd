import { Readable } from 'node:stream';

import { MAX_LINE, printable, readLines } from './lines.js';

async function all(chunks: (string | Buffer)[]): Promise<[number, string][]> {
  const out: [number, string][] = [];
  for await (const batch of readLines(Readable.from(chunks))) out.push(...batch);
  return out;
}

test('LF, CRLF and NUL line ends, numbered from 1, with a last line that has no end', async () => {
  expect(await all(['a\nb\r\nc\0d\0\ne'])).toEqual([
    [1, 'a'],
    [2, 'b'],
    [3, 'c'],
    [4, 'd'],
    [5, 'e'],
  ]);
});

test('lines split across chunks, and UTF-8 characters split across chunks, come out whole', async () => {
  const text = Buffer.from('first line\nsecond – line\nthird\n');
  const cut = text.indexOf(0x80); // inside the en dash
  expect(await all([text.subarray(0, 4), text.subarray(4, cut), text.subarray(cut)])).toEqual([
    [1, 'first line'],
    [2, 'second – line'],
    [3, 'third'],
  ]);
});

test('blank lines are lines (the parser reports them); an empty stream has none', async () => {
  expect(await all(['a\n\nb\n'])).toEqual([
    [1, 'a'],
    [2, ''],
    [3, 'b'],
  ]);
  expect(await all([])).toEqual([]);
});

test('a line longer than MAX_LINE comes out cut to MAX_LINE + 1 characters, its rest dropped unread', async () => {
  const long = 'y'.repeat(MAX_LINE + 10);
  expect(await all([long + '\nnext\n'])).toEqual([
    [1, long.slice(0, MAX_LINE + 1)],
    [2, 'next'],
  ]);
  // Without an end for many chunks: held at the cap, not accumulated; the line after it is whole.
  const chunk = 'z'.repeat(40_000);
  const lines = await all([...Array<string>(100).fill(chunk), 'its end\r\nafter', '\n']);
  expect(lines.map(([n, l]) => [n, l.length])).toEqual([
    [1, MAX_LINE + 1],
    [2, 5],
  ]);
  expect(lines[1]![1]).toBe('after');
  // An over-long last line without any end is yielded cut too.
  expect(await all([chunk, chunk])).toEqual([[1, chunk.repeat(2).slice(0, MAX_LINE + 1)]]);
});

test('printable: control, format and separator characters escaped, backslash doubled, length bounded', () => {
  expect(printable('a\x1b[31mb\x07\x7f\x9bc\u202ed\u2028e\\f')).toBe(
    'a\\x1b[31mb\\x07\\x7f\\x9bc\\u{202e}d\\u{2028}e\\\\f',
  );
  expect(printable('plain – ünïcode 😀')).toBe('plain – ünïcode 😀');
  expect(printable('x'.repeat(500), 120)).toBe('x'.repeat(120) + '…');
  expect(printable('\ud800 lone')).toBe('\\u{d800} lone');
  expect(printable('😀'.repeat(10), 3)).toBe('😀😀😀…');
});
