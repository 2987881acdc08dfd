// An agent with its rules: the hand-written agent (its features, baselines and what the rule
// format cannot say) and the rules of the packs that name it, run side by side on the same
// lines. The rules come from a RuleBook that can be swapped while the engine runs: a rule edit
// keeps every detector's memory of the rules that stay, and the agent's own memory untouched.
import type { Agent, ObservedLine, WindowInfo } from '../agents/types.js';
import {
  AbsenceMemory,
  CountMemory,
  DistinctMemory,
  NoveltyMemory,
  RateMemory,
  type DetectorMemory,
} from './detectors.js';
import {
  evaluateRules,
  idleRules,
  newRuleWindow,
  observeRules,
  type RuleMemory,
  type RuleWindow,
  type RunContext,
} from './ruleRunner.js';
import { buildRuleSet, type RuleSet } from './ruleSet.js';
import type { Detector } from './ruleTypes.js';

/** The rules in force, shared by the agents of one engine, replaced whole on a change. */
export class RuleBook {
  private set: RuleSet;
  private version = 0;

  constructor(
    set: RuleSet,
    /** The agents' interval: the window of rules that give none. */
    readonly windowMs: number,
  ) {
    this.set = set;
  }

  static empty(windowMs: number): RuleBook {
    return new RuleBook(buildRuleSet([]), windowMs);
  }

  get current(): RuleSet {
    return this.set;
  }

  /** Bumped by every replace(), so agents can tell their cached view is stale. */
  get generation(): number {
    return this.version;
  }

  replace(set: RuleSet): void {
    this.set = set;
    this.version++;
  }
}

interface State {
  inner: unknown;
  rules: RuleWindow;
}

interface Memory {
  inner: unknown;
  rules: RuleMemory;
}

const SAVED = 'withRules/1';

export function withRules<S, M>(inner: Agent<S, M>, book: RuleBook): Agent<State, Memory> {
  const empty = {
    rules: [],
    byId: new Map(),
    baselines: [],
    byProgram: new Map(),
    anyProgram: [],
    programs: new Set<string>(),
  };
  let cache:
    { generation: number; ctx: RunContext; programs: ReadonlySet<string> | null } | undefined;
  const view = () => {
    if (cache?.generation === book.generation) return cache;
    const set = book.current;
    const rules = set.byAgent.get(inner.name) ?? empty;
    const programs =
      inner.programs === null ? null : new Set([...inner.programs, ...rules.programs]);
    cache = {
      generation: book.generation,
      ctx: {
        rules,
        allow: set.allow,
        windowMs: book.windowMs,
        ownPrograms: inner.programs,
        prepared: new Map(),
      },
      programs,
    };
    return cache;
  };

  return {
    name: inner.name,
    get programs() {
      return view().programs;
    },
    features: inner.features,
    baselines: inner.baselines,
    newWindow: () => ({ inner: inner.newWindow(), rules: newRuleWindow() }),
    newMemory: () => ({ inner: inner.newMemory(), rules: new Map() }),
    saveMemory: (m) => ({
      saved: SAVED,
      inner: inner.saveMemory ? inner.saveMemory(m.inner as M) : m.inner,
      rules: saveRuleMemory(m.rules),
    }),
    loadMemory(saved) {
      const s = saved as { saved?: unknown; inner?: unknown; rules?: unknown } | null;
      // A store written before rules existed holds the agent's own memory alone.
      const own = s?.saved === SAVED ? s.inner : saved;
      return {
        inner: inner.loadMemory ? inner.loadMemory(own) : (own ?? null),
        rules: s?.saved === SAVED ? loadRuleMemory(s.rules) : (new Map() as RuleMemory),
      };
    },
    observe(s, line: ObservedLine, m) {
      const { ctx } = view();
      if (ctx.allow.device(line.device)) return;
      if (inner.programs === null || inner.programs.has(line.record.program ?? ''))
        inner.observe(s.inner as S, line, m.inner as M);
      observeRules(ctx, line, s.rules, m.rules);
    },
    evaluate(s, window: WindowInfo, m) {
      const own = inner.evaluate(s.inner as S, window, m.inner as M);
      // An allowed device's lines reach neither the agent nor the rules (observe), so its own findings need no filter.
      const findings = [...own.findings, ...evaluateRules(view().ctx, s.rules, window, m.rules)];
      return { features: own.features, findings };
    },
    idle(window, m) {
      return idleRules(view().ctx, window, m.rules);
    },
  };
}

function saveRuleMemory(mem: RuleMemory): unknown {
  return Object.fromEntries([...mem].map(([id, { kind, memory }]) => [id, [kind, memory.save()]]));
}

const LOADERS: Record<Detector['kind'], (saved: unknown) => DetectorMemory> = {
  count: (saved) => CountMemory.load(saved),
  distinct: (saved) => DistinctMemory.load(saved),
  novelty: (saved) => NoveltyMemory.load(saved),
  absence: (saved) => AbsenceMemory.load(saved),
  baseline: (saved) => RateMemory.load(saved),
};

function loadRuleMemory(saved: unknown): RuleMemory {
  if (typeof saved !== 'object' || saved === null) throw new Error('rule memory: malformed');
  const mem: RuleMemory = new Map();
  for (const [id, entry] of Object.entries(saved as Record<string, unknown>)) {
    const [kind, data] = entry as [Detector['kind'], unknown];
    const load = LOADERS[kind];
    if (!load) throw new Error(`rule memory: unknown detector ${String(kind)}`);
    mem.set(id, { kind, memory: load(data) });
  }
  return mem;
}
