// firewall: the kernel's packet log lines from fw4 (nftables) and fw3 (iptables). Port scans
// (many ports from one source), floods (many logged packets from one source), inbound hits on
// sensitive ports and a full conntrack table are rules of the firewall pack
// (agent-runtime/rules/firewall.yaml); this file keeps the features (logged lines, packets,
// distinct sources) and their baselines against the device's own usual, which a rule's
// per-key counts do not give.
import type { Agent } from './types.js';

/** The packet's source: the first SRC= field (an ICMP error's inner packet comes after it). */
const SOURCE = /\bSRC=(\S+)/;
/** Distinct sources kept per window: the feature saturates there rather than memory growing. */
const SOURCES_LIMIT = 65_536;

interface State {
  lines: number;
  packets: number;
  sources: Set<string>;
}

export const firewallAgent: Agent<State, null> = {
  name: 'firewall',
  features: ['lines', 'packets', 'sources'],
  programs: new Set(['kernel']),
  baselines: {
    packets: {
      minimum: 200,
      severity: 3,
      description: "firewall drops far above this device's usual",
    },
    sources: {
      minimum: 50,
      severity: 2,
      description: 'far more distinct sources hitting the firewall than usual',
    },
  },
  newWindow: () => ({ lines: 0, packets: 0, sources: new Set() }),
  newMemory: () => null,

  observe(s, { record }) {
    const m = record.message;
    if (!m.includes('SRC=')) return;
    s.lines++;
    const src = SOURCE.exec(m)?.[1];
    if (!src) return;
    s.packets++;
    if (s.sources.size < SOURCES_LIMIT) s.sources.add(src);
  },

  evaluate(s) {
    return {
      features: { lines: s.lines, packets: s.packets, sources: s.sources.size },
      findings: [],
    };
  },
};
