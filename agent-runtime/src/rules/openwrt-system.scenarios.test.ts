// The openwrt-system pack (agent-runtime/rules/openwrt-system.yaml) beyond single lines: one
// OOM kill is one finding whatever the kernel version prints around it, a WAN that stays down is
// reported once and a quick reconnect is not, flapping needs repeats, a routine PPP reconnect
// stays quiet, mwan3track's lines reach the system agent, and the real boot in the sample log
// raises nothing above severity 2. Lines are written from the daemons' format strings.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { AnalysisEngine } from '../agents/engine.js';
import { agentNames, builtInAgents } from '../agents/registry.js';
import type { Anomaly } from '../agents/types.js';
import { analyzeLines } from '../analyze/analyzeLines.js';
import { BUILT_IN_PACKS, compilePacks, readPack } from './packFiles.js';
import { buildRuleSet } from './ruleSet.js';
import { RuleBook, withRules } from './withRules.js';
import { pushLines, rfc3339 } from '../../../test/fixtures/engineLines.js';

const MINUTE = 60_000;
const WINDOW = 5 * MINUTE;
const T0 = Date.parse('2026-03-02T10:00:00Z');
const here = path.dirname(fileURLToPath(import.meta.url));

const pack = await readPack(path.join(BUILT_IN_PACKS, 'openwrt-system.yaml'));
const rules = compilePacks([pack]);

const newBook = (): RuleBook => new RuleBook(buildRuleSet(rules), WINDOW);

/** Lines as [offset ms, "<PRI>" number, "program[pid]: message"], through the system agent. */
function run(lines: [number, number, string][]): Anomaly[] {
  const engine = new AnalysisEngine([withRules(builtInAgents.system, newBook())], {
    windowMs: WINDOW,
  });
  const raw = lines.map(([offset, pri, text]) => `<${pri}>${rfc3339(T0 + offset)} gw-home ${text}`);
  return pushLines(engine, raw, new Date(T0 + 86_400_000)).filter((a) =>
    a.rule?.startsWith('system.'),
  );
}

const KERN_ERR = 3;
const KERN_WARN = 4;
const KERN_INFO = 6;
const DAEMON_ERR = 27;
const DAEMON_NOTICE = 29;
const DAEMON_INFO = 30;
const USER_NOTICE = 13;
const USER_INFO = 14;

const k = (uptime: number, msg: string): string => `kernel: [${uptime.toFixed(6)}] ${msg}`;
const netifd = (msg: string): string => `netifd: ${msg}`;
const summary = (found: Anomaly[]): string[] =>
  found.map((a) => `${a.rule} ${a.severity} ${a.description}`);

test('an OOM kill on 5.x (header, summary, kill, reaper) is one oom_kill finding', () => {
  const found = run([
    [
      0,
      KERN_WARN,
      k(
        900.1,
        'dnsmasq invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0',
      ),
    ],
    [
      10,
      KERN_INFO,
      k(
        900.2,
        'oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=nlbwmon,pid=2231,uid=0',
      ),
    ],
    [
      20,
      KERN_ERR,
      k(
        900.3,
        'Out of memory: Killed process 2231 (nlbwmon) total-vm:43520kB, anon-rss:30212kB, file-rss:1044kB, shmem-rss:0kB, UID:0 pgtables:56kB oom_score_adj:0',
      ),
    ],
    [
      30,
      KERN_INFO,
      k(
        900.4,
        'oom_reaper: reaped process 2231 (nlbwmon), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB',
      ),
    ],
  ]);
  expect(summary(found)).toEqual([
    'system.kernel-oom-kill 4 the kernel killed nlbwmon (pid 2231) for lack of memory',
  ]);
  expect(found[0]!.type).toBe('oom_kill');
  expect(found[0]!.evidence).toEqual([3]);
});

test('an OOM kill on 4.14 ("Kill process ... or sacrifice child", then "Killed process") is one finding', () => {
  const found = run([
    [
      0,
      KERN_WARN,
      k(
        900.1,
        'odhcpd invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null),  order=0, oom_score_adj=0',
      ),
    ],
    [
      10,
      KERN_ERR,
      k(900.2, 'Out of memory: Kill process 2087 (collectd) score 301 or sacrifice child'),
    ],
    [
      20,
      KERN_ERR,
      k(
        900.3,
        'Killed process 2087 (collectd) total-vm:18944kB, anon-rss:9620kB, file-rss:808kB, shmem-rss:0kB',
      ),
    ],
  ]);
  expect(summary(found)).toEqual([
    'system.kernel-oom-kill 4 the kernel killed collectd (pid 2087) for lack of memory',
  ]);
});

