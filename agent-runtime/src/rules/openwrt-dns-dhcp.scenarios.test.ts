// The openwrt-dns-dhcp pack (agent-runtime/rules/openwrt-dns-dhcp.yaml) beyond single lines: its
// bursts, distinct counts, once-only reports, supersedes and absences, on lines written from the
// daemons' format strings (documentation addresses, made-up MACs), and the real OpenWrt sample.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AnalysisEngine } from '../agents/engine.js';
import { dnsAgent } from '../agents/dns.js';
import type { Anomaly } from '../agents/types.js';
import { analyzeLines } from '../analyze/analyzeLines.js';
import { BUILT_IN_PACKS, compilePacks, readPack } from './packFiles.js';
import { buildRuleSet } from './ruleSet.js';
import { RuleBook, withRules } from './withRules.js';
import { pushLines, rfc3339 } from '../../../test/fixtures/engineLines.js';

const MINUTE = 60_000;
const T0 = Date.parse('2026-03-02T10:00:00Z');
const here = path.dirname(fileURLToPath(import.meta.url));

const pack = await readPack(path.join(BUILT_IN_PACKS, 'openwrt-dns-dhcp.yaml'));
const rules = compilePacks([pack]);
const newAgent = () => withRules(dnsAgent, new RuleBook(buildRuleSet(rules), 5 * MINUTE));

// RFC 3164 priorities of facility daemon (3): crit 26, err 27, warning 28, notice 29, info 30.
const PRI = { crit: 26, err: 27, warn: 28, notice: 29, info: 30 } as const;
type Line = [offsetMs: number, level: keyof typeof PRI, text: string];

/** The pack's findings (the agent's own code findings left out) for lines from one router. */
function run(lines: Line[]): Anomaly[] {
  const engine = new AnalysisEngine([newAgent()], { windowMs: 5 * MINUTE });
  const raw = lines.map(
    ([offset, level, text]) => `<${PRI[level]}>${rfc3339(T0 + offset)} gw-home ${text}`,
  );
  return pushLines(engine, raw, new Date(T0 + 86_400_000)).filter((a) => a.rule !== undefined);
}

