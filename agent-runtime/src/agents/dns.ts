// dns: dnsmasq and dnsmasq-dhcp. Query-rate and NXDOMAIN spikes (against the device's
// baseline) and long or high-entropy names (tunnelling, DGA): what needs code (an entropy, a
// parent domain). DHCP starvation, NAK storms, exhausted pools and the daemons' failures are
// rules of the openwrt-dns-dhcp pack (agent-runtime/rules/); this file still counts them as
// features, which models and baselines read.
import { entropy, scoreByRatio, severityByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const TUNNEL_QUERIES = 20; // long / high-entropy names under one parent domain
const LONG_LABEL = 40;
const HIGH_ENTROPY = 3.8;

interface State {
  discovers: Tally;
  naks: Tally;
  queries: number;
  nxdomain: number;
  suspicious: Tally; // by parent domain
  suspiciousNames: Set<string>;
  lines: number;
}

const MAC = /\b([0-9a-f]{2}(?::[0-9a-f]{2}){5})\b/i;
const QUERY = /^query\[[A-Z0-9]+\] (\S+) from /;

/** The registrable-looking parent of a name: its last two labels. */
function parentDomain(name: string): string {
  const labels = name.split('.');
  return labels.slice(-2).join('.');
}

export const dnsAgent: Agent<State, null> = {
  name: 'dns',
  features: [
    'lines',
    'queries',
    'nxdomain',
    'dhcp_discovers',
    'dhcp_clients',
    'dhcp_naks',
    'suspicious_queries',
  ],
  programs: new Set(['dnsmasq', 'dnsmasq-dhcp']),
  baselines: {
    queries: {
      minimum: 200,
      severity: 3,
      description: "DNS query rate far above this device's usual",
    },
    nxdomain: {
      minimum: 50,
      severity: 3,
      description: "NXDOMAIN answers far above this device's usual",
    },
    dhcp_discovers: {
      minimum: 15,
      severity: 2,
      description: "DHCP discovers far above this device's usual",
    },
  },
  newWindow: () => ({
    discovers: new Tally(),
    naks: new Tally(),
    queries: 0,
    nxdomain: 0,
    suspicious: new Tally(),
    suspiciousNames: new Set(),
    lines: 0,
  }),
  newMemory: () => null,

  observe(s, { ref, record }) {
    s.lines++;
    const m = record.message;
    if (record.program === 'dnsmasq-dhcp') {
      if (m.startsWith('DHCPDISCOVER'))
        s.discovers.add(MAC.exec(m)?.[1]?.toLowerCase() ?? 'unknown', ref);
      else if (m.startsWith('DHCPNAK'))
        s.naks.add(MAC.exec(m)?.[1]?.toLowerCase() ?? 'unknown', ref);
      return;
    }
    const q = QUERY.exec(m);
    if (q) {
      s.queries++;
      const name = q[1]!.toLowerCase();
      const first = name.split('.')[0] ?? '';
      if (first.length >= LONG_LABEL || (first.length >= 12 && entropy(first) >= HIGH_ENTROPY)) {
        const parent = parentDomain(name);
        s.suspicious.add(parent, ref);
        if (s.suspiciousNames.size < 1000) s.suspiciousNames.add(name);
      }
    } else if (m.includes(' is NXDOMAIN')) {
      s.nxdomain++;
    }
  },

  evaluate(s) {
    const findings: Finding[] = [];
    for (const [parent, n] of s.suspicious.atLeast(TUNNEL_QUERIES)) {
      findings.push({
        type: 'dns_tunnelling',
        severity: severityByRatio(n, TUNNEL_QUERIES, 4),
        confidence: 0.8,
        score: scoreByRatio(n, TUNNEL_QUERIES),
        description: `${n} queries for long or random-looking names under ${parent} (tunnelling or DGA)`,
        features: { suspicious_queries: n },
        evidence: s.suspicious.refs(parent),
      });
    }
    return {
      features: {
        lines: s.lines,
        queries: s.queries,
        nxdomain: s.nxdomain,
        dhcp_discovers: s.discovers.total(),
        dhcp_clients: s.discovers.size,
        dhcp_naks: s.naks.total(),
        suspicious_queries: s.suspicious.total(),
      },
      findings,
    };
  },
};