test('two processes killed in one window are two findings; the same one twice is one', () => {
  const kill = (pid: number, name: string): string =>
    k(
      900 + pid / 1000,
      `Out of memory: Killed process ${pid} (${name}) total-vm:1kB, anon-rss:1kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0`,
    );
  const found = run([
    [0, KERN_ERR, kill(100, 'collectd')],
    [MINUTE, KERN_ERR, kill(101, 'collectd')],
    [2 * MINUTE, KERN_ERR, kill(102, 'dnsmasq')],
  ]);
  expect(found.map((a) => a.description).sort()).toEqual([
    'the kernel killed collectd (pid 101) for lack of memory',
    'the kernel killed dnsmasq (pid 102) for lack of memory',
  ]);
});

test('page allocation failures: one is informational, a burst supersedes it', () => {
  const fail = (n: number): [number, number, string] => [
    n * 20_000,
    KERN_WARN,
    k(
      1000 + n,
      'kworker/0:1: page allocation failure: order:2, mode:0x480020(GFP_ATOMIC), nodemask=(null)',
    ),
  ];
  expect(summary(run([fail(0)]))).toEqual([
    'system.kernel-page-allocation-failure 2 kworker/0:1: kernel page allocation failure (order 2), 1 in 5m',
  ]);
  const burst = run(Array.from({ length: 12 }, (_, n) => fail(n)));
  expect(burst.map((a) => [a.rule, a.severity])).toEqual([
    ['system.kernel-page-allocation-failure-burst', 3],
  ]);
});

test('a kernel oops (fault, die, panic) is one oops finding and one panic finding', () => {
  const found = run([
    [0, KERN_WARN, k(2201.1, '8<--- cut here ---')],
    [
      1,
      1,
      k(
        2201.2,
        'Unable to handle kernel NULL pointer dereference at virtual address 00000010 when read',
      ),
    ],
    [2, 0, k(2201.3, 'Internal error: Oops: 17 [#1] SMP ARM')],
    [3, KERN_WARN, k(2201.4, 'CPU: 0 PID: 1311 Comm: hostapd Not tainted 6.6.57 #0')],
    [4, 0, k(2201.5, 'Kernel panic - not syncing: Fatal exception')],
    [5, 0, k(2201.6, '---[ end Kernel panic - not syncing: Fatal exception ]---')],
  ]);
  expect(summary(found)).toEqual([
    'system.kernel-oops 4 kernel oops: Oops',
    'system.kernel-panic 4 kernel panic: Fatal exception',
  ]);
  expect(found[0]!.evidence).toEqual([2, 3]);
});

test('segfaults are grouped by process', () => {
  const found = run([
    [
      0,
      KERN_INFO,
      k(
        1500.1,
        'do_page_fault(): sending SIGSEGV to hostapd for invalid read access from 00000004',
      ),
    ],
    [1000, KERN_INFO, k(1500.2, 'epc = 77e3c1a4 in libc.so[77dd0000+9a000]')],
    [
      MINUTE,
      KERN_INFO,
      k(
        1560.1,
        'do_page_fault(): sending SIGSEGV to hostapd for invalid read access from 00000004',
      ),
    ],
    [
      2 * MINUTE,
      KERN_INFO,
      k(
        1620.1,
        'uhttpd[1200]: segfault at 0 ip 000056123abc0011 sp 00007ffc11112222 error 6 in uhttpd[56123ab00000+c4000]',
      ),
    ],
  ]);
  expect(summary(found).sort()).toEqual([
    'system.kernel-segfault 3 hostapd crashed with an invalid memory access (2 in 5m)',
    'system.kernel-segfault 3 uhttpd crashed with an invalid memory access (1 in 5m)',
  ]);
});

test('a kernel WARNING is informational once and alerting when it keeps firing', () => {
  const warn = (n: number): [number, number, string] => [
    n * 5 * MINUTE,
    KERN_WARN,
    k(
      100 + n,
      'WARNING: CPU: 1 PID: 0 at net/mac80211/rx.c:4422 ieee80211_rx_napi+0x1ac/0x9a0 [mac80211]',
    ),
  ];
  expect(summary(run([warn(0)]))).toEqual([
    'system.kernel-warning 2 kernel WARNING at net/mac80211/rx.c:4422',
  ]);
  const found = run([0, 1, 2, 3, 4, 5].map(warn));
  expect(found.map((a) => [a.rule, a.severity])).toEqual([
    ['system.kernel-warning', 2],
    ['system.kernel-warning', 2],
    ['system.kernel-warning', 2],
    ['system.kernel-warning', 2],
    ['system.kernel-warning-repeated', 3],
    ['system.kernel-warning-repeated', 3],
  ]);
});

