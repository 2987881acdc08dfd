import { age, humanDuration, parseSpan } from './time.js';

test('ages as kubectl writes them', () => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [45 * s, '45s'],
    [119 * s, '119s'],
    [2 * m, '2m'],
    [2 * m + 30 * s, '2m30s'],
    [15 * m, '15m'],
    [179 * m, '179m'],
    [3 * h, '3h'],
    [3 * h + 5 * m, '3h5m'],
    [20 * h, '20h'],
    [47 * h, '47h'],
    [3 * d, '3d'],
    [3 * d + 4 * h, '3d4h'],
    [30 * d, '30d'],
    [730 * d + 10 * d, '2y10d'],
    [9 * 365 * d, '9y'],
  ];
  for (const [ms, text] of cases) expect([ms, humanDuration(ms)]).toEqual([ms, text]);
  const now = new Date('2026-12-07T12:00:00Z');
  expect(age('2026-12-07T11:55:00Z', now)).toBe('5m');
  expect(age(undefined, now)).toBe('<unknown>');
  expect(age('not a time', now)).toBe('<unknown>');
});

test('spans: the API duration format and days', () => {
  expect(parseSpan('10s')).toBe(10_000);
  expect(parseSpan('1h')).toBe(3_600_000);
  expect(parseSpan('7d')).toBe(7 * 86_400_000);
  expect(parseSpan('1d12h')).toBe(36 * 3_600_000);
  for (const bad of ['', '0s', '0d', '1w', 'd', '1d2', '-1h'])
    expect(parseSpan(bad)).toBeUndefined();
});
