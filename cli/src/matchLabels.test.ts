import { parseMatchLabels } from './matchLabels.js';

test('key=value pairs, prefixed keys, empty values, spaces around commas', () => {
  expect(parseMatchLabels('app.kubernetes.io/name=prometheus')).toEqual({
    'app.kubernetes.io/name': 'prometheus',
  });
  expect(parseMatchLabels('a=1, b.example.com/c=x_y.z ,d=')).toEqual({
    a: '1',
    'b.example.com/c': 'x_y.z',
    d: '',
  });
  expect(parseMatchLabels('')).toEqual({});
});

test.each([
  ['app', '"app" is not key=value'],
  ['=x', '"" is not a label key'],
  ['Bad_Prefix/x=y', '"Bad_Prefix/x" is not a label key'],
  ['a=-x', '"-x" is not a label value'],
  [`a=${'x'.repeat(64)}`, `"${'x'.repeat(64)}" is not a label value`],
  ['a!=b', '"a!" is not a label key'],
])('refuses %s', (text, message) => {
  expect(parseMatchLabels(text)).toBe(message);
});
