// Runs one agent's rules over one device's lines: each line against the rules that read its
// program, each match into its rule's detector; at the end of a window, what fired becomes
// findings (with the rule's id, evidence and remediation). Pure apart from the memory objects
// it is handed, which the engine keeps per device and saves with its state.
import type { Finding, ObservedLine, WindowInfo } from '../agents/types.js';
import { scoreByRatio } from '../agents/tally.js';
import {
  AbsenceMemory,
  CountMemory,
  DistinctMemory,
  NoveltyMemory,
  RateMemory,
  type Captures,
  type DetectorMemory,
  type Fire,
} from './detectors.js';
import type { AgentRules, Allowlist } from './ruleSet.js';
import type { CompiledRule, Detector, Matcher } from './ruleTypes.js';

/** Longest part of a message the patterns see: bounds the cost of any pattern on any line. */
export const MATCH_LIMIT = 4096;
const NOVEL_PER_WINDOW = 20;

/** What fired in one device's window, by rule id then key. */
export interface RuleWindow {
  fired: Map<string, Map<string, Fire>>;
  matches: Map<string, number>;
}

/** A device's detector memories, by rule id (kept across windows, saved with the engine's state). */
export type RuleMemory = Map<string, { kind: Detector['kind']; memory: DetectorMemory }>;

export const newRuleWindow = (): RuleWindow => ({ fired: new Map(), matches: new Map() });

export interface RunContext {
  rules: AgentRules;
  allow: Allowlist;
  /** The agent's interval: the window of rules that give none. */
  windowMs: number;
  /** The agent's own programs (null: all), which matchers without programs take. */
  ownPrograms: ReadonlySet<string> | null;
  /** Per program, the rules that read it with only their matchers that do (built on first sight). */
  prepared: Map<string, PreparedProgram>;
}

/**
 * The rules lines of one program meet, indexed by the literals their matchers require: one
 * scan of a line for all the literals at once names the few rules worth trying, so a line
 * holding none of them (most lines: a healthy router's chatter) costs one search, not one per
 * rule. Rules with a matcher that requires no literal are tried on every line.
 */
interface PreparedProgram {
  rules: Prepared[];
  always: Prepared[];
  /** Every literal, global: exec() from each position finds each literal that occurs. */
  scan: RegExp | undefined;
  /** By literal: the rules it may set off, those of the literals inside it included. */
  byLiteral: Map<string, Prepared[]>;
}

/** A rule as lines of one program meet it. */
interface Prepared {
  rule: CompiledRule;
  match: Matcher[];
  until: Matcher[];
}

const PREPARED_PROGRAMS = 1000; // beyond: worked out per line, not kept (tags are the sender's to choose)

function preparedFor(ctx: RunContext, program: string): PreparedProgram {
  const known = ctx.prepared.get(program);
  if (known) return known;
  const reads = (m: Matcher): boolean => {
    const programs = m.programs ?? ctx.ownPrograms;
    return programs === null || programs.has(program);
  };
  const rules = [...(ctx.rules.byProgram.get(program) ?? []), ...ctx.rules.anyProgram]
    .map((rule) => ({
      rule,
      match: rule.match.filter(reads),
      until: rule.detector.kind === 'absence' ? rule.detector.until.filter(reads) : [],
    }))
    .filter((p) => p.match.length > 0 || p.until.length > 0);
  const always: Prepared[] = [];
  const direct = new Map<string, Prepared[]>();
  for (const p of rules) {
    const matchers = [...p.match, ...p.until];
    if (matchers.some((m) => m.literals === undefined)) {
      always.push(p);
      continue;
    }
    for (const literal of new Set(matchers.flatMap((m) => m.literals!)))
      direct.set(literal, [...(direct.get(literal) ?? []), p]);
  }
  // A literal found is also each literal inside it (the scan reports one per position).
  const byLiteral = new Map<string, Prepared[]>();
  for (const literal of direct.keys())
    byLiteral.set(literal, [
      ...new Set([...direct].filter(([l]) => literal.includes(l)).flatMap(([, ps]) => ps)),
    ]);
  // Longest first: at a position where two literals begin, the scan reports the longer, and
  // the shorter, a prefix of it, is among the literals inside it.
  const literals = [...direct.keys()].sort((a, b) => b.length - a.length);
  const scan =
    literals.length > 0 ? new RegExp(literals.map(escapeRegExp).join('|'), 'g') : undefined;
  const prepared = { rules, always, scan, byLiteral };
  if (ctx.prepared.size < PREPARED_PROGRAMS) ctx.prepared.set(program, prepared);
  return prepared;
}

