// The benchmarks' input: the demo's real OpenWrt logs with injected attacks, re-stamped as
// remote syslog (RFC 3164 with <PRI> and host) from 20 routers, time moving forward a quarter
// second a line, MAC and IP addresses varied line by line, repeated to the wanted length.
import { createWriteStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { injectAttacks } = await import(path.join(root, 'dist/agent-runtime/src/demo/attacks.js'));
const { SyslogParser } = await import(path.join(root, 'dist/agent-runtime/src/parse/syslog.js'));

const FACILITY = { kern: 0, user: 1, daemon: 3, auth: 4, authpriv: 10 };
const LEVEL = { emerg: 0, alert: 1, crit: 2, err: 3, warning: 4, notice: 5, info: 6, debug: 7 };
const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const sample = readFileSync(
  path.join(root, 'agent-runtime/data/openwrt/logread-sample.log'),
  'utf8',
)
  .split('\n')
  .filter(Boolean);
const { lines: demoLines } = injectAttacks(
  sample,
  Date.parse('2023-07-18T02:00:00Z'),
  30 * 60_000,
  1,
);
const parser = new SyslogParser();
const records = demoLines
  .map((l) => parser.parse(l))
  .filter((o) => o.ok)
  .map((o) => o.record);

const pad = (n) => String(n).padStart(2, '0');
const hex2 = (n) => (n & 255).toString(16).padStart(2, '0');
export async function writeRouterLog(file, target) {
  const out = createWriteStream(file);
  let written = 0;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  while (written < target) {
    for (const r of records) {
      if (written >= target) break;
      clock += 250; // four lines a second across the fleet
      const d = new Date(clock);
      const pri = (FACILITY[r.facility] ?? 1) * 8 + (LEVEL[r.level] ?? 6);
      const stamp = `${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
      const tag = r.program ? `${r.program}${r.pid === null ? '' : `[${r.pid}]`}: ` : '';
      // Vary addresses so repeats are as rare as in real traffic (the miner caches exact repeats).
      const message = r.message
        .replace(
          /([0-9a-f]{2}:){5}[0-9a-f]{2}/gi,
          (m) => `${m.slice(0, 12)}${hex2(written >> 4)}:${hex2(written)}`,
        )
        .replace(
          /\b(\d{1,3}\.\d{1,3}\.\d{1,3})\.\d{1,3}\b/g,
          (_m, net) => `${net}.${written % 250}`,
        );
      if (!out.write(`<${pri}>${stamp} router-${written % 20} ${tag}${message}\n`))
        await new Promise((res) => out.once('drain', res));
      written++;
    }
  }
  await new Promise((res) => out.end(res));
  return written;
}
