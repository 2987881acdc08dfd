// Which failures of a retried operation get a log line: the first, each change, one every
// ten minutes while the same repeats (with how many were not logged), and the recovery.
import { RepeatedFailures } from './repeatedFailures.js';

const MINUTE = 60_000;

test('the first failure, a changed one, and a repeat after the interval are logged', () => {
  const f = new RepeatedFailures(10 * MINUTE);
  expect(f.failed('a', 'timeout', 0)).toEqual({ log: true, kind: 'first', unlogged: 0, since: 0 });
  // The same failure every poll: not logged again within ten minutes.
  for (let t = 1; t < 20; t++) expect(f.failed('a', 'timeout', t * 30_000)).toEqual({ log: false });
  expect(f.failed('a', 'timeout', 10 * MINUTE)).toEqual({
    log: true,
    kind: 'repeated',
    unlogged: 19,
    since: 0,
  });
  // Another message is news at once, and keeps the time the key started failing.
  expect(f.failed('a', 'connection refused', 10 * MINUTE + 1)).toEqual({
    log: true,
    kind: 'changed',
    unlogged: 0,
    since: 0,
  });
  // Keys are apart: another pod's first failure is logged.
  expect(f.failed('b', 'timeout', 10 * MINUTE + 2)).toMatchObject({ log: true, kind: 'first' });
});

test('a success after failures is a recovery, once; then a failure is a first again', () => {
  const f = new RepeatedFailures(10 * MINUTE);
  expect(f.succeeded('a')).toBeUndefined();
  f.failed('a', 'timeout', 1000);
  f.failed('a', 'timeout', 2000);
  expect(f.succeeded('a')).toEqual({ failures: 2, since: 1000 });
  expect(f.succeeded('a')).toBeUndefined();
  expect(f.failed('a', 'timeout', 3000)).toMatchObject({ log: true, kind: 'first', since: 3000 });
});

test('a key not reported for an hour is forgotten (a pod deleted while it failed)', () => {
  const f = new RepeatedFailures(10 * MINUTE, 60 * MINUTE);
  f.failed('gone', 'timeout', 0);
  f.failed('other', 'timeout', 61 * MINUTE);
  expect(f.succeeded('gone')).toBeUndefined();
  expect(f.succeeded('other')).toEqual({ failures: 1, since: 61 * MINUTE });
});
