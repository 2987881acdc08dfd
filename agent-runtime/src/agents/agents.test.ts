// The engine's windows and baselines, and the rules of each agent, on small hand-made streams.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

import { injectAttacks } from '../demo/attacks.js';
import { SyslogParser } from '../parse/syslog.js';
import { Drain } from './drain.js';
import { AnalysisEngine } from './engine.js';
import { ruledAgents } from '../rules/ruledAgents.js';
import { agentNames, builtInAgents } from './registry.js';
import type { Agent, AgentName, Anomaly } from './types.js';

const parser = new SyslogParser({ referenceTime: new Date('2026-11-23T12:00:00Z') });
const T0 = Date.parse('2026-11-23T10:00:00Z');
const MIN = 60_000;

/** Runs agents over [offset ms, raw line] pairs; each line's ref is its index. */
function run(agents: Agent[], lines: [number, string, string?][], windowMs = 5 * MIN): Anomaly[] {
  const engine = new AnalysisEngine(agents, { windowMs });
  const out: Anomaly[] = [];
  lines.forEach(([offset, text, device], i) => {
    const outcome = parser.parse(`<30>Nov 23 10:00:00 x ${text}`);
    if (!outcome.ok) throw new Error(outcome.reason);
    out.push(
      ...engine.push({ ref: i, device: device ?? 'gw', time: T0 + offset, record: outcome.record }),
    );
  });
  return [...out, ...engine.flush()];
}

const agent = (name: AgentName): Agent => builtInAgents[name];
// The agents as programs run them, with the built-in rule packs (what moved out of their code).
const ruled = await ruledAgents(agentNames, { windowMs: 5 * MIN });
const withPacks = (name: AgentName): Agent => ruled.agents.find((a) => a.name === name)!;
const types = (anomalies: Anomaly[]): string[] => anomalies.map((a) => a.type);

describe('engine', () => {
  test('windows are per device, and every finding carries its window and device', () => {
    const lines: [number, string, string][] = [];
    for (let i = 0; i < 6; i++)
      lines.push([
        i * 1000,
        `dropbear[1]: Bad password attempt for 'root' from 192.0.2.9:1234`,
        'gw-a',
      ]);
    lines.push([2000, `dropbear[1]: Bad password attempt for 'root' from 192.0.2.9:1234`, 'gw-b']);
    const found = run([withPacks('auth')], lines);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      agent: 'auth',
      device: 'gw-a',
      type: 'brute_force',
      rule: 'auth.dropbear-brute-force',
      windowStart: '2026-11-23T10:00:00.000Z',
      windowEnd: '2026-11-23T10:05:00.000Z',
      evidence: [0, 1, 2, 3, 4, 5],
    });
  });

  test('counts in different windows are not added together', () => {
    const lines: [number, string][] = [];
    for (let i = 0; i < 4; i++)
      lines.push([i * 1000, `dropbear[1]: Bad password attempt for 'root' from 192.0.2.9:1`]);
    for (let i = 0; i < 4; i++)
      lines.push([
        6 * MIN + i * 1000,
        `dropbear[1]: Bad password attempt for 'root' from 192.0.2.9:1`,
      ]);
    expect(run([agent('auth')], lines)).toEqual([]);
  });

  test('lines route only to the agents that read their program', () => {
    const seen: string[] = [];
    const spy: Agent<null, null> = {
      name: 'system',
      programs: new Set(['netifd']),
      features: [],
      newWindow: () => null,
      newMemory: () => null,
      observe: (_s, line) => void seen.push(line.record.program ?? ''),
      evaluate: () => ({ features: {}, findings: [] }),
    };
    run(
      [spy],
      [
        [0, 'netifd: x'],
        [1, 'dnsmasq[1]: y'],
        [2, 'netifd: z'],
      ],
    );
    expect(seen).toEqual(['netifd', 'netifd']);
  });

  test("a feature far above the device's own baseline is a spike, once history is warm", () => {
    const lines: [number, string][] = [];
    // 20 quiet windows of 20 dropped packets from many sources, then one of 400.
    for (let w = 0; w < 21; w++) {
      const n = w === 20 ? 400 : 20;
      for (let i = 0; i < n; i++)
        lines.push([
          w * 5 * MIN + i * 10,
          `kernel: drop wan in: IN=eth0 OUT= SRC=198.51.100.${i % 20} DST=192.0.2.1 PROTO=UDP DPT=9999`,
        ]);
    }
    const found = run([agent('firewall')], lines);
    expect(types(found)).toEqual(['packets_spike']);
    expect(found[0]!.windowStart).toBe(new Date(T0 + 100 * MIN).toISOString());
    expect(found[0]!.features).toMatchObject({ packets: 400 });
  });
});

