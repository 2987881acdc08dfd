// What a client of an agent's GET /anomalies may rely on (issue 21: the operator reads new
// anomalies for its Events): the query's names, the header with the next page's cursor, and the
// fields of an anomaly it reads. The agent's own parser is http/anomalyQuery.ts;
// anomalies.test.ts holds the two to the same names.

/** The query parameters of GET /anomalies. */
export const anomalyQueryParams = {
  /** Inclusive lower bound of the anomaly's timestamp (RFC 3339). */
  since: 'since',
  /** 1-5 (info..critical): the least severity served. */
  minSeverity: 'minSeverity',
  /** `asc`: oldest first. */
  order: 'order',
  /** "timestamp,id" of the last anomaly of the previous page (keyset cursor). */
  after: 'after',
  /** Most anomalies per page (at most 500). */
  limit: 'limit',
} as const;

/** Response header with the `after` cursor of the next page; absent on the last page. */
export const anomalyNextCursorHeader = 'X-Edgewarden-Next-Cursor';

/** The fields of a stored anomaly (GET /anomalies, one element) that a client reads. */
export interface AnomalySummary {
  id: number;
  /** The anomaly's time in the store; with id, the cursor ("timestamp,id"). */
  timestamp: string;
  device: string;
  type: string;
  /** 1 info, 2 low, 3 medium, 4 high, 5 critical. */
  severity: number;
  description: string;
  /** The rule that found it, when a rule did. */
  rule?: string | null;
}

/** The names of severities 1-5. */
export const severityNames = ['info', 'low', 'medium', 'high', 'critical'] as const;
