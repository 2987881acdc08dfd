// The anomalies table as the store's readers see it: a row as an anomaly, and the page query
// of list().
import type { Anomaly } from '../agents/types.js';
import type { AnomalyStatus } from './anomalyStatus.js';

export interface StoredAnomaly extends Omit<Anomaly, 'captures'> {
  id: number;
  /** The anomaly's time in the store (its first window's end): what list() orders and pages by. */
  timestamp: string;
  occurrences: number;
  lastSeen: string;
  status: AnomalyStatus;
  /** What whoever set the status said about it; null when nothing was said. */
  note: string | null;
  /** Who set the status (a user's name, `alertmanager`); null for a new anomaly. */
  statusBy: string | null;
  /** When the status was last set (RFC 3339); null for a new anomaly. */
  statusAt: string | null;
  /** The rule's groupBy captures of the finding (e.g. {source: '203.0.113.7'}); null when none. */
  captures: Record<string, string> | null;
  /** What was last sent to Alertmanager for it; null when nothing was. */
  alertState: 'firing' | 'resolved' | null;
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
  resolution_notes: string | null;
  status_by: string | null;
  status_at: string | null;
  captures: string | null;
  alert_state: string | null;
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
  /** Only anomalies in one of these statuses. */
  status?: readonly string[];
  /** Only anomalies of this rule, device or type (exact match each). */
  rule?: string;
  device?: string;
  type?: string;
}

/** The filter's exact matches as WHERE terms: status in the list, rule, device, type. */
function exactMatches(filter: AnomalyFilter, params: Record<string, string | number>): string[] {
  const where: string[] = [];
  if (filter.status !== undefined) {
    const names = filter.status.map((s, i) => {
      params[`status${i}`] = s;
      return `@status${i}`;
    });
    where.push(names.length ? `status IN (${names.join(', ')})` : '0');
  }
  const columns = { rule: 'rule', device: 'device_id', type: 'anomaly_type' } as const;
  for (const key of ['rule', 'device', 'type'] as const) {
    const value = filter[key];
    if (value === undefined) continue;
    where.push(`${columns[key]} = @${key}`);
    params[key] = value;
  }
  return where;
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
  where.push(...exactMatches(filter, params));
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
    status: r.status as AnomalyStatus,
    note: r.resolution_notes ?? null,
    statusBy: r.status_by ?? null,
    statusAt: r.status_at ?? null,
    captures: r.captures ? (JSON.parse(r.captures) as Record<string, string>) : null,
    alertState: (r.alert_state ?? null) as StoredAnomaly['alertState'],
    ...(r.rule === null ? {} : { rule: r.rule }),
    ...(r.remediation === null ? {} : { remediation: r.remediation }),
  };
}
