// Realistic attacks to inject into real router logs, for the demo and the detection tests.
// Each scenario writes the lines OpenWrt's daemons print under that attack (logread's format),
// and says which agent and anomaly type should find it. Addresses come from the documentation
// ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and names from example domains.
// Seeded: the same seed gives the same lines.
import { SyslogParser } from '../parse/syslog.js';

export interface Scenario {
  name: string;
  agent: string;
  /** Anomaly types that count as finding it. */
  types: readonly string[];
  /** Lines without their timestamp prefix ("facility.level program[pid]: message"), in order, with their offset in ms. */
  lines(random: () => number): [number, string][];
}

/** mulberry32: a small, fast, seedable PRNG (public domain). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (r: () => number, n: number): string =>
  Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
const mac = (r: () => number): string => Array.from({ length: 6 }, () => hex(r, 2)).join(':');
const base32 = (r: () => number, n: number): string =>
  Array.from({ length: n }, () => 'abcdefghijklmnopqrstuvwxyz234567'[Math.floor(r() * 32)]).join(
    '',
  );
const spread = (count: number, overMs: number, i: number): number =>
  Math.floor((i * overMs) / count);

export const scenarios: readonly Scenario[] = [
  {
    name: 'SSH brute force',
    agent: 'auth',
    types: ['brute_force', 'credential_stuffing'],
    lines: (r) =>
      Array.from({ length: 40 }, (_, i) => [
        spread(40, 120_000, i),
        `authpriv.warn dropbear[${2100 + i}]: Bad password attempt for '${['root', 'admin', 'root', 'ubnt'][i % 4]}' from 203.0.113.50:${40000 + Math.floor(r() * 20000)}`,
      ]),
  },
  {
    name: 'Wi-Fi wrong-password burst',
    agent: 'wifi',
    types: ['psk_mismatch_burst'],
    lines: () =>
      Array.from({ length: 9 }, (_, i) => [
        spread(9, 60_000, i),
        'daemon.notice hostapd: wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 02:5e:10:aa:bb:cc',
      ]),
  },
  {
    name: 'Wi-Fi deauthentication flood',
    agent: 'wifi',
    types: ['deauth_flood'],
    lines: (r) => {
      const stations = Array.from({ length: 12 }, () => mac(r));
      return Array.from({ length: 90 }, (_, i) => [
        spread(90, 60_000, i),
        `daemon.info hostapd: wlan0: STA ${stations[i % 12]} IEEE 802.11: deauthenticated due to local deauth request`,
      ]);
    },
  },
  {
    name: 'DHCP starvation',
    agent: 'dns',
    types: ['dhcp_starvation'],
    lines: (r) => {
      const out: [number, string][] = [];
      for (let i = 0; i < 120; i++) {
        const m = mac(r);
        out.push([
          spread(120, 90_000, i),
          `daemon.info dnsmasq-dhcp[1]: DHCPDISCOVER(br-lan) ${m}`,
        ]);
        if (i > 60)
          out.push([
            spread(120, 90_000, i) + 5,
            `daemon.warn dnsmasq-dhcp[1]: DHCPDISCOVER(br-lan) ${m} no address available`,
          ]);
      }
      return out;
    },
  },
  {
    name: 'Port scan from the WAN',
    agent: 'firewall',
    types: ['port_scan'],
    lines: (r) =>
      Array.from({ length: 250 }, (_, i) => [
        spread(250, 30_000, i),
        `kern.warn kernel: [${(86400 + i / 100).toFixed(6)}] drop wan in: IN=eth0.2 OUT= MAC=${mac(r)}:08:00 SRC=198.51.100.23 DST=192.0.2.1 LEN=44 TOS=0x00 PREC=0x00 TTL=49 ID=${Math.floor(r() * 65535)} PROTO=TCP SPT=${40000 + Math.floor(r() * 1000)} DPT=${[21, 22, 23, 25, 80, 110, 139, 443, 445, 3389][i % 10]! + Math.floor(i / 10) * 1000} WINDOW=1024 RES=0x00 SYN URGP=0`,
      ]),
  },
  {
    name: 'WAN flapping',
    agent: 'system',
    types: ['wan_flapping'],
    lines: () => {
      const out: [number, string][] = [];
      for (let i = 0; i < 6; i++) {
        out.push([i * 40_000, "daemon.notice netifd: Network device 'eth0.2' link is down"]);
        out.push([
          i * 40_000 + 100,
          "daemon.notice netifd: Interface 'wan' has link connectivity loss",
        ]);
        out.push([i * 40_000 + 200, "daemon.notice netifd: Interface 'wan' is now down"]);
        out.push([i * 40_000 + 15_000, "daemon.notice netifd: Network device 'eth0.2' link is up"]);
        out.push([i * 40_000 + 18_000, "daemon.notice netifd: Interface 'wan' is now up"]);
      }
      return out;
    },
  },
  {
    name: 'DNS tunnelling',
    agent: 'dns',
    types: ['dns_tunnelling'],
    lines: (r) =>
      Array.from({ length: 80 }, (_, i) => [
        spread(80, 120_000, i),
        `daemon.info dnsmasq[728]: query[TXT] ${base32(r, 52)}.${base32(r, 8)}.t.exfil-example.net from 192.168.1.23`,
      ]),
  },
];

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** A time as logread prints it: "Sun Jul 16 12:42:58 2023" (UTC). */
export function logreadTime(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

export interface InjectedLine {
  time: number;
  text: string;
  /** The scenario that wrote it; undefined for background. */
  scenario?: string;
}

/**
 * Real background lines with every scenario injected, each starting at its own time, sorted by
 * time. Returns the lines and, per scenario, the 1-based line numbers it occupies.
 */
export function injectAttacks(
  background: readonly string[],
  startMs: number,
  gapMs: number,
  seed = 1,
): { lines: string[]; scenarioLines: Map<string, Set<number>> } {
  const random = seededRandom(seed);
  const parser = new SyslogParser();
  const all: InjectedLine[] = background.map((text) => {
    const parsed = parser.parse(text);
    return { time: parsed.ok ? Date.parse(parsed.record.timestamp) : 0, text };
  });
  scenarios.forEach((s, k) => {
    for (const [offset, rest] of s.lines(random)) {
      const time = startMs + k * gapMs + offset;
      all.push({ time, text: `${logreadTime(time)} ${rest}`, scenario: s.name });
    }
  });
  all.sort((a, b) => a.time - b.time); // stable: background keeps its order within a second
  const scenarioLines = new Map<string, Set<number>>(
    scenarios.map((s) => [s.name, new Set<number>()]),
  );
  all.forEach((l, i) => l.scenario && scenarioLines.get(l.scenario)!.add(i + 1));
  return { lines: all.map((l) => l.text), scenarioLines };
}
