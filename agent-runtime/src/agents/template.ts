// template: works on any program's logs. Mines templates online (drain.ts) per device, then
// reports templates never seen before (once the device's history is warm) and templates whose
// frequency jumps far above their own usual rate.
import { Drain, type Template } from './drain.js';
import { scoreByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const WARM_LINES = 1000; // lines of history before a new template is news
const WARM_WINDOWS = 3;
const NEW_BURST = 10; // new templates in one window that make a burst
const SURGE_MIN = 20;
const SURGE_FACTOR = 5;
const ALPHA = 0.2;

interface Memory {
  drain: Drain;
  lines: number;
  windows: number;
  /** Usual per-window count of each template, by id (an exponentially weighted mean). */
  rate: Map<number, number>;
}

interface State {
  counts: Tally<number>;
  created: { template: Template; program: string; ref: number | string }[];
  unmatched: number;
  lines: number;
  warm: boolean;
}

export const templateAgent: Agent<State, Memory> = {
  name: 'template',
  features: ['lines', 'templates', 'new_templates', 'unmatched'],
  programs: null,
  newWindow: () => ({ counts: new Tally(), created: [], unmatched: 0, lines: 0, warm: false }),
  newMemory: () => ({ drain: new Drain(), lines: 0, windows: 0, rate: new Map() }),
  saveMemory: (m) => ({
    drain: m.drain.save(),
    lines: m.lines,
    windows: m.windows,
    rate: [...m.rate],
  }),
  loadMemory(saved) {
    const m = saved as { drain?: unknown; lines?: unknown; windows?: unknown; rate?: unknown };
    if (
      typeof m?.lines !== 'number' ||
      typeof m.windows !== 'number' ||
      !Array.isArray(m.rate) ||
      !m.rate.every((r) => Array.isArray(r) && r.length === 2 && r.every(Number.isFinite))
    )
      throw new Error('template memory: malformed');
    return {
      drain: Drain.load(m.drain),
      lines: m.lines,
      windows: m.windows,
      rate: new Map(m.rate as [number, number][]),
    };
  },

  observe(s, { ref, record }, memory) {
    if (s.lines === 0) s.warm = memory.lines >= WARM_LINES && memory.windows >= WARM_WINDOWS;
    s.lines++;
    memory.lines++;
    const program = record.program ?? '-';
    const added = memory.drain.add(`${program} ${record.message}`);
    if (!added) {
      s.unmatched++;
      return;
    }
    s.counts.add(added.template.id, ref);
    if (added.created && s.created.length < 200)
      s.created.push({ template: added.template, program, ref });
  },

  evaluate(s, _window, memory) {
    const findings: Finding[] = [];
    if (s.warm && s.created.length > 0) {
      const n = s.created.length;
      const shown = s.created
        .slice(0, 3)
        .map((c) => `"${memory.drain.text(c.template).slice(0, 60)}"`);
      findings.push({
        type: n >= NEW_BURST ? 'new_template_burst' : 'new_template',
        severity: n >= NEW_BURST ? 2 : 1,
        confidence: 0.5,
        score: scoreByRatio(n, NEW_BURST),
        description: `${n} message type${n > 1 ? 's' : ''} never seen before: ${shown.join(', ')}${n > 3 ? ', ...' : ''}`,
        features: { new_templates: n },
        evidence: s.created.map((c) => c.ref).slice(0, 50),
      });
    }
    for (const id of s.counts.keys()) {
      const n = s.counts.count(id);
      const usual = memory.rate.get(id);
      if (
        usual !== undefined &&
        memory.windows >= 6 &&
        n >= SURGE_MIN &&
        n >= SURGE_FACTOR * Math.max(usual, 1)
      ) {
        const template = memory.drain.get(id);
        const text = template ? memory.drain.text(template) : '';
        findings.push({
          type: 'template_surge',
          severity: 2,
          confidence: 0.6,
          score: scoreByRatio(n, SURGE_FACTOR * Math.max(usual, 1)),
          description: `a message type usually seen ${usual.toFixed(1)} times a window appeared ${n} times${text ? `: "${text.slice(0, 60)}"` : ''}`,
          features: { count: n, usual: Number(usual.toFixed(2)) },
          evidence: s.counts.refs(id),
        });
      }
    }
    // Learn: every known template's rate moves toward this window's count (0 if absent).
    for (const [id, usual] of memory.rate)
      memory.rate.set(id, usual + ALPHA * (s.counts.count(id) - usual));
    for (const id of s.counts.keys())
      if (!memory.rate.has(id)) memory.rate.set(id, s.counts.count(id));
    memory.windows++;
    return {
      features: {
        lines: s.lines,
        templates: s.counts.size,
        new_templates: s.created.length,
        unmatched: s.unmatched,
      },
      findings,
    };
  },
};
