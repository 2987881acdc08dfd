// The query of GET /anomalies, checked the same way wherever it is served: by a running agent
// and by `edgewarden demo --serve`.
//   since        inclusive lower bound of the anomaly's timestamp (RFC 3339)
//   until        exclusive upper bound (RFC 3339)
//   minSeverity  1-5 or info..critical
//   limit        at least 1 (default 100); above ANOMALY_PAGE_LIMIT (500) it is clamped to it
//   order        desc (newest first, the default) or asc (oldest first)
//   after        keyset cursor "timestamp,id": the page continues strictly after that anomaly
//                in the chosen order (the last one of the previous page), so paging neither
//                skips nor repeats a row while the agent adds new ones.
//   status       comma list of statuses (open, acknowledged, resolved, false_positive, suppressed)
//   rule, device, type   exact match each
// Each filter is at most MAX_FILTER_CHARS characters and given once.
// Without until, order and after the answer is what it always was: the newest first.
// A full page (as many anomalies as the limit served) carries the `after` cursor of the next in
// ANOMALY_NEXT_HEADER; a page without it is the last.

import { ANOMALY_STATUSES, isAnomalyStatus, type AnomalyStatus } from '../store/anomalyStatus.js';

const SEVERITY_RANK: Record<string, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

/** Response header naming the order served: a client paging oldest first checks it is `asc`. */
export const ANOMALY_ORDER_HEADER = 'X-Edgewarden-Order';

/** Most anomalies one GET /anomalies serves; a larger `limit` is clamped to it (issue 20, H3). */
export const ANOMALY_PAGE_LIMIT = 500;

/** Response header with the `after` cursor of the next page, set when the page is full. */
export const ANOMALY_NEXT_HEADER = 'X-Edgewarden-Next-Cursor';

/** Longest value of a status, rule, device or type filter. */
export const MAX_FILTER_CHARS = 256;

/** The exact-match filters of GET /anomalies. */
export interface AnomalyMatch {
  status?: AnomalyStatus[];
  rule?: string;
  device?: string;
  type?: string;
}

export type AnomalyQuery =
  | ({
      ok: true;
      since?: string;
      until?: string;
      minSeverity: number;
      limit: number;
      order: 'asc' | 'desc';
      after?: { timestamp: string; id: number };
    } & AnomalyMatch)
  | { ok: false; error: string };

/** The status, rule, device and type filters, each only when given; or what is wrong with one. */
function parseMatch(query: Record<string, unknown>): AnomalyMatch | { error: string } {
  const match: AnomalyMatch = {};
  for (const name of ['status', 'rule', 'device', 'type'] as const) {
    const value = query[name];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.length > MAX_FILTER_CHARS)
      return { error: `${name}: one value of at most ${MAX_FILTER_CHARS} characters` };
    if (name !== 'status') {
      match[name] = value;
      continue;
    }
    const statuses = value.split(',');
    if (!statuses.every(isAnomalyStatus))
      return { error: `status: a comma list of ${ANOMALY_STATUSES.join(', ')}` };
    match.status = statuses;
  }
  return match;
}

const isTime = (s: string): boolean =>
  /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s));

export function parseAnomalyQuery(query: Record<string, unknown>): AnomalyQuery {
  const text = (name: string): string | undefined => {
    const value = query[name];
    return typeof value === 'string' ? value : undefined;
  };
  const since = text('since');
  const until = text('until');
  const afterText = text('after');
  const orderText = text('order') ?? 'desc';
  const limit = Number(query.limit ?? 100);
  const min = text('minSeverity') ?? '1';
  const minSeverity = SEVERITY_RANK[min] ?? Number(min);
  const match = parseMatch(query);
  if ('error' in match) return { ok: false, error: match.error };
  if (since !== undefined && Number.isNaN(Date.parse(since)))
    return { ok: false, error: 'since: not an RFC 3339 time' };
  if (until !== undefined && !isTime(until))
    return { ok: false, error: 'until: not an RFC 3339 time' };
  if (!Number.isInteger(limit) || limit < 1)
    return {
      ok: false,
      error: `limit: a whole number from 1 (more than ${ANOMALY_PAGE_LIMIT} serves ${ANOMALY_PAGE_LIMIT})`,
    };
  if (!Number.isInteger(minSeverity) || minSeverity < 1 || minSeverity > 5)
    return { ok: false, error: 'minSeverity: 1-5 or info..critical' };
  if (orderText !== 'asc' && orderText !== 'desc')
    return { ok: false, error: 'order: asc or desc' };
  let after: { timestamp: string; id: number } | undefined;
  if (afterText !== undefined) {
    const comma = afterText.lastIndexOf(',');
    const time = afterText.slice(0, comma);
    const id = Number(afterText.slice(comma + 1));
    if (
      comma < 0 ||
      !isTime(time) ||
      !/^\d+$/.test(afterText.slice(comma + 1)) ||
      !Number.isSafeInteger(id)
    )
      return {
        ok: false,
        error: 'after: "timestamp,id" of the last anomaly of the previous page',
      };
    // Kept as given: it is the store's own string, compared as stored.
    after = { timestamp: time, id };
  }
  return {
    ok: true,
    since: since && new Date(since).toISOString(),
    ...(until !== undefined ? { until: new Date(until).toISOString() } : {}),
    minSeverity,
    limit: Math.min(limit, ANOMALY_PAGE_LIMIT),
    order: orderText,
    ...(after ? { after } : {}),
    ...match,
  };
}

/** The cursor of an anomaly, for `after`. */
export function anomalyCursor(a: { timestamp: string; id: number }): string {
  return `${a.timestamp},${a.id}`;
}

export function severityRank(name: keyof typeof SEVERITY_RANK): number {
  return SEVERITY_RANK[name] ?? 4;
}
