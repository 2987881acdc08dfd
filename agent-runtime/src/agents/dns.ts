// dns: dnsmasq and dnsmasq-dhcp. DHCP starvation and pool exhaustion, NAK storms, query-rate
// and NXDOMAIN spikes (against the device's baseline), and long or high-entropy names
// (tunnelling, DGA).
import { entropy, scoreByRatio, severityByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const STARVATION_MACS = 25; // distinct clients sending DHCPDISCOVER in one window
const NAK_STORM = 10;
const TUNNEL_QUERIES = 20; // long / high-entropy names under one parent domain
const LONG_LABEL = 40;
const HIGH_ENTROPY = 3.8;

interface State {
  discovers: Tally;
  naks: Tally;
  exhausted: Tally;
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
    exhausted: new Tally(),
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
      if (m.includes('no address available')) s.exhausted.add('pool', ref);
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
    const clients = s.discovers.size;
    if (clients >= STARVATION_MACS || s.exhausted.total() > 0) {
      findings.push({
        type: 'dhcp_starvation',
        severity: s.exhausted.total() > 0 ? 4 : severityByRatio(clients, STARVATION_MACS, 3),
        confidence: s.exhausted.total() > 0 && clients >= STARVATION_MACS ? 0.95 : 0.75,
        score: scoreByRatio(Math.max(clients, 1), STARVATION_MACS),
        description:
          s.exhausted.total() > 0
            ? `DHCP pool exhausted (${s.exhausted.total()} "no address available") with ${clients} clients discovering`
            : `${clients} distinct clients sent DHCPDISCOVER in one window`,
        features: {
          dhcp_clients: clients,
          dhcp_discovers: s.discovers.total(),
          dhcp_exhausted: s.exhausted.total(),
        },
        evidence: [...s.exhausted.allRefs(), ...s.discovers.allRefs()].slice(0, 50),
      });
    }
    const naks = s.naks.total();
    if (naks >= NAK_STORM) {
      findings.push({
        type: 'dhcp_nak_storm',
        severity: severityByRatio(naks, NAK_STORM, 3),
        confidence: 0.8,
        score: scoreByRatio(naks, NAK_STORM),
        description: `${naks} DHCPNAK answers in one window`,
        features: { dhcp_naks: naks },
        evidence: s.naks.allRefs(),
      });
    }
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
        dhcp_clients: clients,
        dhcp_naks: naks,
        suspicious_queries: s.suspicious.total(),
      },
      findings,
    };
  },
};
