import { Readable } from 'node:stream';

import { readLines } from './lines.js';

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
