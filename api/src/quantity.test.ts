import { quantityBytes } from './quantity.js';

test('sizes in bytes, binary and decimal suffixes, numbers as bytes', () => {
  expect(quantityBytes('100Mi')).toBe(100 * 1024 ** 2);
  expect(quantityBytes('1G')).toBe(1e9);
  expect(quantityBytes('1.5Ki')).toBe(1536);
  expect(quantityBytes('268435456')).toBe(268435456);
  expect(quantityBytes(4096)).toBe(4096);
  expect(quantityBytes(undefined)).toBeUndefined();
});

test('negative, zero and malformed quantities are refused, as the schema refuses them (issue 20)', () => {
  for (const bad of ['-1', '-100Mi', ' -5Gi', '-0', '0', '0Mi', '--1', 'big', '', '1 Mi'])
    expect(quantityBytes(bad)).toBeUndefined();
  for (const bad of [-1, -0.5, 0, -Infinity, NaN]) expect(quantityBytes(bad)).toBeUndefined();
});
