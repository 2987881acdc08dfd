// Runs one agent's rules over one device's lines: each line against the rules that read its
// program, each match into its rule's detector; at the end of a window, what fired becomes
// findings (with the rule's id, evidence and remediation). Pure apart from the memory objects
// it is handed, which the engine keeps per device and saves with its state.
import type { Finding, ObservedLine, WindowInfo } from '../agents/types.js';
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
import { matchText, MATCH_LIMIT } from './matchLine.js';
import { findingsOf } from './ruleFindings.js';
import { preparedFor, type Prepared, type RunContext } from './ruleIndex.js';
import type { CompiledRule, Detector } from './ruleTypes.js';

export { matchLine, MATCH_LIMIT } from './matchLine.js';
export type { RunContext } from './ruleIndex.js';
export { fill, humanDuration } from './ruleFindings.js';

/** What fired in one device's window, by rule id then key. */
export interface RuleWindow {
  fired: Map<string, Map<string, Fire>>;
  matches: Map<string, number>;
}

/** A device's detector memories, by rule id (kept across windows, saved with the engine's state). */
export type RuleMemory = Map<string, { kind: Detector['kind']; memory: DetectorMemory }>;

const NOVEL_PER_WINDOW = 20;

export const newRuleWindow = (): RuleWindow => ({ fired: new Map(), matches: new Map() });

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
