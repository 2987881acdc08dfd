// Plain-text tables for a terminal: anomalies, and any rows.
import type { Anomaly } from '../../agent-runtime/src/agents/types.js';

const SEVERITY = ['', 'info', 'low', 'medium', 'high', 'critical'];

/** Takes found or stored anomalies alike (a stored one's captures may be null). */
export function anomalyTable(anomalies: readonly Omit<Anomaly, 'captures'>[]): string {
  if (anomalies.length === 0) return 'No anomalies found.';
  const rows = [...anomalies]
    .sort((a, b) => a.windowStart.localeCompare(b.windowStart) || b.severity - a.severity)
    .map((a) => [
      a.windowStart.slice(0, 16).replace('T', ' '),
      a.agent,
      a.device,
      `${a.severity} ${SEVERITY[a.severity]}`,
      a.type,
      a.description.length > 90 ? `${a.description.slice(0, 87)}...` : a.description,
      a.evidence.length > 0
        ? `${a.evidence.slice(0, 3).join(',')}${a.evidence.length > 3 ? ',…' : ''}`
        : '-',
    ]);
  return renderTable(
    ['WINDOW (UTC)', 'AGENT', 'DEVICE', 'SEVERITY', 'TYPE', 'DESCRIPTION', 'LINES'],
    rows,
  );
}

/** Columns padded to their widest cell, two spaces apart, as kubectl prints them. */
export function renderTable(header: readonly string[], rows: readonly string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const format = (r: readonly string[]): string =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [format(header), ...rows.map(format)].join('\n');
}
