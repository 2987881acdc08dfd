// The anomalies table as the store's readers see it: a row as an anomaly, and the page query
// of list().
import type { Anomaly } from '../agents/types.js';

export interface StoredAnomaly extends Anomaly {
  id: number;
  /** The anomaly's time in the store (its first window's end): what list() orders and pages by. */
  timestamp: string;
  occurrences: number;
  lastSeen: string;
  status: string;
}

export interface Row {
  id: number;
  timestamp: string;
  agent_name: string;
  device_id: string;
  anomaly_type: string;
  severity: number;
  confidence: number;
  score: number;
  description: string;
  features: string;
  evidence: string;
  window_start: string;
  window_end: string;
  occurrences: number;
  last_seen: string;
  status: string;
  rule: string | null;
  remediation: string | null;
}

export interface AnomalyFilter {
  /** Inclusive lower bound of the anomaly's timestamp (RFC 3339 UTC, as stored). */
  since?: string;
  /** Exclusive upper bound. */
  until?: string;
  minSeverity?: number;
  limit?: number;
  /** Newest first (the default) or oldest first. */
  order?: 'asc' | 'desc';
  /** Continue after this anomaly (in the chosen order). */
  after?: { timestamp: string; id: number };
}

/**
 * The query of one page of anomalies: timestamp in [since, until), at least minSeverity,
 * in the chosen order, strictly after the `after` cursor.
 */
export function pageQuery(filter: AnomalyFilter): {
  sql: string;
  params: Record<string, string | number>;
} {
  const asc = filter.order === 'asc';
  const where = ['timestamp >= @since', 'severity >= @minSeverity'];
  const params: Record<string, string | number> = {
    since: filter.since ?? '',
    minSeverity: filter.minSeverity ?? 1,
    limit: filter.limit ?? 1000,
  };
  if (filter.until !== undefined) {
    where.push('timestamp < @until');
    params.until = filter.until;
  }
  if (filter.after !== undefined) {
    where.push(
      asc
        ? '(timestamp > @afterTime OR (timestamp = @afterTime AND id > @afterId))'
        : '(timestamp < @afterTime OR (timestamp = @afterTime AND id < @afterId))',
    );
    params.afterTime = filter.after.timestamp;
    params.afterId = filter.after.id;
  }
  const dir = asc ? 'ASC' : 'DESC';
  return {
    sql: `SELECT * FROM anomalies WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, id ${dir} LIMIT @limit`,
    params,
  };
}

/** A row as an anomaly: JSON columns parsed, a rule and remediation only when stored. */
export function storedAnomalyOf(r: Row): StoredAnomaly {
  return {
    id: r.id,
    timestamp: r.timestamp,
    agent: r.agent_name as Anomaly['agent'],
    device: r.device_id,
    type: r.anomaly_type,
    severity: r.severity as Anomaly['severity'],
    confidence: r.confidence,
    score: r.score,
    description: r.description,
    features: JSON.parse(r.features) as Record<string, number>,
    evidence: JSON.parse(r.evidence) as (number | string)[],
    windowStart: r.window_start,
    windowEnd: r.window_end,
    occurrences: r.occurrences,
    lastSeen: r.last_seen,
    status: r.status,
    ...(r.rule === null ? {} : { rule: r.rule }),
    ...(r.remediation === null ? {} : { remediation: r.remediation }),
  };
}