const escapeRegExp = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function levelRank(level: string | null): number {
  const i = LEVEL_ORDER.indexOf(level ?? '');
  return i < 0 ? 99 : i;
}
const LEVEL_ORDER = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

/** The captures of the first matcher that takes the line, or undefined. */
export function matchLine(
  matchers: readonly Matcher[],
  ctx: Pick<RunContext, 'ownPrograms'>,
  line: ObservedLine,
): Captures | undefined {
  const program = line.record.program ?? '';
  return matchText(
    matchers.filter((m) => {
      const programs = m.programs ?? ctx.ownPrograms;
      return programs === null || programs.has(program);
    }),
    line,
  );
}

function containsOne(text: string, literals: readonly string[]): boolean {
  for (const l of literals) if (text.includes(l)) return true;
  return false;
}

/** As matchLine, for matchers already known to read the line's program. */
function matchText(matchers: readonly Matcher[], line: ObservedLine): Captures | undefined {
  const { message, level } = line.record;
  const text = message.length > MATCH_LIMIT ? message.slice(0, MATCH_LIMIT) : message;
  for (const m of matchers) {
    if (m.maxLevel < 7 && levelRank(level) > m.maxLevel) continue;
    if (m.literals !== undefined && !containsOne(text, m.literals)) continue;
    const hit = m.pattern.exec(text);
    if (hit) return hit.groups ?? {};
  }
  return undefined;
}

const keyOf = (names: readonly string[], c: Captures): string =>
  names.map((n) => c[n] ?? '').join('\u0000');

function memoryOf<M extends DetectorMemory>(mem: RuleMemory, rule: CompiledRule, make: () => M): M {
  const slot = mem.get(rule.id);
  if (slot && slot.kind === rule.detector.kind) return slot.memory as M;
  const memory = make();
  mem.set(rule.id, { kind: rule.detector.kind, memory });
  return memory;
}

function fire(w: RuleWindow, rule: CompiledRule, f: Fire): void {
  let byKey = w.fired.get(rule.id);
  if (!byKey) w.fired.set(rule.id, (byKey = new Map<string, Fire>()));
  const before = byKey.get(f.key);
  if (!before || f.value >= before.value) byKey.set(f.key, f);
}

export function observeRules(
  ctx: RunContext,
  line: ObservedLine,
  w: RuleWindow,
  mem: RuleMemory,
): void {
  const { rules, always, scan, byLiteral } = preparedFor(ctx, line.record.program ?? '');
  if (rules.length === 0) return;
  for (const p of always) observeRule(ctx, p, line, w, mem);
  if (!scan) return;
  const message = line.record.message;
  const text = message.length > MATCH_LIMIT ? message.slice(0, MATCH_LIMIT) : message;
  scan.lastIndex = 0;
  let found = scan.exec(text);
  if (found === null) return;
  const tried = new Set<Prepared>();
  while (found !== null) {
    for (const p of byLiteral.get(found[0])!)
      if (!tried.has(p)) {
        tried.add(p);
        observeRule(ctx, p, line, w, mem);
      }
    // From the next position: a literal may begin inside the one just found.
    scan.lastIndex = found.index + 1;
    found = scan.exec(text);
  }
}