const summary = (found: Anomaly[]) => found.map((a) => [a.rule, a.severity, a.description]);
const mac = (i: number) =>
  `02:00:5e:10:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const every = (n: number, stepMs: number, f: (i: number) => [Line[1], string], from = 0): Line[] =>
  Array.from({ length: n }, (_, i) => [from + i * stepMs, ...f(i)]);
const dhcp = (msg: string) => `dnsmasq-dhcp[1537]: ${msg}`;
const dns = (msg: string) => `dnsmasq[1537]: ${msg}`;
const odhcpd = (msg: string) => `odhcpd[1204]: ${msg}`;
const odhcp6c = (msg: string) => `odhcp6c[3391]: ${msg}`;

test('DHCP starvation: many distinct MACs discovering on one interface, not a few clients retrying', () => {
  const attack = every(30, 3000, (i) => ['info', dhcp(`DHCPDISCOVER(br-lan) ${mac(i)} `)]);
  expect(summary(run(attack))).toEqual([
    [
      'dns.dnsmasq-dhcp-starvation',
      3,
      '30 distinct clients sent DHCPDISCOVER on br-lan in 5m (DHCP starvation?)',
    ],
  ]);
  // The same number of DISCOVERs from three clients is ordinary retrying.
  const retries = every(30, 3000, (i) => ['info', dhcp(`DHCPDISCOVER(br-lan) ${mac(i % 3)}`)]);
  expect(run(retries)).toEqual([]);
  // Clients are counted per interface: 20 on each of two LANs are below the threshold on both.
  const two = [
    ...every(20, 1000, (i) => ['info', dhcp(`DHCPDISCOVER(br-lan) ${mac(i)}`)]),
    ...every(20, 1000, (i) => ['info', dhcp(`DHCPDISCOVER(br-guest) ${mac(100 + i)}`)], 500),
  ].sort((a, b) => a[0] - b[0]);
  expect(run(two)).toEqual([]);
});

test('DHCP NAK storm: ten NAKs in a window, escalating with the count', () => {
  const naks = (n: number) =>
    every(n, 5000, (i) => [
      'info',
      dhcp(`DHCPNAK(br-lan) 192.168.8.${i + 2} ${mac(i)} wrong network`),
    ]);
  expect(run(naks(9))).toEqual([]);
  expect(summary(run(naks(12)))).toEqual([
    ['dns.dnsmasq-dhcp-nak-storm', 3, '12 DHCPNAK answers in 5m (last on br-lan: wrong network)'],
  ]);
  expect(run(naks(40)).map((a) => a.severity)).toEqual([5]);
});

test('DHCP pool exhausted: several clients refused, not one client retrying', () => {
  const one = every(20, 10_000, () => [
    'info',
    dhcp(`DHCPDISCOVER(br-guest) ${mac(7)} no address available`),
  ]);
  expect(run(one)).toEqual([]);
  const several = every(4, 20_000, (i) => [
    'info',
    dhcp(`DHCPDISCOVER(br-guest) ${mac(i)} no address available`),
  ]);
  expect(summary(run(several))).toEqual([
    [
      'dns.dnsmasq-dhcp-pool-exhausted',
      3,
      'DHCP pool on br-guest exhausted: 4 clients were refused an address in 10m (no address available)',
    ],
  ]);
});

test('concurrent-query limit: a short spike is quiet, minutes of saturation escalate', () => {
  const full = (n: number) =>
    every(n, 6000, () => [
      'warn',
      dns('Maximum number of concurrent DNS queries reached (max: 150)'),
    ]);
  expect(run(full(5))).toEqual([]);
  const found = run(full(12));
  expect(summary(found)).toEqual([
    [
      'dns.dnsmasq-forward-max',
      3,
      'dnsmasq hit its limit of concurrent forwarded queries 12 times in 15m (max 150): new queries are being dropped',
    ],
  ]);
  // 25 lines: two and a half minutes of saturation.
  expect(run(full(25)).map((a) => a.severity)).toEqual([4]);
});

test('rebind: a new domain is reported once at severity 2, a burst of one domain replaces it', () => {
  const blocked = (name: string) => dns(`possible DNS-rebind attack detected: ${name}`);
  const few: Line[] = [
    [0, 'warn', blocked('nas.corp.example')],
    [60_000, 'warn', blocked('nas.corp.example')],
    [30 * MINUTE, 'warn', blocked('nas.corp.example')],
  ];
  expect(summary(run(few))).toEqual([
    [
      'dns.dnsmasq-rebind-blocked',
      2,
      'DNS rebind protection blocked a private-address answer for nas.corp.example (first time)',
    ],
  ]);
  const burst = every(15, 10_000, () => ['warn', blocked('a.203-0-113-9.rebind.example')]);
  expect(summary(run(burst)).map(([rule, severity]) => [rule, severity])).toEqual([
    ['dns.dnsmasq-rebind-attack', 3],
  ]);
});

test('no upstream servers: reported only when no resolv file is read within 10 minutes', () => {
  const missing = dns('no servers found in /tmp/resolv.conf.d/resolv.conf.auto, will retry');
  const recovered: Line[] = [
    [0, 'warn', missing],
    [16_000, 'info', dns('reading /tmp/resolv.conf.d/resolv.conf.auto')],
    [16_000, 'info', dns('using nameserver 192.0.2.53#53')],
    ...every(
      5,
      5 * MINUTE,
      () => ['info', dhcp(`DHCPREQUEST(br-lan) 192.168.1.20 ${mac(1)}`)],
      MINUTE,
    ),
  ];
  expect(run(recovered)).toEqual([]);
  const stays: Line[] = [
    [0, 'warn', missing],
    ...every(
      5,
      5 * MINUTE,
      () => ['info', dhcp(`DHCPREQUEST(br-lan) 192.168.1.20 ${mac(1)}`)],
      MINUTE,
    ),
  ];
  expect(summary(run(stays))).toEqual([
    [
      'dns.dnsmasq-no-upstream-servers',
      3,
      'dnsmasq found no upstream DNS servers in /tmp/resolv.conf.d/resolv.conf.auto and has not read any for 10m: names outside the LAN do not resolve',
    ],
  ]);
});

test('dnsmasq start-up failure: one finding with the reason as evidence, not also the socket rule', () => {
  const found = run([
    [0, 'crit', dns('failed to create listening socket for 192.168.1.1: Address in use')],
    [1, 'crit', dns('FAILED to start up')],
  ]);
  expect(summary(found)).toEqual([
    ['dns.dnsmasq-startup-failed', 4, 'dnsmasq failed to start: DNS and DHCP for the LAN are down'],
  ]);
  expect(found[0]!.evidence).toEqual([1, 2]);
  // At run time (an interface that came up later) the same text is a warning of its own.
  expect(
    summary(
      run([[0, 'warn', dns('failed to create listening socket for 192.168.2.1: Address in use')]]),
    ),
  ).toEqual([
    [
      'dns.dnsmasq-listen-socket-failed',
      3,
      'dnsmasq could not listen on 192.168.2.1: Address in use',
    ],
  ]);
});

test('a static-lease conflict replaces the "not using configured address" that follows it', () => {
  const found = run([
    [0, 'info', dhcp(`DHCPDECLINE(br-lan) 192.168.1.30 ${mac(3)} `)],
    [1, 'warn', dhcp('disabling DHCP static address 192.168.1.30 for 10m')],
    [
      4000,
      'warn',
      dhcp('not using configured address 192.168.1.30 because it was previously declined'),
    ],
  ]);
  expect(summary(found).map(([rule, severity]) => [rule, severity])).toEqual([
    ['dns.dnsmasq-dhcp-static-conflict', 3],
  ]);
});

test('odhcpd: the no-default-route warning repeated with every RA is reported once, at severity 2', () => {
  const ra = every(20, 4 * MINUTE, () => [
    'warn',
    odhcpd('No default route present, setting ra_lifetime to 0!'),
  ]);
  expect(summary(run(ra))).toEqual([
    [
      'dns.odhcpd-no-default-route',
      2,
      'odhcpd announces no IPv6 default route to LAN clients: No default route present (first time seen)',
    ],
  ]);
});

test('odhcp6c: a send failure while the WAN comes up is quiet, a steady stream is not', () => {
  expect(run([[0, 'err', odhcp6c('Failed to send RS (Address not available)')]])).toEqual([]);
  const stream = every(8, 60_000, (i) => [
    'err',
    odhcp6c(
      `Failed to send ${i % 2 ? 'SOLICIT' : 'REQUEST'} message to ff02::1:2 (Network unreachable)`,
    ),
  ]);
  expect(run(stream).map((a) => [a.rule, a.severity])).toEqual([['dns.odhcp6c-send-failed', 3]]);
});

test('the real OpenWrt sample stays quiet under this pack', async () => {
  const sample = readFileSync(path.resolve(here, '../../data/openwrt/logread-sample.log'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
  const found: Anomaly[] = [];
  await analyzeLines([sample.map((l, i) => [i + 1, l] as [number, string])], {
    agents: [newAgent()],
    windowMs: 5 * MINUTE,
    defaultHost: 'gw-home',
    onAnomaly: (a) => found.push(a),
  });
  expect(found.filter((a) => a.rule !== undefined)).toEqual([]);
});
