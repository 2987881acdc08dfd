// Anomalies as rows: the table's and wide table's columns, the items of -o json|yaml, and what
// --watch tells apart (a row that is new, or whose status, count or last time changed). Pure.
import { formatAnomalyId } from './anomalyId.js';
import { truncate, type Table } from './output.js';
import { age } from './time.js';
import { severityName, type ListedAnomaly } from './wire.js';

const DESCRIPTION_WIDTH = 60;

export interface RowOptions {
  wide: boolean;
  /** -A: a NAMESPACE column first. */
  namespaces: boolean;
  now: Date;
}

export function anomalyHeader(o: Pick<RowOptions, 'wide' | 'namespaces'>): string[] {
  return [
    ...(o.namespaces ? ['NAMESPACE'] : []),
    ...['ID', 'AGENT', 'SEVERITY', 'TYPE', 'DEVICE', 'STATUS', 'AGE'],
    ...(o.wide ? ['RULE', 'SOURCE', 'COUNT', 'LAST SEEN'] : []),
    'DESCRIPTION',
  ];
}

export function anomalyRow(l: ListedAnomaly, o: RowOptions): string[] {
  const a = l.anomaly;
  return [
    ...(o.namespaces ? [l.namespace] : []),
    formatAnomalyId(l.pod, a.id),
    l.analysisAgent,
    severityName(a.severity),
    a.type,
    a.device,
    a.status,
    age(a.timestamp, o.now),
    ...(o.wide
      ? [a.rule ?? '-', a.captures?.source ?? '-', String(a.occurrences), age(a.lastSeen, o.now)]
      : []),
    truncate(a.description, DESCRIPTION_WIDTH),
  ];
}

/** Newest first, then by namespace and ID, so a listing reads the same twice. */
export function sortAnomalies(list: readonly ListedAnomaly[]): ListedAnomaly[] {
  return [...list].sort(
    (x, y) =>
      y.anomaly.timestamp.localeCompare(x.anomaly.timestamp) ||
      x.namespace.localeCompare(y.namespace) ||
      x.pod.localeCompare(y.pod) ||
      y.anomaly.id - x.anomaly.id,
  );
}

export function anomalyTable(list: readonly ListedAnomaly[], o: RowOptions): Table {
  return { header: anomalyHeader(o), rows: sortAnomalies(list).map((l) => anomalyRow(l, o)) };
}

/** An item of -o json|yaml: the agent's anomaly, with where it lives and its ID. */
export function anomalyItem(l: ListedAnomaly): Record<string, unknown> {
  return {
    name: formatAnomalyId(l.pod, l.anomaly.id),
    namespace: l.namespace,
    analysisAgent: l.analysisAgent,
    pod: l.pod,
    ...l.anomaly,
  };
}

/** What identifies a row across polls, and what makes it changed. */
const keyOf = (l: ListedAnomaly): string => `${l.namespace}/${l.pod}:${l.anomaly.id}`;
const versionOf = (l: ListedAnomaly): string =>
  `${l.anomaly.status}|${l.anomaly.occurrences}|${l.anomaly.lastSeen}|${l.anomaly.note ?? ''}`;

/**
 * The anomalies of a poll that are new or changed since `seen` (keys and versions of those
 * printed), oldest first as a watch prints them; `seen` is updated.
 */
export function newOrChanged(
  list: readonly ListedAnomaly[],
  seen: Map<string, string>,
): ListedAnomaly[] {
  const fresh = list.filter((l) => seen.get(keyOf(l)) !== versionOf(l));
  for (const l of fresh) seen.set(keyOf(l), versionOf(l));
  return sortAnomalies(fresh).reverse();
}