test('engine: a line without a usable time is counted and skipped, not windowed', () => {
  const engine = new AnalysisEngine([agent('auth')], { windowMs: 5 * MIN });
  const outcome = parser.parse(
    `<30>Nov 23 10:00:00 x dropbear[1]: Bad password attempt for 'root' from 192.0.2.9:1`,
  );
  if (!outcome.ok) throw new Error(outcome.reason);
  expect(engine.push({ ref: 1, device: 'gw', time: Number.NaN, record: outcome.record })).toEqual(
    [],
  );
  expect(engine.flush()).toEqual([]);
  expect(engine.stats).toMatchObject({ lines: 0, invalid: 1, windows: 0 });
});

describe('auth', () => {
  test('a success after failures from the same source is critical', () => {
    const lines: [number, string][] = [
      [0, `dropbear[1]: Bad password attempt for 'root' from 203.0.113.5:1000`],
      [1, `dropbear[1]: Bad password attempt for 'root' from 203.0.113.5:1001`],
      [2, `dropbear[1]: Bad password attempt for 'root' from 203.0.113.5:1002`],
      [3, `dropbear[1]: Password auth succeeded for 'root' from 203.0.113.5:1003`],
    ];
    const [finding] = run([agent('auth')], lines);
    expect(finding).toMatchObject({
      type: 'success_after_failures',
      severity: 5,
      evidence: [0, 1, 2, 3],
    });
  });

  test('a login from a source never seen before is reported, once there is history', () => {
    const lines: [number, string][] = [
      [0, `dropbear[1]: Password auth succeeded for 'root' from 192.168.1.10:5000`],
      [6 * MIN, `dropbear[1]: Password auth succeeded for 'root' from 192.168.1.10:5001`],
      [12 * MIN, `uhttpd[1]: luci: accepted login on / for root from 203.0.113.77`],
    ];
    expect(run([agent('auth')], lines).map((a) => [a.type, a.severity])).toEqual([
      ['new_login_source', 2],
    ]);
  });

  test('many user names from one source is credential stuffing', () => {
    const users = ['root', 'admin', 'ubnt', 'pi', 'user', 'test'];
    const lines = users.map(
      (u, i) =>
        [i, `dropbear[1]: Bad password attempt for '${u}' from 203.0.113.6:1`] as [number, string],
    );
    expect(types(run([withPacks('auth')], lines))).toEqual(['credential_stuffing']);
  });
});

