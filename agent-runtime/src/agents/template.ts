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
const SEVERE_PER_WINDOW = 10; // new error-level message types reported one by one, at most

/**
 * Programs whose err level says nothing: procd relays their standard error as daemon.err
 * (`procd_set_param stderr 1` in their init scripts), so hostapd's start-up banner and every
 * LuCI request line arrive as errors. New message types of theirs stay informational.
 */
const STDERR_AT_ERR = new Set(['hostapd', 'wpa_supplicant', 'uhttpd']);

/**
 * How much a message type never seen before matters, from its syslog level and program: crit or
 * worse is news at once (4); err is 3 from the kernel, whose printk levels are deliberate, 2 from
 * daemons that log at err for failures that may be transient, 1 from those that relay stderr.
 * Below err, novelty is routine (undefined: left to the warm-up rule).
 */
/** A template's text without the program it was mined with (the first token). */
function withoutProgram(text: string, program: string): string {
  return text.startsWith(`${program} `) ? text.slice(program.length + 1) : text;
}

export function noveltySeverity(level: string | null, program: string): 1 | 2 | 3 | 4 | undefined {
  if (level === 'emerg' || level === 'alert' || level === 'crit') return 4;
  if (level !== 'err') return undefined;
  if (program === 'kernel') return 3;
  return STDERR_AT_ERR.has(program) ? 1 : 2;
}

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
  /** New message types at err or worse: news at once, with no warm-up. */
  severe: {
    template: Template;
    program: string;
    level: string;
    severity: 1 | 2 | 3 | 4;
    ref: number | string;
  }[];
  unmatched: number;
  lines: number;
  warm: boolean;
}

export const templateAgent: Agent<State, Memory> = {
  name: 'template',
  features: ['lines', 'templates', 'new_templates', 'unmatched'],
  programs: null,
  newWindow: () => ({
    counts: new Tally(),
    created: [],
    severe: [],
    unmatched: 0,
    lines: 0,
    warm: false,
  }),
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
    if (!added.created) return;
    const severity = noveltySeverity(record.level, program);
    if (severity !== undefined) {
      if (s.severe.length < SEVERE_PER_WINDOW)
        s.severe.push({ template: added.template, program, level: record.level!, severity, ref });
    } else if (s.created.length < 200) s.created.push({ template: added.template, program, ref });
  },

  evaluate(s, _window, memory) {
    const findings: Finding[] = [];
    for (const n of s.severe)
      findings.push({
        type: 'new_error_message',
        severity: n.severity,
        confidence: 0.6,
        score: n.severity / 5,
        description: `${n.program} logged a message never seen before at ${n.level}: "${withoutProgram(memory.drain.text(n.template), n.program).slice(0, 100)}"`,
        features: { new_templates: 1 },
        evidence: [n.ref],
        remediation:
          'Read the line and the ones around it (edgewarden anomaly evidence): a first error from a daemon or the kernel often marks a crash, a hardware fault or a broken configuration. If it is expected, it is not reported again: the message type is now known.',
      });
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
        new_templates: s.created.length + s.severe.length,
        unmatched: s.unmatched,
      },
      findings,
    };
  },
};
