// The query of GET /anomalies (since, minSeverity, limit), checked the same way wherever it
// is served: by a running agent and by `edgewarden demo --serve`.

const SEVERITY_RANK: Record<string, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

export type AnomalyQuery =
  { ok: true; since?: string; minSeverity: number; limit: number } | { ok: false; error: string };

export function parseAnomalyQuery(query: Record<string, unknown>): AnomalyQuery {
  const since = typeof query.since === 'string' ? query.since : undefined;
  const limit = Number(query.limit ?? 100);
  const min = typeof query.minSeverity === 'string' ? query.minSeverity : '1';
  const minSeverity = SEVERITY_RANK[min] ?? Number(min);
  if (since !== undefined && Number.isNaN(Date.parse(since)))
    return { ok: false, error: 'since: not an RFC 3339 time' };
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    return { ok: false, error: 'limit: 1 to 10000' };
  if (!Number.isInteger(minSeverity) || minSeverity < 1 || minSeverity > 5)
    return { ok: false, error: 'minSeverity: 1-5 or info..critical' };
  return { ok: true, since: since && new Date(since).toISOString(), minSeverity, limit };
}

export function severityRank(name: keyof typeof SEVERITY_RANK): number {
  return SEVERITY_RANK[name] ?? 4;
}