describe('firewall', () => {
  // Lines as the kernel's netfilter logger writes them (net/netfilter/nf_log_syslog.c), behind
  // fw4's zone prefixes.
  const tcp = (prefix: string, inOut: string, src: string, dport: number, flags = 'SYN') =>
    `kernel: [1.0] ${prefix}: ${inOut} SRC=${src} DST=192.0.2.1 LEN=44 TOS=0x00 PREC=0x00 TTL=49 ID=1 PROTO=TCP SPT=40000 DPT=${dport} WINDOW=1024 RES=0x00 ${flags} URGP=0`;
  const udp = (src: string, dport: number) =>
    `kernel: [1.0] drop wan in: IN=eth0 OUT= SRC=${src} DST=192.0.2.1 LEN=28 TOS=0x00 PREC=0x00 TTL=49 ID=1 PROTO=UDP SPT=40000 DPT=${dport} LEN=8`;
  const wanIn = (src: string, dport: number, flags?: string) =>
    tcp(
      'drop wan in',
      'IN=eth0 OUT= MAC=02:00:5e:10:00:01:02:00:5e:10:00:02:08:00',
      src,
      dport,
      flags,
    );

  test('a few hits on a sensitive port are low severity; a flood from one source is medium', () => {
    const lines: [number, string][] = [
      [0, wanIn('198.51.100.1', 23)],
      [1, wanIn('198.51.100.2', 23)],
    ];
    for (let i = 0; i < 320; i++) lines.push([10 + i, udp('198.51.100.9', 53)]);
    const found = run([withPacks('firewall')], lines);
    expect(found.map((a) => [a.type, a.severity, a.rule])).toEqual([
      ['flood', 3, 'firewall.flood'],
      ['sensitive_port_probe', 2, 'firewall.sensitive-port-probe'],
      ['sensitive_port_probe', 2, 'firewall.sensitive-port-probe'],
    ]);
    // The code alone keeps the features (and their baselines), and reports nothing itself.
    expect(run([agent('firewall')], lines)).toEqual([]);
  });

  test("a scan is one finding: the scanner's flood and sensitive-port hits are part of it", () => {
    const lines: [number, string][] = [];
    for (let i = 0; i < 260; i++)
      lines.push([i * 100, wanIn('203.0.113.23', [22, 23, 445][i] ?? 1000 + i)]);
    for (let i = 0; i < 12; i++) lines.push([30_000 + i, wanIn('203.0.113.5', 22)]);
    const found = run([withPacks('firewall')], lines);
    expect(found.map((a) => [a.type, a.severity, a.rule, a.features])).toEqual([
      ['port_scan', 4, 'firewall.port-scan', { ports: 256 }],
      ['sensitive_port_probe', 3, 'firewall.sensitive-port-probe-repeated', { hits: 12 }],
    ]);
    expect(found[0]!.description).toMatch(/^port scan: 203\.0\.113\.23 probed 256 ports within 5m/);
  });

  test('outbound and forwarded traffic to a sensitive port is not an inbound probe', () => {
    const lines: [number, string][] = [
      [0, tcp('reject lan out', 'IN=br-lan OUT=eth0', '192.168.1.5', 22)],
      [1, tcp('reject wan out', 'IN= OUT=eth0', '192.0.2.1', 23)],
      [2, tcp('drop wan forward', 'IN=eth0 OUT=br-lan', '198.51.100.3', 3389)],
    ];
    expect(run([withPacks('firewall')], lines)).toEqual([]);
  });

  test('segments of closed connections (ACK, RST) are not probes or scans', () => {
    const lines: [number, string][] = [];
    for (let i = 0; i < 20; i++) lines.push([i, wanIn('198.51.100.44', 50_000 + i, 'ACK FIN')]);
    lines.push([30, wanIn('198.51.100.44', 22, 'RST')]);
    expect(run([withPacks('firewall')], lines)).toEqual([]);
  });
});

describe('system', () => {
  test('out-of-memory kills and crash loops', () => {
    const lines: [number, string][] = [
      [0, 'kernel: [5000.1] Out of memory: Killed process 1234 (dnsmasq) total-vm:10000kB'],
      [
        1,
        'procd: Instance dnsmasq::instance1 s in a crash loop 6 crashes, 0 seconds since last crash',
      ],
    ];
    expect(run([withPacks('system')], lines).map((a) => [a.type, a.severity, a.rule])).toEqual([
      ['oom_kill', 4, 'system.kernel-oom-kill'],
      ['respawn_loop', 4, 'system.procd-crash-loop'],
    ]);
  });

  test('one link going down is not flapping', () => {
    expect(run([withPacks('system')], [[0, "netifd: Interface 'wan' is now down"]])).toEqual([]);
  });
});

describe('dns', () => {
  test('a NAK storm', () => {
    const lines = Array.from(
      { length: 12 },
      (_, i) =>
        [
          i,
          `dnsmasq-dhcp[1]: DHCPNAK(br-lan) 192.168.1.${i} 02:00:00:00:00:0${i % 10} wrong address`,
        ] as [number, string],
    );
    expect(types(run([withPacks('dns')], lines))).toEqual(['dhcp_nak_storm']);
  });

  test('ordinary names do not look like tunnelling', () => {
    const names = [
      'www.example.com',
      'connectivitycheck.gstatic.com',
      'time.cloudflare.com',
      'api.github.com',
    ];
    const lines = Array.from(
      { length: 100 },
      (_, i) => [i, `dnsmasq[1]: query[A] ${names[i % 4]} from 192.168.1.5`] as [number, string],
    );
    expect(run([agent('dns')], lines)).toEqual([]);
  });
});

