// What the agent tells Alertmanager (API v2), worked out without any I/O: one alert per stored
// anomaly, with labels that identify it (the same labels every cycle, so Alertmanager keeps one
// alert by their fingerprint and renews it) and annotations that explain it. An anomaly that is
// open or acknowledged and was seen within resolveAfter fires, until a little after the next
// cycles (endsAt: now + 3 intervals, so a dead agent's alerts end by themselves); any other is
// resolved (endsAt: now). And back: which of our anomalies a silence holds.
import { SEVERITY_NAMES } from './notifier.js';

export const ALERT_NAME = 'EdgewardenAnomaly';

/** Where the runbook_url of an anomaly points when spec.notifications.alertmanager names no base. */
const DOCS = 'https://github.com/edgewarden/edgewarden/blob/main/docs';

/** Evidence refs an alert carries: enough to find the lines, short enough for a notification. */
const EVIDENCE_IN_ALERT = 10;

/** Statuses of the store that keep an alert firing; any other resolves it. */
const FIRING_STATUSES: ReadonlySet<string> = new Set(['open', 'acknowledged']);

/** The fields of a stored anomaly an alert is made of (StoredAnomaly has them all). */
export interface AlertableAnomaly {
  id: number;
  timestamp: string;
  lastSeen: string;
  agent: string;
  device: string;
  type: string;
  severity: number;
  description: string;
  evidence: readonly (number | string)[];
  occurrences: number;
  status: string;
  rule?: string;
  remediation?: string;
  /** What the agent last told Alertmanager about it; null: nothing yet. */
  alertState: 'firing' | 'resolved' | null;
}

export interface AlertPlanSettings {
  /** The AnalysisAgent's namespace and name; an empty namespace (an agent run by hand) is left out. */
  namespace: string;
  agentName: string;
  /** The pod, for anomaly_id: ids are per pod (each has its own store). */
  pod: string;
  intervalMs: number;
  resolveAfterMs: number;
  runbookBaseUrl?: string;
}

/** Alertmanager's postableAlert. */
export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

export interface PlannedAlert {
  id: number;
  alert: PostableAlert;
}

export interface AlertPlan {
  firing: PlannedAlert[];
  resolved: PlannedAlert[];
  /** The endsAt the store records for each group (markAlerts). */
  firingEndsAt: string;
  resolvedEndsAt: string;
}

/** `<pod>:<id>`, the anomaly's name for users (kubectl edgewarden) and Alertmanager alike. */
export const anomalyId = (pod: string, id: number): string => `${pod}:${id}`;

/** The labels of an anomaly's alert: what identifies it, and what routes and silences match. */
export function alertLabels(a: AlertableAnomaly, s: AlertPlanSettings): Record<string, string> {
  return {
    alertname: ALERT_NAME,
    ...(s.namespace ? { namespace: s.namespace } : {}),
    agent: s.agentName,
    agent_kind: a.agent,
    ...(a.rule ? { rule: a.rule } : {}),
    type: a.type,
    device: a.device,
    severity: SEVERITY_NAMES[a.severity] ?? String(a.severity),
    anomaly_id: anomalyId(s.pod, a.id),
  };
}

/** Where to read about an anomaly: the user's runbooks by rule, else our docs. */
export function runbookUrl(a: AlertableAnomaly, base: string | undefined): string {
  if (base) return `${base}#${a.rule ?? a.type}`;
  return a.rule ? `${DOCS}/rules.md#coverage` : `${DOCS}/agents.md#an-anomaly`;
}

/** The annotations: what a person reads in the notification. They may change; labels may not. */
export function alertAnnotations(
  a: AlertableAnomaly,
  s: AlertPlanSettings,
): Record<string, string> {
  return {
    summary: `${SEVERITY_NAMES[a.severity] ?? a.severity}: ${a.rule ?? a.type} on ${a.device}`,
    description: a.description,
    evidence: a.evidence.slice(0, EVIDENCE_IN_ALERT).join(', '),
    ...(a.remediation ? { remediation: a.remediation } : {}),
    runbook_url: runbookUrl(a, s.runbookBaseUrl),
    occurrences: String(a.occurrences),
  };
}

/** Whether the anomaly's alert should fire now: open or acknowledged, and seen lately. */
export function shouldFire(a: AlertableAnomaly, now: Date, resolveAfterMs: number): boolean {
  return FIRING_STATUSES.has(a.status) && now.getTime() - Date.parse(a.lastSeen) < resolveAfterMs;
}

/**
 * The alerts to post this cycle: each row that should fire, as firing (renewed every cycle);
 * each other row not already resolved, as resolved. Rows come from store.alertable().
 */
export function planAlerts(
  rows: readonly AlertableAnomaly[],
  now: Date,
  s: AlertPlanSettings,
): AlertPlan {
  const firingEndsAt = new Date(now.getTime() + 3 * s.intervalMs).toISOString();
  const resolvedEndsAt = now.toISOString();
  const plan: AlertPlan = { firing: [], resolved: [], firingEndsAt, resolvedEndsAt };
  for (const a of rows) {
    const fire = shouldFire(a, now, s.resolveAfterMs);
    if (!fire && a.alertState === 'resolved') continue;
    // Alertmanager refuses an alert that ends before it starts (a clock ahead of this one).
    const endsAt = latest(fire ? firingEndsAt : resolvedEndsAt, a.timestamp);
    const alert = {
      labels: alertLabels(a, s),
      annotations: alertAnnotations(a, s),
      startsAt: a.timestamp,
      endsAt,
    };
    (fire ? plan.firing : plan.resolved).push({ id: a.id, alert });
  }
  return plan;
}

const latest = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

/** Alertmanager's gettableAlert, the parts read here. */
export interface GettableAlert {
  labels: Record<string, string>;
  status: { state: string; silencedBy: string[] | null };
}

/** A label set as one string, the same whatever the order of its labels. */
const labelKey = (labels: Record<string, string>): string =>
  JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * The anomalies of `firing` (the alerts this pod just posted) whose alerts a silence holds, with
 * the silences' ids. An alert counts only when its labels are exactly those posted: alerts of
 * another pod (another replica), or an old one with an anomaly_id that a fresh store reused, are
 * left alone.
 */
export function silencedAnomalies(
  alerts: readonly GettableAlert[],
  firing: readonly PlannedAlert[],
): { id: number; silenceIds: string[] }[] {
  const ours = new Map(firing.map((p) => [labelKey(p.alert.labels), p.id]));
  const found: { id: number; silenceIds: string[] }[] = [];
  for (const alert of alerts) {
    const silenceIds = alert.status.silencedBy ?? [];
    const id = ours.get(labelKey(alert.labels));
    if (id !== undefined && silenceIds.length > 0) found.push({ id, silenceIds: [...silenceIds] });
  }
  return found;
}
