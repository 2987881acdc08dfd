import { MAX_REFUSAL_MESSAGE, refusalText } from './refusalText.js';

const SECRET = 'hunter2-SuperSecret!';

test.each([
  // Node's JSON.parse, as an older agent passed it on.
  `the manifest of model v2 is not JSON: Unexpected token 'h', "${SECRET}" is not valid JSON`,
  `the manifest of model v2 is not JSON: Unexpected token 'h', "${SECRET.slice(0, 10)}"... is not valid JSON`,
  // The schema validator's value quotes.
  `the manifest of model v2: version: Invalid value: "${SECRET}": must match pattern`,
  `the manifest of model v2: agent: Unsupported value: "${SECRET}": supported values: "dns"`,
  // An unterminated quote (cut short) hides the rest.
  `x: "${SECRET}`,
])('quoted source text is withheld: %s', (message) => {
  const text = refusalText(message);
  for (let i = 0; i + 4 <= SECRET.length; i++) expect(text).not.toContain(SECRET.slice(i, i + 4));
});

test('a message without quotes is kept as it is', () => {
  const message =
    'the manifest of model v2 has other features than the offer (spec.features: queries): the same names in the same order are needed';
  expect(refusalText(message)).toBe(message);
});

test('a long message is cut', () => {
  const text = refusalText('x'.repeat(5000));
  expect(text).toHaveLength(MAX_REFUSAL_MESSAGE);
  expect(text.endsWith('…')).toBe(true);
});
