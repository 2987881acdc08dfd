// firewall: the kernel's log lines from fw4 (nftables) and iptables: port scans (many ports
// from one source), floods, and inbound hits on sensitive ports.
import { scoreByRatio, severityByRatio, Tally } from './tally.js';
import type { Agent, Finding } from './types.js';

const PORT_SCAN = 15; // distinct destination ports from one source in one window
const FLOOD = 300; // logged packets from one source in one window
const SENSITIVE_REPEAT = 10;
/** Ports whose exposure to the WAN is worth a look: remote admin, file sharing, TR-069, UPnP. */
const SENSITIVE = new Map<number, string>([
  [22, 'ssh'],
  [23, 'telnet'],
  [2323, 'telnet'],
  [3389, 'rdp'],
  [445, 'smb'],
  [139, 'netbios'],
  [1900, 'upnp'],
  [5555, 'adb'],
  [7547, 'tr-069'],
  [8291, 'winbox'],
  [161, 'snmp'],
  [5900, 'vnc'],
]);
const FIELD = /\b(IN|OUT|SRC|DST|PROTO|DPT)=(\S*)/g;

interface State {
  packets: Tally; // by source
  ports: Map<string, Set<number>>;
  sensitive: Tally<string>; // "port/service"
  sensitiveSources: Map<string, Set<string>>; // "port/service" -> sources
  lines: number;
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
  newWindow: () => ({
    packets: new Tally(),
    ports: new Map(),
    sensitive: new Tally(),
    sensitiveSources: new Map(),
    lines: 0,
  }),
  newMemory: () => null,

  observe(s, { ref, record }) {
    const m = record.message;
    if (!m.includes('SRC=')) return;
    s.lines++;
    const f: Record<string, string> = {};
    for (const [, key, value] of m.matchAll(FIELD)) f[key!] = value!;
    const src = f.SRC;
    if (!src) return;
    s.packets.add(src, ref);
    const port = Number(f.DPT);
    if (!Number.isInteger(port) || port <= 0) return;
    let ports = s.ports.get(src);
    if (!ports) s.ports.set(src, (ports = new Set()));
    if (ports.size < 65_536) ports.add(port);
    // Inbound: logged on the way in (no OUT interface).
    const service = SENSITIVE.get(port);
    if (service && !f.OUT) {
      const key = `${port}/${service}`;
      s.sensitive.add(key, ref);
      let sources = s.sensitiveSources.get(key);
      if (!sources) s.sensitiveSources.set(key, (sources = new Set()));
      if (sources.size < 1000) sources.add(src);
    }
  },

  evaluate(s) {
    const findings: Finding[] = [];
    for (const [src, ports] of s.ports) {
      if (ports.size < PORT_SCAN) continue;
      findings.push({
        type: 'port_scan',
        severity: severityByRatio(ports.size, PORT_SCAN, 4),
        confidence: 0.9,
        score: scoreByRatio(ports.size, PORT_SCAN),
        description: `port scan: ${src} probed ${ports.size} ports`,
        features: { ports: ports.size, packets: s.packets.count(src) },
        evidence: s.packets.refs(src),
      });
    }
    for (const [src, n] of s.packets.atLeast(FLOOD)) {
      if ((s.ports.get(src)?.size ?? 0) >= PORT_SCAN) continue; // already a scan
      findings.push({
        type: 'flood',
        severity: severityByRatio(n, FLOOD, 3),
        confidence: 0.8,
        score: scoreByRatio(n, FLOOD),
        description: `${n} packets from ${src} dropped in one window`,
        features: { packets: n },
        evidence: s.packets.refs(src),
      });
    }
    const scanners = new Set(
      [...s.ports].filter(([, ports]) => ports.size >= PORT_SCAN).map(([src]) => src),
    );
    for (const [service, n] of s.sensitive.atLeast(1)) {
      // A scanner's probes of this port are part of its scan, already reported.
      if ([...(s.sensitiveSources.get(service) ?? [])].every((src) => scanners.has(src))) continue;
      findings.push({
        type: 'sensitive_port_probe',
        severity: n >= SENSITIVE_REPEAT ? 3 : 2,
        confidence: 0.6,
        score: scoreByRatio(n, SENSITIVE_REPEAT),
        description: `${n} inbound connection attempt${n === 1 ? '' : 's'} to ${service}`,
        features: { hits: n },
        evidence: s.sensitive.refs(service),
      });
    }
    return {
      features: { lines: s.lines, packets: s.packets.total(), sources: s.packets.size },
      findings,
    };
  },
};