function observeRule(
  ctx: RunContext,
  { rule, match, until }: Prepared,
  line: ObservedLine,
  w: RuleWindow,
  mem: RuleMemory,
): void {
  const d = rule.detector;
  if (d.kind === 'absence' && until.length > 0) {
    const up = matchText(until, line);
    if (up) return memoryOf(mem, rule, () => new AbsenceMemory()).end(keyOf(d.groupBy, up));
  }
  const c = match.length > 0 ? matchText(match, line) : undefined;
  if (!c || (!ctx.allow.empty && ctx.allow.captures(c))) return;
  const weight = (line.record as { repeats?: number }).repeats ?? 1;
  w.matches.set(rule.id, (w.matches.get(rule.id) ?? 0) + weight);
  switch (d.kind) {
    case 'count': {
      const key = keyOf(d.groupBy, c);
      const s = memoryOf(mem, rule, () => new CountMemory()).add(
        key,
        line.time,
        weight,
        line.ref,
        d.windowMs ?? ctx.windowMs,
        d.threshold,
      );
      if (s) fire(w, rule, { key, captures: c, value: s.sum, refs: s.refs });
      return;
    }
    case 'distinct': {
      const key = keyOf(d.groupBy, c);
      const value = c[d.field];
      if (value === undefined) return;
      const v = memoryOf(mem, rule, () => new DistinctMemory()).add(
        key,
        value,
        line.time,
        line.ref,
        d.windowMs ?? ctx.windowMs,
      );
      if (v.seen.size >= d.threshold)
        fire(w, rule, {
          key,
          captures: c,
          value: v.seen.size,
          values: v.seen,
          refs: v.refs,
        });
      return;
    }
    case 'novelty': {
      const key = keyOf(d.key, c);
      const isNew = memoryOf(mem, rule, () => new NoveltyMemory()).add(key, d.warmup);
      if (isNew && (w.fired.get(rule.id)?.size ?? 0) < NOVEL_PER_WINDOW)
        fire(w, rule, { key, captures: c, value: 1, refs: [line.ref] });
      return;
    }
    case 'absence':
      memoryOf(mem, rule, () => new AbsenceMemory()).begin(
        keyOf(d.groupBy, c),
        line.time,
        line.ref,
        c,
      );
      return;
    case 'baseline':
      return; // judged per window, from w.matches
  }
}

/** Ends a window: what fired, as findings (superseded ones dropped), and memories trimmed. */
export function evaluateRules(
  ctx: RunContext,
  w: RuleWindow,
  window: WindowInfo,
  mem: RuleMemory,
): Finding[] {
  const { fired } = w;
  // The memories this device has, not every rule: most rules never matched here.
  for (const [id, slot] of mem) {
    const rule = ctx.rules.byId.get(id);
    if (!rule) {
      mem.delete(id); // a rule no longer in force
      continue;
    }
    const d = rule.detector;
    if (slot.kind !== d.kind) continue;
    if (d.kind === 'absence')
      for (const f of (slot.memory as AbsenceMemory).overdue(window.end, d.withinMs))
        fire(w, rule, f);
    else if (d.kind === 'count' || d.kind === 'distinct')
      (slot.memory as CountMemory | DistinctMemory).expire(window.end, d.windowMs ?? ctx.windowMs);
  }
  for (const rule of ctx.rules.baselines) {
    const d = rule.detector as Extract<Detector, { kind: 'baseline' }>;
    const n = w.matches.get(rule.id) ?? 0;
    const spike = memoryOf(mem, rule, () => new RateMemory()).baseline.observe(n, d.minimum);
    if (spike)
      fired.set(rule.id, new Map([['', { key: '', captures: {}, value: n, refs: [], spike }]]));
  }
  return fired.size === 0 ? [] : findingsOf(ctx, fired, window);
}

/** A window in which the device sent the agent nothing: states may still have stayed down too long. */
export function idleRules(ctx: RunContext, window: WindowInfo, mem: RuleMemory): Finding[] {
  const w = newRuleWindow();
  for (const [id, slot] of mem) {
    const rule = ctx.rules.byId.get(id);
    if (rule?.detector.kind !== 'absence' || slot.kind !== 'absence') continue;
    for (const f of (slot.memory as AbsenceMemory).overdue(window.end, rule.detector.withinMs))
      fire(w, rule, f);
  }
  return w.fired.size === 0 ? [] : findingsOf(ctx, w.fired, window);
}

function findingsOf(
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
  };
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
