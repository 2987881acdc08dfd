// What an agent pod's API answers, as the plugin reads it (GET /anomalies, GET /anomalies/:id,
// POST /anomalies/:id/status: the agent's StoredAnomaly, docs/operating.md), and what it lists
// of the cluster. Types only.

/** An anomaly as the agent's API serves it. */
export interface WireAnomaly {
  id: number;
  timestamp: string;
  /** The analysis agent (auth, dns, ...). */
  agent: string;
  device: string;
  type: string;
  severity: number;
  confidence: number;
  score: number;
  description: string;
  features: Record<string, number>;
  evidence: (number | string)[];
  windowStart: string;
  windowEnd: string;
  occurrences: number;
  lastSeen: string;
  status: string;
  note?: string | null;
  statusBy?: string | null;
  statusAt?: string | null;
  captures?: Record<string, string> | null;
  rule?: string;
  remediation?: string;
}

/** An anomaly found through the cluster: where it lives, besides what the agent said. */
export interface ListedAnomaly {
  namespace: string;
  /** The AnalysisAgent's name. */
  analysisAgent: string;
  pod: string;
  anomaly: WireAnomaly;
}

export const STATUSES = ['open', 'acknowledged', 'resolved', 'false_positive', 'suppressed'];

export const SEVERITY_NAMES = ['', 'info', 'low', 'medium', 'high', 'critical'];

export const severityName = (n: number): string => SEVERITY_NAMES[n] ?? String(n);
