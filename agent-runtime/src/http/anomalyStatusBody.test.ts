// The body of POST /anomalies/:id/status, checked without a server.
import { anomalyIdOf, parseStatusChange } from './anomalyStatusBody.js';

test('a status, and a note and who when given', () => {
  expect(parseStatusChange({ status: 'acknowledged' })).toEqual({
    ok: true,
    change: { status: 'acknowledged' },
  });
  expect(parseStatusChange({ status: 'false_positive', note: 'our scanner', by: 'ana' })).toEqual({
    ok: true,
    change: { status: 'false_positive', note: 'our scanner', by: 'ana' },
  });
  expect(
    parseStatusChange({ status: 'open', note: 'n'.repeat(1024), by: 'b'.repeat(256) }).ok,
  ).toBe(true);
});

test.each([
  [undefined, /^the body must be a JSON object/],
  [[{ status: 'open' }], /^the body must be a JSON object/],
  ['open', /^the body must be a JSON object/],
  [{}, /^status: required, one of open, acknowledged, resolved, false_positive$/],
  [{ status: 'closed' }, /^status: required/],
  [{ status: 'suppressed' }, /^status: suppressed is set by the agent/],
  [{ status: 'open', note: 7 }, /^note: a string of at most 1024 characters$/],
  [{ status: 'open', note: 'n'.repeat(1025) }, /^note:/],
  [{ status: 'open', by: 'b'.repeat(257) }, /^by: a string of at most 256 characters$/],
  [{ status: 'open', notes: 'typo' }, /^notes: unknown field/],
])('%j is refused, naming the field', (body, message) => {
  const parsed = parseStatusChange(body);
  expect(parsed.ok).toBe(false);
  expect(!parsed.ok && parsed.message).toMatch(message);
});

test('anomaly ids are positive whole numbers', () => {
  expect(anomalyIdOf('17')).toBe(17);
  for (const text of ['0', '-1', '1.5', 'abc', '017', '', '99999999999999999'])
    expect(anomalyIdOf(text)).toBeUndefined();
});
