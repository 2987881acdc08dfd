// system: the kernel, netifd and procd. WAN or link flapping, out-of-memory kills, respawn
// loops and reboots.
import { scoreByRatio, severityByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const FLAPPING = 3; // times one interface or link went down in one window
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
    for (const [name, n] of s.downs.atLeast(FLAPPING)) {
      findings.push({
        type: name === 'wan' || name.startsWith('wan') ? 'wan_flapping' : 'link_flapping',
        severity: severityByRatio(n, FLAPPING, 4),
        confidence: 0.85,
        score: scoreByRatio(n, FLAPPING),
        description: `${name} went down ${n} times in one window`,
        features: { downs: n },
        evidence: s.downs.refs(name),
      });
    }
    for (const [proc, n] of s.oom.atLeast(1)) {
      findings.push({
        type: 'oom_kill',
        severity: n >= 3 ? 5 : 4,
        confidence: 0.95,
        score: scoreByRatio(n, 1),
        description: `the kernel killed ${proc} for lack of memory${n > 1 ? ` (${n} times)` : ''}`,
        features: { oom_kills: n },
        evidence: s.oom.refs(proc),
      });
    }
    for (const [service, n] of s.crashLoops.atLeast(1)) {
      findings.push({
        type: 'respawn_loop',
        severity: 4,
        confidence: 0.9,
        score: scoreByRatio(n, 1),
        description: `procd: ${service} is in a crash loop`,
        features: { crash_loops: n },
        evidence: s.crashLoops.refs(service),
      });
    }
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
