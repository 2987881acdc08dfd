// Which Warning Events the operator records for an AnalysisAgent's new anomalies (issue 21), so
// `kubectl describe` and `kubectl events` show them: one AnomalyDetected per anomaly at or above
// spec.thresholds.alertSeverity, at most EVENTS_PER_WINDOW in EVENT_WINDOW_MS per agent (a
// burst must not flood the API server's Events), then one AnomaliesThrottled with the count
// left out when the window closes. Where each pod's reading stands (its cursor) lives here, in
// memory: an operator that starts reads from its start minus one interval, so a restart does not
// replay history. Pure: the reads are controllers/analysisAgent/anomalyEvents.ts.
import {
  anomalyQueryParams as q,
  severityNames,
  type AnomalySummary,
} from '../../../../agent-runtime/src/contract/anomalies.js';

export const EVENTS_PER_WINDOW = 10;
export const EVENT_WINDOW_MS = 10 * 60_000;
/** Anomalies asked for per page. */
export const ANOMALY_PAGE = 50;
/** A description is cut to this many characters: an Event is a line, not a report. */
const DESCRIPTION_CHARS = 256;

/** What the operator remembers of one agent between reconciles. */
export interface AnomalyEventState {
  /** The agent's uid: an agent deleted and made again under the name starts afresh. */
  uid: string;
  /** Pod name -> the cursor ("timestamp,id") of the last anomaly read from it. */
  cursors: Record<string, string>;
  /** When the current throttle window opened (ms); none open without new anomalies. */
  windowStart?: number;
  /** AnomalyDetected Events recorded in the window. */
  recorded: number;
  /** Anomalies of the window left without an Event. */
  leftOut: number;
}

export interface AnomalyEvent {
  reason: 'AnomalyDetected' | 'AnomaliesThrottled';
  message: string;
}

export function newAnomalyEventState(uid: string): AnomalyEventState {
  return { uid, cursors: {}, recorded: 0, leftOut: 0 };
}

/** The state kept for `uid`: the one there, or a fresh one for an agent seen first (or anew). */
export function stateFor(previous: AnomalyEventState | undefined, uid: string): AnomalyEventState {
  return previous?.uid === uid ? previous : newAnomalyEventState(uid);
}

/** Severity name -> rank (1-5), for spec.thresholds.alertSeverity. */
export function severityRankOf(name: string): number {
  const i = severityNames.indexOf(name as (typeof severityNames)[number]);
  return i < 0 ? 4 : i + 1;
}

/**
 * The query of one pod's next page: after its cursor, or, for a pod not read yet, anomalies from
 * `since` (the operator's start minus one interval), oldest first.
 */
export function anomalyPageQuery(
  state: AnomalyEventState,
  pod: string,
  minSeverity: number,
  since: Date,
): Record<string, string> {
  const cursor = state.cursors[pod];
  return {
    [q.minSeverity]: String(minSeverity),
    [q.order]: 'asc',
    [q.limit]: String(ANOMALY_PAGE),
    ...(cursor ? { [q.after]: cursor } : { [q.since]: since.toISOString() }),
  };
}

/** The cursor after a page: the next page's when the agent gave one, else its last anomaly's. */
export function advancedCursor(
  state: AnomalyEventState,
  pod: string,
  page: AnomalySummary[],
  next?: string,
): AnomalyEventState {
  const last = page[page.length - 1];
  const cursor = next ?? (last ? `${last.timestamp},${last.id}` : state.cursors[pod]);
  return cursor ? { ...state, cursors: { ...state.cursors, [pod]: cursor } } : state;
}

/** Forgets the cursors of pods that are gone. */
export function keepPods(state: AnomalyEventState, pods: string[]): AnomalyEventState {
  const cursors = Object.fromEntries(
    Object.entries(state.cursors).filter(([p]) => pods.includes(p)),
  );
  return { ...state, cursors };
}

const cut = (text: string, n: number): string =>
  text.length <= n ? text : `${text.slice(0, n - 1)}…`;

/** "high brute_force on 203.0.113.7: 40 failed logins (anomaly auth-0:17, rule ssh-bruteforce)". */
export function anomalyMessage(pod: string, a: AnomalySummary): string {
  const severity = severityNames[a.severity - 1] ?? String(a.severity);
  const rule = a.rule ? `, rule ${cut(a.rule, 128)}` : '';
  return (
    `${severity} ${cut(a.type, 64)} on ${cut(a.device, 128)}: ` +
    `${cut(a.description, DESCRIPTION_CHARS)} (anomaly ${pod}:${a.id}${rule})`
  );
}

function throttledMessage(state: AnomalyEventState, now: Date): string {
  const from = new Date(state.windowStart!).toISOString();
  const n = state.leftOut;
  return (
    `${n} more ${n === 1 ? 'anomaly' : 'anomalies'} from ${from} to ${now.toISOString()} ` +
    `recorded no Event (at most ${EVENTS_PER_WINDOW} per ${EVENT_WINDOW_MS / 60_000} minutes ` +
    `per agent); kubectl edgewarden anomalies lists them`
  );
}

/**
 * The Events for the anomalies read in one reconcile (`found`, each with its pod, oldest first;
 * may be none) at `now`, and the state after: a window that has run its time is closed first,
 * with an AnomaliesThrottled Event if it left any out; the first new anomaly opens a window.
 */
export function anomalyEvents(
  state: AnomalyEventState,
  found: { pod: string; anomaly: AnomalySummary }[],
  now: Date,
): { state: AnomalyEventState; events: AnomalyEvent[] } {
  const events: AnomalyEvent[] = [];
  let next = { ...state };
  if (next.windowStart !== undefined && now.getTime() - next.windowStart >= EVENT_WINDOW_MS) {
    if (next.leftOut > 0)
      events.push({ reason: 'AnomaliesThrottled', message: throttledMessage(next, now) });
    next = { ...next, windowStart: undefined, recorded: 0, leftOut: 0 };
  }
  for (const { pod, anomaly } of found) {
    if (next.windowStart === undefined) next.windowStart = now.getTime();
    if (next.recorded < EVENTS_PER_WINDOW) {
      events.push({ reason: 'AnomalyDetected', message: anomalyMessage(pod, anomaly) });
      next.recorded += 1;
    } else next.leftOut += 1;
  }
  return { state: next, events };
}
