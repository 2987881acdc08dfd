// The firewall pack (agent-runtime/rules/firewall.yaml) beyond single lines: a scan is one finding
// (its flood and its sensitive-port hits superseded), for fw4, fw3 and IPv6 lines alike; the
// scan counts per source in a sliding window, so a scan across a window boundary is still found
// and a slow one is not; probes are inbound only; the demo's generated scan is found; a full
// conntrack table is reported. Lines are written from the kernel's netfilter log format
// (net/netfilter/nf_log_syslog.c) behind firewall4 / firewall3 prefixes.
import path from 'node:path';

import { AnalysisEngine } from '../agents/engine.js';
import { firewallAgent } from '../agents/firewall.js';
import type { Anomaly } from '../agents/types.js';
import { scenarios, seededRandom } from '../demo/attacks.js';
import { BUILT_IN_PACKS, compilePacks, readPack } from './packFiles.js';
import { buildRuleSet } from './ruleSet.js';
import { RuleBook, withRules } from './withRules.js';
import { pushLines, rfc3339 } from '../../../test/fixtures/engineLines.js';

const MINUTE = 60_000;
const WINDOW = 5 * MINUTE;
const T0 = Date.parse('2026-03-02T10:00:00Z');

const pack = await readPack(path.join(BUILT_IN_PACKS, 'firewall.yaml'));
const rules = compilePacks([pack]);

/** Lines as [offset ms, "kernel: ..." text] from one router (kern.warn), through the firewall agent. */
function run(lines: [number, string][]): Anomaly[] {
  const agent = withRules(firewallAgent, new RuleBook(buildRuleSet(rules), WINDOW));
  const engine = new AnalysisEngine([agent], { windowMs: WINDOW });
  const raw = lines.map(([offset, text]) => `<4>${rfc3339(T0 + offset)} gw-home ${text}`);
  return pushLines(engine, raw, new Date(T0 + 86_400_000)).filter((a) =>
    a.rule?.startsWith('firewall.'),
  );
}

const summary = (found: Anomaly[]): string[] =>
  found.map((a) => `${a.rule} ${a.severity} ${a.description}`);

const MAC = 'MAC=02:00:5e:10:00:01:02:00:5e:10:00:02:08:00';
/** An IPv4 TCP segment as nf_log prints it, behind a prefix ("drop wan in: ", "REJECT(src wan)"). */
const tcp4 = (prefix: string, io: string, src: string, dport: number, flags = 'SYN'): string =>
  `kernel: [ 1234.567890] ${prefix}${io} SRC=${src} DST=198.51.100.2 LEN=44 TOS=0x00 PREC=0x00 TTL=242 ID=54321 PROTO=TCP SPT=51234 DPT=${dport} WINDOW=1024 RES=0x00 ${flags} URGP=0`;
const wanIn = (src: string, dport: number, flags?: string): string =>
  tcp4('drop wan in: ', `IN=eth1 OUT= ${MAC}`, src, dport, flags);
const ip6 = (n: number): string =>
  `2001:0db8:0040:0000:0000:0000:0000:${n.toString(16).padStart(4, '0')}`;
const tcp6 = (src: string, dport: number): string =>
  `kernel: [ 1236.000001] drop wan in: IN=pppoe-wan OUT= MAC= SRC=${src} DST=2001:0db8:0001:0000:0000:0000:0000:0001 LEN=80 TC=0 HOPLIMIT=52 FLOWLBL=0 PROTO=TCP SPT=44321 DPT=${dport} WINDOW=64240 RES=0x00 SYN URGP=0`;
const every = (n: number, stepMs: number, f: (i: number) => string, from = 0): [number, string][] =>
  Array.from({ length: n }, (_, i) => [from + i * stepMs, f(i)]);

test('a port scan is one finding for its source, whatever the firewall wrote the lines', () => {
  // 20 ports in a minute, the first three sensitive: one port_scan, the probes part of it.
  const fw4 = every(20, 3000, (i) => wanIn('203.0.113.7', [22, 23, 445][i] ?? 8000 + i));
  expect(summary(run(fw4))).toEqual([
    'firewall.port-scan 4 port scan: 203.0.113.7 probed 20 ports within 5m (last: 8010, 8011, 8012, 8013, 8014, 8015, 8016, 8017, 8018, 8019)',
  ]);
  // firewall3 before 2018 ("REJECT(src wan)" glued to IN=) and IPv6 (%pI6: eight 4-digit groups).
  const fw3 = every(16, 1000, (i) =>
    tcp4('REJECT(src wan)', `IN=eth0.2 OUT= ${MAC}`, '198.51.100.77', 1000 + i),
  );
  expect(run(fw3).map((a) => [a.rule, a.features])).toEqual([
    ['firewall.port-scan', { ports: 16 }],
  ]);
  const v6 = every(15, 1000, (i) => tcp6(ip6(0x15), 2000 + i));
  expect(run(v6).map((a) => a.description)).toEqual([
    expect.stringMatching(/^port scan: 2001:0db8:0040:0000:0000:0000:0000:0015 probed 15 ports/),
  ]);
});