describe('template', () => {
  test('a message type never seen before is reported once the device has history', () => {
    const lines: [number, string][] = [];
    for (let w = 0; w < 4; w++)
      for (let i = 0; i < 300; i++)
        lines.push([w * 5 * MIN + i, `odhcpd[1]: lease ${i} renewed for host-${i % 7}`]);
    lines.push([4 * 5 * MIN, 'odhcpd[1]: segfault in module ra']);
    const found = run([agent('template')], lines);
    expect(found.map((a) => [a.type, a.severity])).toEqual([['new_template', 1]]);
    expect(found[0]!.description).toContain('segfault in module ra');
  });

  test('a message type never seen before at err or worse is news at once, on a fresh device', () => {
    // PRI 3 = kern.err, 26 = daemon.crit, 27 = daemon.err, 28 = daemon.warning (RFC 5424 6.2.1).
    const engine = new AnalysisEngine([agent('template')], { windowMs: 5 * MIN });
    const lines = [
      '<3>Nov 23 10:00:01 gw kernel: [  812.120001] ath10k_pci 0000:01:00.0: firmware crashed! (guid 5c1e4a52-0d6a-4d2e-9a52-0e2f7b4f9d11)',
      '<26>Nov 23 10:00:02 gw procd: Instance dnsmasq::cfg01411c s in a crash loop 6 crashes, 0 seconds since last crash',
      '<27>Nov 23 10:00:03 gw odhcp6c[1228]: Failed to send RS (Address not available)',
      '<27>Nov 23 10:00:04 gw hostapd: Configuration file: /var/run/hostapd-phy0.conf',
      '<28>Nov 23 10:00:05 gw netifd: wan (1234): udhcpc: sending discover',
      // The same message type again: known now, not news.
      '<3>Nov 23 10:00:06 gw kernel: [  912.120001] ath10k_pci 0000:01:00.0: firmware crashed! (guid 77aa4a52-0d6a-4d2e-9a52-0e2f7b4f9d11)',
    ];
    const found: Anomaly[] = [];
    lines.forEach((text, i) => {
      const outcome = parser.parse(text);
      if (!outcome.ok) throw new Error(outcome.reason);
      found.push(
        ...engine.push({ ref: i + 1, device: 'gw', time: outcome.time, record: outcome.record }),
      );
    });
    found.push(...engine.flush());
    expect(found.map((a) => [a.type, a.severity, a.evidence])).toEqual([
      ['new_error_message', 3, [1]],
      ['new_error_message', 4, [2]],
      ['new_error_message', 2, [3]],
      ['new_error_message', 1, [4]],
    ]);
    expect(found[0]!.description).toMatch(/^kernel logged a message never seen before at err: "/);
    expect(found[0]!.remediation).toMatch(/crash/);
  });

  test('templates merge variable tokens, and their number is bounded', () => {
    const drain = new Drain(10);
    expect(drain.add('wlan0: STA joined with aid 3')?.created).toBe(true);
    const again = drain.add('wlan0: STA joined with aid 17');
    expect(again?.created).toBe(false);
    expect(drain.text(again!.template)).toBe('wlan0: STA joined with aid <*>');
    for (let i = 0; i < 50; i++)
      drain.add(
        `event${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))} happened`,
      );
    expect(drain.size).toBe(10);
    expect(drain.overflow).toBe(41);
  });
});

describe('saved state', () => {
  // The demo's real sample with its attacks: baselines, sources seen and templates all matter.
  const sample = readFileSync(
    path.resolve(
      path.dirname(fileURLToPath(import.meta.url)),
      '../../data/openwrt/logread-sample.log',
    ),
    'utf8',
  )
    .split('\n')
    .filter(Boolean);
  const { lines: stream } = injectAttacks(sample, Date.parse('2023-07-18T02:00:00Z'), 30 * MIN, 1);
  const observed = stream.flatMap((text, i) => {
    const o = parser.parse(text);
    return o.ok ? [{ ref: i, device: o.record.host ?? 'gw', time: o.time, record: o.record }] : [];
  });
  const all = Object.values(builtInAgents);
  const feed = (engine: AnalysisEngine, from: number, to: number): Anomaly[] => [
    ...observed.slice(from, to).flatMap((l) => engine.push(l)),
    ...engine.flush(),
  ];

  test("every window's features are exactly the names its agent declares (what models may take)", () => {
    const seen = new Map<AgentName, Set<string>>();
    const engine = new AnalysisEngine(all, {
      windowMs: 5 * MIN,
      onWindow: (w) => seen.set(w.agent, new Set(Object.keys(w.features).sort())),
    });
    feed(engine, 0, observed.length);
    expect(seen.size).toBe(all.length);
    for (const a of all) expect([...seen.get(a.name)!]).toEqual([...a.features].sort());
  });

  test('the example ModelDeployment asks only for features its agent extracts', () => {
    const example = parseYaml(
      readFileSync(
        path.resolve(
          path.dirname(fileURLToPath(import.meta.url)),
          '../../../manifests/examples/modeldeployment.yaml',
        ),
        'utf8',
      ),
    ) as { spec: { agent: AgentName; features: string[] } };
    const extracted = builtInAgents[example.spec.agent].features;
    expect(example.spec.features.filter((f) => !extracted.includes(f))).toEqual([]);
  });

  test('a restarted engine finds what one that never stopped finds', () => {
    const half = Math.floor(observed.length / 2);
    const steady = new AnalysisEngine(all, { windowMs: 5 * MIN });
    feed(steady, 0, half);
    const expected = feed(steady, half, observed.length);

    const before = new AnalysisEngine(all, { windowMs: 5 * MIN });
    feed(before, 0, half);
    const saved = JSON.parse(JSON.stringify(before.saveState())) as unknown;
    const restarted = new AnalysisEngine(all, { windowMs: 5 * MIN });
    restarted.loadState(saved);
    expect(feed(restarted, half, observed.length)).toEqual(expected);

    // Without the saved state the second half reads differently: the test can tell.
    const forgetful = new AnalysisEngine(all, { windowMs: 5 * MIN });
    expect(feed(forgetful, half, observed.length)).not.toEqual(expected);
    expect(expected.some((a) => a.type.startsWith('new_') || a.type.endsWith('_spike'))).toBe(true);
  });

  test('a malformed state is refused and leaves the engine as it was', () => {
    const engine = new AnalysisEngine(all, { windowMs: 5 * MIN });
    feed(engine, 0, 2000);
    const state = JSON.stringify(engine.saveState());
    const broken = JSON.parse(state) as {
      agents: Record<string, Record<string, { memory: unknown; baselines: unknown }>>;
    };
    const device = Object.keys(broken.agents.template!)[0]!;
    broken.agents.template![device]!.memory = { drain: 'nonsense' };
    expect(() => engine.loadState(broken)).toThrow(/template/);
    expect(() => engine.loadState({ version: 2, agents: {} })).toThrow(/version/);
    expect(() => engine.loadState(null)).toThrow();
    broken.agents.template![device]!.memory = null;
    broken.agents.auth = { gw: { memory: null, baselines: { failures: [1, 2] } } };
    expect(() => engine.loadState(broken)).toThrow();
    expect(JSON.stringify(engine.saveState())).toBe(state);
  });

  test('the template miner round-trips through JSON', () => {
    const drain = new Drain(5);
    for (const m of ['a b 1', 'a b 2', 'c d e', 'c d f', 'x y z w', 'q', 'r', 's', 't'])
      drain.add(m);
    const copy = Drain.load(JSON.parse(JSON.stringify(drain.save())));
    expect(copy.save()).toEqual(drain.save());
    expect(copy.add('a b 3')).toEqual(drain.add('a b 3'));
    expect(copy.add('brand new line')).toBeUndefined(); // the bound survives too
    expect(copy.overflow).toBe(drain.overflow + 1);
  });
});
