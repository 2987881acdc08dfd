// `kubectl edgewarden anomaly ID` as `kubectl describe` lays an object out: a field a line,
// "Name:" aligned, sections indented under their heading. Pure.
import { renderTable } from '../table.js';
import { formatAnomalyId } from './anomalyId.js';
import { age } from './time.js';
import { severityName, type ListedAnomaly } from './wire.js';

const EVIDENCE_SHOWN = 20;

/** Lines of "Key:  value", the values aligned. */
function fields(pairs: [string, string][], indent = ''): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)}${v}`.trimEnd());
}

const when = (time: string | null | undefined, now: Date): string =>
  time ? `${time} (${age(time, now)} ago)` : '<none>';

function mapSection(
  title: string,
  map: Record<string, string | number> | null | undefined,
): string[] {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return [`${title}:  <none>`];
  return [
    `${title}:`,
    ...fields(
      entries.map(([k, v]) => [k, String(v)]),
      '  ',
    ),
  ];
}

function evidenceLines(evidence: readonly (number | string)[]): string[] {
  if (evidence.length === 0) return ['Evidence:  <none>'];
  const shown = evidence.slice(0, EVIDENCE_SHOWN).join(', ');
  const more =
    evidence.length > EVIDENCE_SHOWN
      ? `, ... (${evidence.length} lines)`
      : ` (${evidence.length} lines)`;
  return ['Evidence:', `  Source rows: ${shown}${more}`];
}

export function describeAnomaly(l: ListedAnomaly, now: Date): string {
  const a = l.anomaly;
  const head = fields([
    ['Name', formatAnomalyId(l.pod, a.id)],
    ['Namespace', l.namespace],
    ['AnalysisAgent', l.analysisAgent],
    ['Pod', l.pod],
    ['Agent', a.agent],
    ['Device', a.device],
    ['Type', a.type],
    ['Rule', a.rule ?? '<none>'],
    ['Severity', `${severityName(a.severity)} (${a.severity})`],
    ['Confidence', String(a.confidence)],
    ['Score', String(a.score)],
    ['Status', a.status],
    ['First Seen', when(a.timestamp, now)],
    ['Last Seen', when(a.lastSeen, now)],
    ['Occurrences', String(a.occurrences)],
    ['Window', `${a.windowStart} - ${a.windowEnd}`],
    ['Description', a.description],
  ]);
  // The store keeps the latest change of status (who, when, the note), not every one.
  const change = a.statusAt
    ? [a.status, a.note || '-', a.statusBy || '-', a.statusAt]
    : [a.status, '-', '-', a.timestamp];
  const status = [
    'Status History:',
    ...renderTable(['STATUS', 'NOTE', 'BY', 'AT'], [change])
      .split('\n')
      .map((r) => `  ${r}`),
  ];
  return [
    ...head,
    ...mapSection('Captures', a.captures),
    ...mapSection('Features', a.features),
    ...evidenceLines(a.evidence),
    ...(a.remediation
      ? ['Remediation:', ...a.remediation.split('\n').map((r) => `  ${r}`)]
      : ['Remediation:  <none>']),
    ...status,
  ].join('\n');
}
