// A fleet of routers made from the real OpenWrt sample, for training the baseline models and
// for measuring detection: each router replays the sample's own lines in order (from its own
// starting point, wrapping round) in the sample's own rhythm with long silences shortened, its clients' MAC and IP
// addresses its own, as remote syslog (<PRI>, RFC 3339 time, host). Attacks from attacks.ts
// are injected on random routers at random times, and every injected line is labelled with
// its scenario. Seeded: the same options give the same log.
import { SyslogParser, type LogRecord } from '../parse/syslog.js';
import { scenarios, seededRandom, type Scenario } from './attacks.js';

export interface FleetOptions {
  routers: number;
  /** How long the log runs. */
  hours: number;
  seed: number;
  /** Attacks injected per router per day (0 for background only). */
  attacksPerRouterDay: number;
  /** Mean of the random gap that stands in for a longer real one (default 5 min). */
  meanGapMs?: number;
  /** Start of the log (default 2026-01-01T00:00:00Z). */
  startMs?: number;
}

export interface InjectedAttack {
  scenario: Scenario;
  device: string;
  /** 1-based line numbers of its lines in the log. */
  lines: Set<number>;
  start: number;
  end: number;
}

export interface FleetLog {
  lines: string[];
  attacks: InjectedAttack[];
  /** The scenario of each injected line, by 1-based line number. */
  scenarioOf: Map<number, Scenario>;
}

const FACILITY: Record<string, number> = { kern: 0, user: 1, daemon: 3, auth: 4, authpriv: 10 };
const LEVEL: Record<string, number> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** One router's own version of an address: the same client stays the same client. */
function localise(message: string, router: number): string {
  const byte = (n: number): string => (n & 255).toString(16).padStart(2, '0');
  return message
    .replace(
      /\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b/gi,
      (m) => `${m.slice(0, 12)}${byte(router * 7 + parseInt(m.slice(12, 14), 16))}:${m.slice(15)}`,
    )
    .replace(
      /\b(192\.168\.\d{1,3})\.(\d{1,3})\b/g,
      (_m, net: string, host: string) => `${net}.${((Number(host) + router * 13) % 250) + 2}`,
    );
}

function render(
  time: number,
  host: string,
  r: Pick<LogRecord, 'facility' | 'level' | 'program' | 'pid' | 'message'>,
): string {
  const pri = (FACILITY[r.facility ?? ''] ?? 1) * 8 + (LEVEL[r.level ?? ''] ?? 6);
  const tag = r.program ? `${r.program}${r.pid === null ? '' : `[${r.pid}]`}: ` : '';
  return `<${pri}>${new Date(time).toISOString()} ${host} ${tag}${r.message}`;
}

export function fleetLog(sample: readonly string[], options: FleetOptions): FleetLog {
  const parser = new SyslogParser();
  const records = sample.flatMap((l) => {
    const o = parser.parse(l);
    return o.ok ? [o.record] : [];
  });
  if (records.length === 0) throw new Error('the sample has no readable line');
  const random = seededRandom(options.seed);
  const start = options.startMs ?? Date.parse('2026-01-01T00:00:00Z');
  const end = start + options.hours * 3_600_000;
  const meanGap = options.meanGapMs ?? 300_000;
  const entries: { time: number; text: string; scenario?: Scenario; attack?: number }[] = [];
  const attacks: Omit<InjectedAttack, 'lines'>[] = [];

  for (let router = 0; router < options.routers; router++) {
    const host = `router-${router}`;
    let i = Math.floor(random() * records.length);
    // The sample's own rhythm, its long silences shortened: lines that came together (a boot,
    // a burst of DHCP) still come together; a gap of hours or years becomes a random one.
    for (let t = start + random() * meanGap; t < end;) {
      const r = records[i % records.length]!;
      const next = records[++i % records.length]!;
      entries.push({
        time: Math.floor(t),
        text: render(Math.floor(t), host, { ...r, message: localise(r.message, router) }),
      });
      const real = Date.parse(next.timestamp) - Date.parse(r.timestamp);
      const drawn = -Math.log(1 - random()) * meanGap;
      t += real >= 0 && real < drawn ? real : drawn;
    }
    const count = Math.round((options.attacksPerRouterDay * options.hours) / 24);
    for (let k = 0; k < count; k++) {
      const scenario = scenarios[Math.floor(random() * scenarios.length)]!;
      const at = Math.floor(start + random() * (end - start - 3_600_000));
      const id = attacks.length;
      let last = at;
      for (const [offset, rest] of scenario.lines(random)) {
        // "facility.level program[pid]: message", as attacks.ts writes it for logread.
        const m = /^(\w+)\.(\w+) ([^:[\s]+)(?:\[(\d+)\])?: (.*)$/.exec(rest);
        if (!m) throw new Error(`unexpected scenario line: ${rest}`);
        const time = at + offset;
        last = Math.max(last, time);
        entries.push({
          time,
          text: render(time, host, {
            facility: m[1]!,
            level: m[2]!,
            program: m[3]!,
            pid: m[4] === undefined ? null : Number(m[4]),
            message: m[5]!,
          }),
          scenario,
          attack: id,
        });
      }
      attacks.push({ scenario, device: host, start: at, end: last });
    }
  }
  entries.sort((a, b) => a.time - b.time);
  const withLines: InjectedAttack[] = attacks.map((a) => ({ ...a, lines: new Set<number>() }));
  const scenarioOf = new Map<number, Scenario>();
  entries.forEach((e, n) => {
    if (e.attack === undefined) return;
    withLines[e.attack]!.lines.add(n + 1);
    scenarioOf.set(n + 1, e.scenario!);
  });
  return { lines: entries.map((e) => e.text), attacks: withLines, scenarioOf };
}
