// The pure part of a watch: the stream cut into lines wherever the chunks fall, each line read
// as an event, an ERROR event's Status as an ApiError.
import { LineSplitter, parseWatchEvent, watchEventError } from './watch.js';

const event = (type: string, name: string): string =>
  JSON.stringify({ type, object: { metadata: { name, resourceVersion: '7' } } });

test('whole lines in one chunk come out one by one', () => {
  const s = new LineSplitter();
  expect(s.push(`${event('ADDED', 'a')}\n${event('MODIFIED', 'b')}\n`)).toEqual([
    event('ADDED', 'a'),
    event('MODIFIED', 'b'),
  ]);
  expect(s.end()).toEqual([]);
});

test('a line split across chunks comes out once it is complete', () => {
  const s = new LineSplitter();
  const line = event('ADDED', 'split');
  expect(s.push(line.slice(0, 10))).toEqual([]);
  expect(s.push(line.slice(10, 30))).toEqual([]);
  expect(s.push(`${line.slice(30)}\n${event('DELETED', 'x').slice(0, 5)}`)).toEqual([line]);
  expect(s.push(`${event('DELETED', 'x').slice(5)}\n`)).toEqual([event('DELETED', 'x')]);
});

test('any cut of a stream gives the same lines', () => {
  const lines = [event('ADDED', 'a'), event('BOOKMARK', 'b'), event('MODIFIED', 'ü-ñ-字')];
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  for (let size = 1; size <= bytes.length; size += 7) {
    const s = new LineSplitter();
    const out: string[] = [];
    for (let i = 0; i < bytes.length; i += size) out.push(...s.push(bytes.subarray(i, i + size)));
    out.push(...s.end());
    expect(out).toEqual(lines);
  }
});

test('a multi-byte character cut between chunks is put back together', () => {
  const s = new LineSplitter();
  const bytes = Buffer.from('{"name":"字"}\n');
  const cut = bytes.indexOf(Buffer.from('字')) + 1; // inside the character's three bytes
  expect(s.push(bytes.subarray(0, cut))).toEqual([]);
  expect(s.push(bytes.subarray(cut))).toEqual(['{"name":"字"}']);
});

test('empty lines and carriage returns are dropped; a last line without newline comes at the end', () => {
  const s = new LineSplitter();
  expect(s.push('a\r\n\n\r\nb')).toEqual(['a']);
  expect(s.end()).toEqual(['b']);
});

test('a line is parsed into its type and object', () => {
  expect(parseWatchEvent(event('BOOKMARK', 'b'))).toEqual({
    type: 'BOOKMARK',
    object: { metadata: { name: 'b', resourceVersion: '7' } },
  });
});

test('a line that is not an event is an error', () => {
  expect(() => parseWatchEvent('{"type":"ADD')).toThrow(/not JSON/);
  expect(() => parseWatchEvent('{"type":"SOMETHING","object":{}}')).toThrow(/not an event/);
  expect(() => parseWatchEvent('{"type":"ADDED"}')).toThrow(/not an event/);
  expect(() => parseWatchEvent('null')).toThrow(/not an event/);
});

test("an ERROR event's Status becomes an ApiError with its code and message", () => {
  const gone = watchEventError(
    {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'too old resource version: 12 (345)',
      reason: 'Expired',
      code: 410,
    },
    'watch configmaps',
  );
  expect(gone.status).toBe(410);
  expect(gone.gone).toBe(true);
  expect(gone.reason).toBe('Expired');
  expect(gone.message).toBe('watch configmaps: 410 Expired: too old resource version: 12 (345)');
  const other = watchEventError({ kind: 'Status', message: 'boom', reason: 'InternalError' });
  expect(other.status).toBe(500);
  expect(other.gone).toBe(false);
});