test('scans count per source in a sliding window: across a boundary yes, slow or spread no', () => {
  // 16 ports from 4:30 to 5:30: the analysis windows split it 8/8, the sliding window does not.
  const straddling = every(16, 4000, (i) => wanIn('203.0.113.7', 3000 + i), 4.5 * MINUTE);
  expect(run(straddling).map((a) => a.rule)).toEqual(['firewall.port-scan']);
  // One port every 30 s: never 15 within 5 minutes.
  const slow = every(40, 30_000, (i) => wanIn('203.0.113.7', 3000 + i));
  expect(run(slow)).toEqual([]);
  // 20 ports, but from 10 sources (two each): nobody scanned.
  const spread = every(20, 1000, (i) => wanIn(`203.0.113.${10 + (i % 10)}`, 3000 + i));
  expect(run(spread)).toEqual([]);
});

test('a flood is reported for its source; a scanner flooding is reported as the scan', () => {
  const udp = (src: string) =>
    `kernel: [ 1235.000000] drop wan in: IN=eth1 OUT= ${MAC} SRC=${src} DST=198.51.100.2 LEN=28 TOS=0x00 PREC=0x00 TTL=51 ID=0 PROTO=UDP SPT=40125 DPT=53 LEN=8`;
  expect(summary(run(every(300, 200, () => udp('203.0.113.99'))))).toEqual([
    'firewall.flood 3 300 logged packets from 203.0.113.99 within 5m',
  ]);
  // Escalated as the code did: twice the threshold is high.
  expect(summary(run(every(600, 200, () => udp('203.0.113.99'))))).toEqual([
    'firewall.flood 4 600 logged packets from 203.0.113.99 within 5m',
  ]);
  expect(run(every(299, 200, () => udp('203.0.113.99')))).toEqual([]);
  const scan = every(310, 200, (i) => wanIn('203.0.113.23', 1 + i));
  expect(run(scan).map((a) => a.rule)).toEqual(['firewall.port-scan']);
});

test('sensitive ports: inbound only, one source is one finding, ten hits raise it', () => {
  const probes = [
    ...every(3, 1000, () => wanIn('198.51.100.1', 23)),
    [4000, wanIn('198.51.100.2', 7547)],
    // Not probes: forwarded to a LAN host, sent by the router, a LAN host going out, a late segment.
    [5000, tcp4('drop wan forward: ', `IN=eth1 OUT=br-lan ${MAC}`, '198.51.100.3', 22)],
    [6000, tcp4('reject wan out: ', 'IN= OUT=eth1', '198.51.100.2', 23)],
    [7000, tcp4('@rule[3]: ', `IN=br-lan OUT=eth1 ${MAC}`, '192.168.1.23', 445)],
    [8000, wanIn('198.51.100.4', 22, 'ACK FIN')],
    // A neighbour's SSDP NOTIFY to the multicast group, not to the router.
    ...every(
      12,
      100,
      () =>
        `kernel: [ 1242.000000] drop wan in: IN=eth1 OUT= ${MAC} SRC=203.0.113.50 DST=239.255.255.250 LEN=326 TOS=0x00 PREC=0x00 TTL=4 ID=0 DF PROTO=UDP SPT=1900 DPT=1900 LEN=306`,
      9000,
    ),
  ] as [number, string][];
  expect(summary(run(probes))).toEqual([
    'firewall.sensitive-port-probe 2 3 inbound connection attempt(s) from 198.51.100.1 to a sensitive port (last: TCP port 23)',
    'firewall.sensitive-port-probe 2 1 inbound connection attempt(s) from 198.51.100.2 to a sensitive port (last: TCP port 7547)',
  ]);
  const repeated = every(12, 2000, (i) => wanIn('198.51.100.1', [22, 23, 2323][i % 3]!));
  expect(summary(run(repeated))).toEqual([
    'firewall.sensitive-port-probe-repeated 3 12 inbound connection attempts from 198.51.100.1 to sensitive ports within 5m (last: TCP port 2323)',
  ]);
});

test("an ICMP error's inner packet is not the sender's probe", () => {
  // Port-unreachable errors quoting the router's own traceroute probes: the inner DPT is not
  // a port 203.0.113.9 tried, so 20 of them are no scan (and no probe of port 22).
  const icmp = every(
    20,
    1000,
    (i) =>
      `kernel: [ 1238.000000] drop wan in: IN=eth1 OUT= ${MAC} SRC=203.0.113.9 DST=198.51.100.2 LEN=56 TOS=0x00 PREC=0x00 TTL=60 ID=4242 PROTO=ICMP TYPE=3 CODE=3 [SRC=198.51.100.2 DST=203.0.113.9 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=1 PROTO=UDP SPT=33434 DPT=${i === 0 ? 22 : 33434 + i} LEN=8 ] `,
  );
  expect(run(icmp)).toEqual([]);
});

test("the demo's generated port scan is found as a scan, and only as one", () => {
  const scenario = scenarios.find((s) => s.name === 'Port scan from the WAN')!;
  const lines = scenario
    .lines(seededRandom(1))
    .map(([offset, text]) => [offset, text.replace(/^kern\.warn /, '')] as [number, string]);
  const found = run(lines);
  expect(found.map((a) => [a.type, a.severity, a.rule])).toEqual([
    ['port_scan', 4, 'firewall.port-scan'],
  ]);
});

test('a full conntrack table is reported once per window, with its count', () => {
  const full = every(5, 1000, (i) =>
    i === 2
      ? 'kernel: [ 5322.000000] net_ratelimit: 3939 callbacks suppressed'
      : 'kernel: [ 5321.123456] nf_conntrack: nf_conntrack: table full, dropping packet',
  );
  expect(summary(run(full))).toEqual([
    'firewall.conntrack-table-full 3 the connection-tracking table is full: the kernel drops new connections (4 lines within 5m)',
  ]);
});
