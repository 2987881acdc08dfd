// The contract's names for GET /anomalies are the ones the agent serves (http/anomalyQuery.ts).
import {
  ANOMALY_NEXT_HEADER,
  anomalyCursor,
  parseAnomalyQuery,
  severityRank,
} from '../http/anomalyQuery.js';
import { anomalyNextCursorHeader, anomalyQueryParams as q, severityNames } from './anomalies.js';

test('the next-page header and the query names are the agent’s', () => {
  expect(anomalyNextCursorHeader).toBe(ANOMALY_NEXT_HEADER);
  const cursor = anomalyCursor({ timestamp: '2026-01-01T00:00:00.000Z', id: 7 });
  expect(
    parseAnomalyQuery({
      [q.since]: '2026-01-01T00:00:00Z',
      [q.minSeverity]: '4',
      [q.order]: 'asc',
      [q.after]: cursor,
      [q.limit]: '50',
    }),
  ).toEqual({
    ok: true,
    since: '2026-01-01T00:00:00.000Z',
    minSeverity: 4,
    order: 'asc',
    after: { timestamp: '2026-01-01T00:00:00.000Z', id: 7 },
    limit: 50,
  });
  severityNames.forEach((name, i) => expect(severityRank(name)).toBe(i + 1));
});
