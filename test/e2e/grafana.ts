// What Grafana does to a dashboard's queries before its Prometheus data source runs them, for
// the tests that run those queries themselves: the built-in interval variables, template
// variables resolved from `label_values(...)` queries (with their regex), multi-value and
// "All" formatting, and the metric names an expression reads. Only what edgewarden's
// dashboards use is implemented; anything else is refused, never guessed. A stand-in, the
// one the tests keep on purpose: Grafana is not available on the machines the tests run on
// (not in Debian's archive, and no release download is reachable), so its query expansion is
// written out from its documentation.
import type { Dashboard, Target, Variable } from '../../scripts/dashboards/model.js';

/**
 * Grafana's built-in time variables for a range query of `stepSeconds` over `rangeSeconds`,
 * from a data source whose "scrape interval" setting is `scrapeSeconds` (Grafana's rule:
 * $__rate_interval = max($__interval + scrape interval, 4 × scrape interval)). Grafana makes
 * $__interval the query's step.
 */
export function timeVariables(
  rangeSeconds: number,
  stepSeconds: number,
  scrapeSeconds: number,
): Record<string, string> {
  const range = Math.round(rangeSeconds);
  const rate = Math.max(stepSeconds + scrapeSeconds, 4 * scrapeSeconds);
  return {
    __interval: `${stepSeconds}s`,
    __interval_ms: String(stepSeconds * 1000),
    __rate_interval: `${rate}s`,
    __range: `${range}s`,
    __range_s: String(range),
    __range_ms: String(range * 1000),
  };
}

/** Escapes a value for a PromQL regex matcher, as Grafana's Prometheus source does. */
export function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|{}[\]]/g, '\\$&');
}

/** A multi-value variable's values as Grafana writes them into a regex matcher. */
export function formatValues(values: readonly string[]): string {
  if (values.length === 1) return regexEscape(values[0]!);
  return `(${values.map(regexEscape).join('|')})`;
}

/**
 * Replaces `$name`, `${name}` and `[[name]]` with their values. A variable the map lacks is an
 * error: a query must never reach Prometheus with a `$` left in it.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  const out = expr.replace(
    /\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (all, braced?: string, bracketed?: string, bare?: string) => {
      const name = braced ?? bracketed ?? bare!;
      const value = values[name];
      if (value === undefined) throw new Error(`no value for the variable ${all} in: ${expr}`);
      return value;
    },
  );
  return out;
}

/** The selector and label of a `label_values(<selector>, <label>)` variable query. */
export function parseLabelValues(definition: string): { selector: string; label: string } {
  const m = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/.exec(definition.trim());
  if (!m) throw new Error(`not a label_values(selector, label) query: ${definition}`);
  return { selector: m[1]!.trim(), label: m[2]! };
}

/** Applies a variable's regex (`/.../`) as Grafana does: the first group of each match, or the match. */
export function applyRegex(values: readonly string[], regex: string | undefined): string[] {
  if (!regex) return [...values];
  const m = /^\/(.*)\/([gimsuy]*)$/.exec(regex);
  if (!m) throw new Error(`variable regex ${regex} is not /.../`);
  const re = new RegExp(m[1]!, m[2]);
  const out: string[] = [];
  for (const v of values) {
    const match = re.exec(v);
    if (match) out.push(match[1] ?? match[0]);
  }
  return out;
}

/** The query variables of a dashboard, in the order Grafana resolves them. */
export const queryVariables = (d: Dashboard): Variable[] =>
  d.templating.list.filter((v) => v.type === 'query');

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects (`name{...}` or a bare `name`), found by
 * removing strings, label matchers, ranges and grouping clauses, then taking every identifier
 * that is not a keyword, a number's exponent or a function (followed by a parenthesis).
 * promtool has parsed the expression before this runs (test/unit/dashboards.test.ts).
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of s.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (m[2] || KEYWORDS.has(m[1]!.toLowerCase())) continue;
    names.add(m[1]!);
  }
  return [...names].sort();
}

/** Every query a dashboard runs: its panels' targets, and its variables' selectors. */
export function dashboardQueries(d: Dashboard): { where: string; expr: string; target?: Target }[] {
  return [
    ...queryVariables(d).map((v) => ({
      where: `variable $${v.name}`,
      expr: parseLabelValues(v.definition!).selector,
    })),
    ...d.panels.flatMap((p) =>
      (p.targets ?? []).map((target) => ({
        where: `panel "${p.title}" (${target.refId})`,
        expr: target.expr,
        target,
      })),
    ),
  ];
}
