// The anomalies' filters of the command line, checked once and turned into what each agent
// pod's GET /anomalies takes (minSeverity, status, rule, device, since) and which AnalysisAgents
// are asked (--agent). Pure.
import type { Flags } from './args.js';
import { parseSpan } from './time.js';
import { SEVERITY_NAMES, STATUSES } from './wire.js';

export interface AnomalyFilters {
  /** Query of GET /anomalies, without paging. */
  query: Record<string, string>;
  /** Only the AnalysisAgent of this name (in each namespace). */
  agent?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const DEFAULT_STATUSES = 'open,acknowledged';

/** --severity: the least severity shown, by name (info..critical) or number (1-5). */
export function parseSeverity(text: string): number | undefined {
  const byName = SEVERITY_NAMES.indexOf(text.toLowerCase());
  if (byName > 0) return byName;
  return /^[1-5]$/.test(text) ? Number(text) : undefined;
}

/** --status: a comma list of statuses, or `all` (undefined: no filter). */
export function parseStatuses(text: string): Parsed<string | undefined> {
  if (text === 'all') return { ok: true, value: undefined };
  const given = text
    .split(',')
    .map((s) => s.trim().replace('-', '_'))
    .filter(Boolean);
  const wrong = given.find((s) => !STATUSES.includes(s));
  if (wrong !== undefined || given.length === 0)
    return {
      ok: false,
      error: `--status: "${wrong ?? text}" is not one of ${STATUSES.join(', ')} or all`,
    };
  return { ok: true, value: given.join(',') };
}

/** The filters of `anomalies` (and `top devices`: statusDefault "all", its own since). */
export function anomalyFilters(
  flags: Flags,
  now: Date,
  defaults: { status: string; since?: string } = { status: DEFAULT_STATUSES },
): Parsed<AnomalyFilters> {
  const query: Record<string, string> = {};
  if (flags.severity !== undefined) {
    const min = parseSeverity(flags.severity);
    if (min === undefined)
      return { ok: false, error: `--severity: "${flags.severity}": info..critical or 1-5` };
    query.minSeverity = String(min);
  }
  const statuses = parseStatuses(flags.status ?? defaults.status);
  if (!statuses.ok) return statuses;
  if (statuses.value !== undefined) query.status = statuses.value;
  const since = flags.since ?? defaults.since;
  if (since !== undefined) {
    const ms = parseSpan(since);
    if (ms === undefined) return { ok: false, error: `--since: "${since}" is not a span (1h, 7d)` };
    query.since = new Date(now.getTime() - ms).toISOString();
  }
  for (const key of ['rule', 'device'] as const) {
    const value = flags[key];
    if (value === undefined) continue;
    if (value === '' || value.length > 256)
      return { ok: false, error: `--${key}: between 1 and 256 characters` };
    query[key] = value;
  }
  return { ok: true, value: { query, ...(flags.agent ? { agent: flags.agent } : {}) } };
}