test('procd crash loop: one finding per service', () => {
  const found = run([
    [
      0,
      DAEMON_INFO,
      'procd: Instance dnsmasq::cfg01411c s in a crash loop 6 crashes, 0 seconds since last crash',
    ],
    [
      1000,
      DAEMON_INFO,
      'procd: Instance dnsmasq::cfg01411c s in a crash loop 7 crashes, 0 seconds since last crash',
    ],
  ]);
  expect(summary(found)).toEqual([
    'system.procd-crash-loop 4 procd: service dnsmasq (instance cfg01411c) is in a crash loop (7 crashes)',
  ]);
  expect(found[0]!.type).toBe('respawn_loop');
});

test('a WAN that comes back within 10 minutes is quiet; one that stays down is reported once', () => {
  expect(
    run([
      [0, DAEMON_NOTICE, netifd("Network device 'eth1' link is down")],
      [100, DAEMON_NOTICE, netifd("Interface 'wan' has link connectivity loss")],
      [200, DAEMON_NOTICE, netifd("Interface 'wan' is now down")],
      [2 * MINUTE, DAEMON_NOTICE, netifd("Network device 'eth1' link is up")],
      [2 * MINUTE + 100, DAEMON_NOTICE, netifd("Interface 'wan' is setting up now")],
      [2 * MINUTE + 5000, DAEMON_NOTICE, netifd("Interface 'wan' is now up")],
      [30 * MINUTE, DAEMON_NOTICE, netifd("Interface 'lan' is now up")],
    ]),
  ).toEqual([]);
  const found = run([
    [0, DAEMON_NOTICE, netifd("Interface 'wan' is now down")],
    [100, DAEMON_NOTICE, netifd("Interface 'wan' is setting up now")],
    // netifd keeps the system agent's stream going; wan never comes back
    ...[5, 10, 15, 20, 25].map((m): [number, number, string] => [
      m * MINUTE,
      DAEMON_NOTICE,
      netifd(`wan (${2300 + m}): udhcpc: sending discover`),
    ]),
  ]);
  expect(summary(found)).toEqual([
    'system.netifd-wan-down 4 WAN interface wan has been down for 10m or more',
  ]);
  expect(found[0]!.type).toBe('wan_down');
});

test('a WAN that starts and never comes up is reported; an IPv6 WAN that stays down is only informational', () => {
  const found = run([
    [0, DAEMON_NOTICE, netifd("Interface 'wan' is setting up now")],
    [1000, DAEMON_NOTICE, netifd("Interface 'wan6' is setting up now")],
    [60_000, DAEMON_NOTICE, netifd("Interface 'wan6' is now down")],
    [16 * MINUTE, DAEMON_NOTICE, netifd("Interface 'lan' is now up")],
  ]);
  expect(summary(found).sort()).toEqual([
    'system.netifd-wan-down 4 WAN interface wan has been down for 10m or more',
    'system.netifd-wan6-down 2 IPv6 WAN interface wan6 has been down for 10m or more',
  ]);
});

test('flapping: three WAN drops in ten minutes, other interfaces and links apart', () => {
  const lines: [number, number, string][] = [];
  for (let i = 0; i < 3; i++) {
    const t = i * 2 * MINUTE;
    lines.push([t, DAEMON_NOTICE, netifd("Network device 'eth0.2' link is down")]);
    lines.push([t + 100, DAEMON_NOTICE, netifd("Interface 'wan' is now down")]);
    lines.push([t + 15_000, DAEMON_NOTICE, netifd("Network device 'eth0.2' link is up")]);
    lines.push([t + 18_000, DAEMON_NOTICE, netifd("Interface 'wan' is now up")]);
  }
  // two lan drops: below the threshold
  lines.push([60_000, DAEMON_NOTICE, netifd("Interface 'lan' is now down")]);
  lines.push([61_000, DAEMON_NOTICE, netifd("Interface 'lan' is now up")]);
  lines.push([120_000, DAEMON_NOTICE, netifd("Interface 'lan' is now down")]);
  lines.push([121_000, DAEMON_NOTICE, netifd("Interface 'lan' is now up")]);
  lines.sort((a, b) => a[0] - b[0]);
  const found = run(lines);
  expect(summary(found)).toEqual([
    'system.netifd-wan-flapping 4 WAN interface wan went down 3 times in 10m',
  ]);
  expect(found[0]!.type).toBe('wan_flapping');
  // a fourth drop of the link makes it a flapping link too
  const more = run([
    ...lines,
    [7 * MINUTE, DAEMON_NOTICE, netifd("Network device 'eth0.2' link is down")],
    [7 * MINUTE + 1000, DAEMON_NOTICE, netifd("Network device 'eth0.2' link is up")],
  ]);
  expect(more.map((a) => [a.rule, a.type])).toContainEqual([
    'system.netifd-link-flapping',
    'link_flapping',
  ]);
});

