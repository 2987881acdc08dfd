// An anomaly's lifecycle (issue 21): the statuses it can have and which changes are allowed.
// Pure: the store applies it (anomalyTriage.ts), the HTTP route checks a client's body with it.

/** Every status a stored anomaly can have; `open` is what a new anomaly gets. */
export const ANOMALY_STATUSES = [
  'open',
  'acknowledged',
  'resolved',
  'false_positive',
  'suppressed',
] as const;

export type AnomalyStatus = (typeof ANOMALY_STATUSES)[number];

/**
 * The statuses a client may set. `suppressed` is the agent's own: it follows an Alertmanager
 * silence that matches the anomaly's alert (markSilenced), never a request.
 */
export const CLIENT_STATUSES: readonly AnomalyStatus[] = ANOMALY_STATUSES.filter(
  (s) => s !== 'suppressed',
);

/** The statuses a repeat of the same finding counts on instead of adding a row. */
export const REPEATABLE_STATUSES: readonly AnomalyStatus[] = ['open', 'acknowledged'];

/** For each status, the statuses it may become (setting the one it has is always allowed). */
const ALLOWED_FROM: Readonly<Record<AnomalyStatus, readonly AnomalyStatus[]>> = {
  open: ['acknowledged', 'resolved', 'false_positive'],
  acknowledged: ['resolved', 'false_positive', 'open'],
  resolved: ['false_positive', 'open'],
  false_positive: ['open'],
  suppressed: ['resolved', 'false_positive', 'open'],
};

export function isAnomalyStatus(value: unknown): value is AnomalyStatus {
  return typeof value === 'string' && (ANOMALY_STATUSES as readonly string[]).includes(value);
}

/** Whether an anomaly in status `from` may be set to `to`. */
export function transitionAllowed(from: AnomalyStatus, to: AnomalyStatus): boolean {
  return from === to || ALLOWED_FROM[from].includes(to);
}

/** The statuses an anomaly in `from` may become, for a refusal's message. */
export function allowedTargets(from: AnomalyStatus): readonly AnomalyStatus[] {
  return ALLOWED_FROM[from];
}
