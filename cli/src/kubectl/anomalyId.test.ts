import { formatAnomalyId, parseAnomalyId } from './anomalyId.js';

test('<pod>:<id>: the pod and the id', () => {
  expect(parseAnomalyId('auth-agent-0:17')).toEqual({
    ok: true,
    value: { pod: 'auth-agent-0', id: 17 },
  });
  expect(parseAnomalyId('lab-dns-agent-12:3')).toEqual({
    ok: true,
    value: { pod: 'lab-dns-agent-12', id: 3 },
  });
  expect(formatAnomalyId('auth-agent-0', 17)).toBe('auth-agent-0:17');
});

test.each(['17', 'auth-agent-0', 'auth:17', 'auth-0:0', 'auth-0:x', 'Auth-0:1', 'auth-0:1:2', ''])(
  '%j is not an ID',
  (text) => {
    const parsed = parseAnomalyId(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toContain('<pod>:<id>');
  },
);
