// What fired in a window, as findings: superseded ones dropped, severity escalated by how far
// past the threshold, description and remediation filled from the captures.
import type { Finding, WindowInfo } from '../agents/types.js';
import { scoreByRatio } from '../agents/tally.js';
import type { Captures, Fire } from './detectors.js';
import type { RunContext } from './ruleIndex.js';
import type { CompiledRule } from './ruleTypes.js';

/** The findings of what fired, in the rules' order, less those a rule that fired supersedes. */
export function findingsOf(
  ctx: RunContext,
  fired: Map<string, Map<string, Fire>>,
  window: WindowInfo,
): Finding[] {
  const superseded = new Set<string>();
  for (const rule of ctx.rules.rules)
    for (const key of fired.get(rule.id)?.keys() ?? [])
      for (const id of rule.supersedes) superseded.add(`${id}\u0000${key}`);
  const out: Finding[] = [];
  for (const rule of ctx.rules.rules)
    for (const f of fired.get(rule.id)?.values() ?? [])
      if (!superseded.has(`${rule.id}\u0000${f.key}`)) out.push(findingOf(ctx, rule, f, window));
  return out;
}

function findingOf(ctx: RunContext, rule: CompiledRule, f: Fire, window: WindowInfo): Finding {
  const d = rule.detector;
  const threshold = d.kind === 'count' || d.kind === 'distinct' ? d.threshold : 1;
  let severity = rule.severity as number;
  if (rule.escalate) severity += f.value >= 4 * threshold ? 2 : f.value >= 2 * threshold ? 1 : 0;
  const windowMs =
    d.kind === 'count' || d.kind === 'distinct' ? (d.windowMs ?? ctx.windowMs) : undefined;
  const fields: Record<string, string> = {
    device: window.device,
    count: String(f.value),
    distinct: String(f.value),
    threshold: String(threshold),
    values: f.values ? [...f.values.keys()].slice(-10).join(', ') : '',
    window: windowMs === undefined ? '' : humanDuration(windowMs),
    within: d.kind === 'absence' ? humanDuration(d.withinMs) : '',
  };
  const score = f.spike
    ? Number((1 - 1 / f.spike.z).toFixed(3))
    : d.kind === 'count' || d.kind === 'distinct'
      ? scoreByRatio(f.value, threshold)
      : 0.5;
  const features: Record<string, number> = { [rule.feature]: f.value };
  if (f.spike)
    Object.assign(features, {
      usual: Number(f.spike.mean.toFixed(2)),
      z: Number(f.spike.z.toFixed(2)),
    });
  return {
    type: rule.type,
    severity: Math.min(5, severity) as Finding['severity'],
    confidence: rule.confidence,
    score,
    description: fill(rule.description, f.captures, fields),
    features,
    evidence: [...f.refs],
    rule: rule.id,
    remediation: fill(rule.remediation, f.captures, fields),
    ...groupCaptures(d, f.captures),
  };
}

/**
 * The captures the finding is grouped by (e.g. {source: '203.0.113.7'}): what a suppression and
 * an alert are scoped by. Strings only, at most 8, each cut to 256 characters.
 */
function groupCaptures(
  d: CompiledRule['detector'],
  captures: Captures,
): { captures?: Record<string, string> } {
  const names = d.kind === 'novelty' ? d.key : 'groupBy' in d ? d.groupBy : [];
  const entries = names
    .map((name) => [name, captures[name]] as const)
    .filter((e): e is readonly [string, string] => typeof e[1] === 'string')
    .slice(0, 8)
    .map(([name, value]) => [name, value.slice(0, 256)]);
  return entries.length > 0
    ? { captures: Object.fromEntries(entries) as Record<string, string> }
    : {};
}

/** `{name}` from the captures, then the detector's own fields; unknown names stay as written. */
export function fill(template: string, captures: Captures, fields: Record<string, string>): string {
  return template.replace(
    /\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
    (all, name: string) => captures[name] ?? fields[name] ?? all,
  );
}

export function humanDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
