import type { Flags } from './args.js';
import { anomalyFilters, parseSeverity, parseStatuses } from './filters.js';

const flags = (f: Partial<Flags>): Flags => ({
  allNamespaces: false,
  output: 'table',
  watch: false,
  dryRun: false,
  noSuppress: false,
  ...f,
});
const now = new Date('2026-12-07T12:00:00Z');

test('the query each pod is asked, and the agent chosen', () => {
  expect(anomalyFilters(flags({}), now)).toEqual({
    ok: true,
    value: { query: { status: 'open,acknowledged' } },
  });
  expect(
    anomalyFilters(
      flags({
        severity: 'High',
        status: 'all',
        since: '7d',
        rule: 'auth.bruteforce',
        device: 'gw',
        agent: 'auth',
      }),
      now,
    ),
  ).toEqual({
    ok: true,
    value: {
      query: {
        minSeverity: '4',
        since: '2026-11-30T12:00:00.000Z',
        rule: 'auth.bruteforce',
        device: 'gw',
      },
      agent: 'auth',
    },
  });
  expect(anomalyFilters(flags({}), now, { status: 'all', since: '24h' })).toEqual({
    ok: true,
    value: { query: { since: '2026-12-06T12:00:00.000Z' } },
  });
});

test('severities and statuses', () => {
  expect(parseSeverity('critical')).toBe(5);
  expect(parseSeverity('2')).toBe(2);
  expect(parseSeverity('6')).toBeUndefined();
  expect(parseSeverity('severe')).toBeUndefined();
  expect(parseStatuses('resolved,false-positive')).toEqual({
    ok: true,
    value: 'resolved,false_positive',
  });
  expect(parseStatuses('all')).toEqual({ ok: true, value: undefined });
  expect(parseStatuses('closed')).toMatchObject({ ok: false });
});

test.each([
  [{ severity: 'bad' }, '--severity'],
  [{ status: 'open,closed' }, '--status: "closed"'],
  [{ since: '1w' }, '--since'],
  [{ rule: 'x'.repeat(257) }, '--rule'],
])('%j is refused', (f, message) => {
  const result = anomalyFilters(flags(f), now);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.error).toContain(message);
});