test('pppd: a routine reconnect is quiet, repeated drops and failures are not', () => {
  const ppp = (msg: string): string => `pppd[2841]: ${msg}`;
  // The provider's daily disconnect, then a reconnect.
  expect(
    run([
      [0, DAEMON_INFO, ppp('LCP terminated by peer (Session timeout)')],
      [100, DAEMON_NOTICE, ppp('Modem hangup')],
      [200, DAEMON_NOTICE, ppp('Connection terminated.')],
      [300, DAEMON_NOTICE, netifd("Interface 'wan' has lost the connection")],
      [5000, DAEMON_INFO, ppp('PPP session is 4321')],
      [6000, DAEMON_NOTICE, netifd("Interface 'wan' is now up")],
    ]),
  ).toEqual([]);
  const drops = run(
    [0, 4, 8].flatMap((m): [number, number, string][] => [
      [m * MINUTE, DAEMON_INFO, ppp('No response to 5 echo-requests')],
      [m * MINUTE + 10, DAEMON_NOTICE, ppp('Serial link appears to be disconnected.')],
      [m * MINUTE + 20, DAEMON_NOTICE, ppp('Connection terminated.')],
    ]),
  );
  expect(summary(drops)).toEqual([
    'system.pppd-link-drops 3 the PPP session dropped 3 times in 30m (No response to 5 echo-requests)',
  ]);
  // Wrong password: the info line and the error line of one CHAP failure count once.
  const chap = (t: number): [number, number, string][] => [
    [t, DAEMON_INFO, ppp('CHAP authentication failed: E=691 R=0 Authentication failure')],
    [t + 10, DAEMON_ERR, ppp('CHAP authentication failed')],
  ];
  expect(run(chap(0))).toEqual([]);
  expect(summary(run([...chap(0), ...chap(30_000)]))).toEqual([
    'system.pppd-auth-failed 3 PPP authentication failed 2 times in 15m (CHAP)',
  ]);
  const discovery = run(
    [0, 1, 2].map((m): [number, number, string] => [
      m * MINUTE,
      DAEMON_ERR,
      ppp('Unable to complete PPPoE Discovery phase 1'),
    ]),
  );
  expect(discovery.map((a) => a.type)).toEqual(['pppoe_discovery_failure']);
});

test('mwan3track: lines reach the system agent; offline that lasts, flapping, failed checks', () => {
  const mw = (msg: string): string => `mwan3track[4410]: ${msg}`;
  const stays = run([
    [0, USER_NOTICE, mw('Interface wanb (wwan0) is offline')],
    [12 * MINUTE, USER_NOTICE, mw('Interface wan (eth1) is online')],
  ]);
  expect(summary(stays)).toEqual([
    'system.mwan3-interface-offline 3 mwan3: wanb has been offline (tracking targets unreachable) for 10m or more',
  ]);
  const lines: [number, number, string][] = [];
  for (let i = 0; i < 3; i++) {
    lines.push([i * 5 * MINUTE, USER_NOTICE, mw('Interface wan (eth1) is offline')]);
    lines.push([i * 5 * MINUTE + MINUTE, USER_NOTICE, mw('Interface wan (eth1) is online')]);
  }
  for (let i = 0; i < 30; i++)
    lines.push([
      i * 20_000 + 5,
      USER_INFO,
      mw(
        `Check (ping) failed for target "192.0.2.53" on interface wan (eth1). Current score: ${9 - (i % 5)}`,
      ),
    ]);
  lines.sort((a, b) => a[0] - b[0]);
  expect(run(lines).map((a) => [a.rule, a.type, a.severity])).toEqual([
    ['system.mwan3-track-failures', 'track_failures', 2],
    ['system.mwan3-interface-flapping', 'wan_flapping', 3],
  ]);
});

test('the real OpenWrt boot in the sample log raises nothing above severity 2 from this pack', async () => {
  const background = readFileSync(
    path.resolve(here, '../../data/openwrt/logread-sample.log'),
    'utf8',
  )
    .split('\n')
    .filter((l) => l.length > 0);
  const book = newBook();
  const found: Anomaly[] = [];
  const read = await analyzeLines([background.map((l, i) => [i + 1, l] as [number, string])], {
    agents: agentNames.map((n) => withRules(builtInAgents[n], book)),
    windowMs: WINDOW,
    defaultHost: 'gw-home',
    onAnomaly: (a) => found.push(a),
  });
  expect(read.lines).toBe(background.length);
  expect(read.unreadable).toBe(0);
  const mine = found.filter((a) => a.rule?.startsWith('system.'));
  expect(mine.filter((a) => a.severity > 2)).toEqual([]);
  expect(mine).toEqual([]);
});
