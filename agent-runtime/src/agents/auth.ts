// auth: dropbear and sshd logins, and LuCI (uhttpd) logins to the web UI. A success after many
// failures from its source, and a login from a source never seen before: each joins two kinds
// of line (or a line and what the device remembers), which the rule format cannot say. Brute
// force, credential stuffing and distributed attacks are rules of the auth pack
// (agent-runtime/rules/auth.yaml); this file still counts failures as features.
import { scoreByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const FAILURES_BEFORE_SUCCESS = 3;
const KNOWN_SOURCES_LIMIT = 10_000; // per device, oldest forgotten first

const FAILED = [
  /Bad password attempt for '([^']*)' from (\S+?)(?::\d+)?$/,
  /Login attempt for nonexistent user (?:'([^']*)' )?from (\S+?)(?::\d+)?$/,
  /Failed password for (?:invalid user )?(\S+) from (\S+)/,
  /luci: failed login on \S+ for (\S+) from (\S+)/,
];
const SUCCEEDED = [
  /(?:Password|Pubkey) auth succeeded for '([^']*)' from (\S+?)(?::\d+)?$/,
  /Accepted (?:password|publickey) for (\S+) from (\S+)/,
  /luci: accepted login on \S+ for (\S+) from (\S+)/,
];

interface State {
  failures: Tally; // by source
  successes: { source: string; user: string; ref: number | string }[];
  lines: number;
}

/** Sources each device has seen log in before, insertion-ordered so the oldest go first. */
type Memory = Set<string>;

function match(patterns: RegExp[], message: string): [string, string] | undefined {
  for (const p of patterns) {
    const m = p.exec(message);
    if (m) return [m[1] ?? '', m[2]!];
  }
  return undefined;
}

export const authAgent: Agent<State, Memory> = {
  name: 'auth',
  features: ['lines', 'failures', 'successes', 'failure_sources'],
  programs: new Set(['dropbear', 'sshd', 'uhttpd', 'luci']),
  baselines: {
    failures: {
      minimum: 10,
      severity: 2,
      description: "login failures far above this device's usual",
    },
  },
  newWindow: () => ({ failures: new Tally(), successes: [], lines: 0 }),
  newMemory: () => new Set<string>(),
  saveMemory: (known) => [...known],
  loadMemory(saved) {
    if (!Array.isArray(saved) || !saved.every((s) => typeof s === 'string'))
      throw new Error('auth memory: expected a list of sources');
    return new Set(saved);
  },

  observe(s, { ref, record }) {
    s.lines++;
    const failed = match(FAILED, record.message);
    if (failed) {
      s.failures.add(failed[1], ref);
      return;
    }
    const ok = match(SUCCEEDED, record.message);
    if (ok) s.successes.push({ user: ok[0], source: ok[1], ref });
  },

  evaluate(s, _window, known) {
    const findings: Finding[] = [];
    for (const { source, user, ref } of s.successes) {
      const failures = s.failures.count(source);
      if (failures >= FAILURES_BEFORE_SUCCESS) {
        findings.push({
          type: 'success_after_failures',
          severity: 5,
          confidence: 0.85,
          score: scoreByRatio(failures, FAILURES_BEFORE_SUCCESS),
          description: `login as '${user}' from ${source} succeeded after ${failures} failures`,
          features: { failures },
          evidence: [...s.failures.refs(source), ref],
        });
      } else if (!known.has(source) && known.size > 0) {
        findings.push({
          type: 'new_login_source',
          severity: 2,
          confidence: 0.5,
          score: 0.5,
          description: `login as '${user}' from ${source}, a source not seen before`,
          features: { failures },
          evidence: [ref],
        });
      }
      known.delete(source);
      known.add(source);
      if (known.size > KNOWN_SOURCES_LIMIT) known.delete(known.values().next().value!);
    }
    return {
      features: {
        lines: s.lines,
        failures: s.failures.total(),
        successes: s.successes.length,
        failure_sources: s.failures.size,
      },
      findings,
    };
  },
};
