// system: the kernel, netifd and procd. The window's features (link downs, out-of-memory
// kills, crash loops) and reboots: a boot is told by the kernel's uptime, a number the rule
// format cannot compare. Flapping, OOM kills, respawn loops, oopses and the rest are rules of the
// openwrt-system pack (agent-runtime/rules/).
import { Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const INTERFACE = /Interface '([^']+)' is now (up|down)/;
const LINK = /Network device '([^']+)' link is (up|down)/;
const OOM = /Out of memory: Kill(?:ed)? process \d+ \(([^)]+)\)|oom-kill:.*task=([^,\s]+)/;
const CRASH_LOOP = /Instance (\S+?)(?:::\S+)? s in a crash loop/;
const UPTIME = /^\[\s*(\d+)\.\d+\]/;

interface State {
  downs: Tally; // by interface or link
  oom: Tally;
  crashLoops: Tally;
  bootRefs: (number | string)[];
  lines: number;
}

export const systemAgent: Agent<State, null> = {
  name: 'system',
  features: ['lines', 'link_downs', 'oom_kills', 'crash_loops'],
  programs: new Set(['kernel', 'netifd', 'procd']),
  newWindow: () => ({
    downs: new Tally(),
    oom: new Tally(),
    crashLoops: new Tally(),
    bootRefs: [],
    lines: 0,
  }),
  newMemory: () => null,

  observe(s, { ref, record }) {
    s.lines++;
    const m = record.message;
    const link = INTERFACE.exec(m) ?? LINK.exec(m);
    if (link) {
      if (link[2] === 'down') s.downs.add(link[1]!, ref);
      return;
    }
    if (record.program === 'kernel') {
      const oom = OOM.exec(m);
      if (oom) {
        s.oom.add(oom[1] ?? oom[2] ?? 'unknown', ref);
        return;
      }
      // The kernel's first seconds of uptime: the device has just booted.
      const uptime = UPTIME.exec(m);
      if (uptime && Number(uptime[1]) < 5 && s.bootRefs.length < 5) s.bootRefs.push(ref);
      return;
    }
    const loop = CRASH_LOOP.exec(m);
    if (loop) s.crashLoops.add(loop[1]!, ref);
  },

  evaluate(s) {
    const findings: Finding[] = [];
    if (s.bootRefs.length > 0) {
      findings.push({
        type: 'reboot',
        severity: 2,
        confidence: 0.8,
        score: 0.5,
        description: 'the device rebooted',
        features: { boot_lines: s.bootRefs.length },
        evidence: s.bootRefs,
      });
    }
    return {
      features: {
        lines: s.lines,
        link_downs: s.downs.total(),
        oom_kills: s.oom.total(),
        crash_loops: s.crashLoops.total(),
      },
      findings,
    };
  },
};
