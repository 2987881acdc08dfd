// Benchmark: `edgewarden export` against PostgreSQL's own COPY (SELECT ...) TO STDOUT of the
// same rows (psql, into a file, over the same TLS connection), and against the export of an
// earlier commit (the "before", default 8120e74: the cursor FETCHed through node-postgres),
// side by side in one run, on a table of a million rows; and the peak RSS of both exports for
// a tenth of the rows against all of them (flat memory). Also each LogReader alone (rows read
// and dropped), to tell the read path from shaping and writing.
//   npm run bench:export     (builds first)
//   node bench/export.mjs [--rows N] [--runs N] [--before REV]
// It starts its own PostgreSQL (test/services/postgres.ts, from dist/) and seeds it with
// generate_series. The "before" is built by bench/baseline.mjs in a git worktree under the
// temporary folder and run with the same plan and environment. Both exporters run as in their
// pod: NODE_OPTIONS=--max-old-space-size=64 (a quarter of the export Job's 256Mi memory
// limit), default batchSize (1000) and maxFileSize. Runs are interleaved; times are medians.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { baselineBuild, BEFORE_ISSUE_22 } = await import('./baseline.mjs');
const { startPostgres, adminClient, createLogTable } = await import(
  path.join(root, 'dist/test/services/postgres.js')
);

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    before: { type: 'string', default: BEFORE_ISSUE_22 },
  },
});
const before = await baselineBuild(values.before);
const afterBin = path.join(root, 'bin/edgewarden.js');
const total = Number(values.rows);
const small = Math.round(total / 10);
const runs = Number(values.runs);
const START = Date.parse('2026-11-23T00:00:00Z');
const STEP_MS = 50; // one row every 50 ms: a million rows span about 14 hours
const iso = (ms) => new Date(ms).toISOString();

const server = await startPostgres();
const dir = mkdtempSync(path.join(tmpdir(), 'edgewarden-bench-export-'));
try {
  writeFileSync(path.join(dir, 'ca.crt'), server.ca);
  const admin = await adminClient(server);
  await createLogTable(admin);
  const seeded = Date.now();
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT 'gw-' || (g % 20), $1::timestamptz + g * interval '${STEP_MS} milliseconds',
            (ARRAY['info','notice','warning','err'])[1 + g % 4],
            (ARRAY['dnsmasq','dropbear','hostapd','kernel','netifd'])[1 + g % 5],
            CASE g % 5
              WHEN 0 THEN 'query[A] host' || (g % 977) || '.example.net from 192.168.1.' || (g % 250)
              WHEN 1 THEN 'Bad password attempt for ''root'' from 203.0.113.' || (g % 250) || ':' || (40000 + g % 20000)
              WHEN 2 THEN 'wlan0: STA aa:bb:cc:dd:' || lpad(to_hex(g % 256), 2, '0') || ':01 IEEE 802.11: associated (aid ' || (g % 30) || ')'
              WHEN 3 THEN 'DROP wan in: IN=eth1 SRC=198.51.100.' || (g % 250) || ' DST=192.0.2.1 PROTO=TCP SPT=' || (1024 + g % 60000) || ' DPT=' || (g % 1024)
              ELSE 'netifd: Interface ''wan'' is now up, "lease" ' || g END
     FROM generate_series(0, $2::int - 1) g`,
    [iso(START), total],
  );
  await admin.query('CREATE INDEX ON log_entries (timestamp, id)');
  await admin.query('VACUUM ANALYZE log_entries');
  await admin.end();
  const seedSeconds = (Date.now() - seeded) / 1000;

  const env = {
    ...process.env,
    EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
    EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
    EDGEWARDEN_HTTP_PORT: '0',
    NODE_OPTIONS: '--max-old-space-size=64',
  };

  /** Runs a command under /usr/bin/time: wall seconds and peak RSS (kB). */
  function timed(command, args, extraEnv = {}) {
    const started = process.hrtime.bigint();
    const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
      env: { ...env, ...extraEnv },
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 << 20,
      cwd: root,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const lines = result.stderr.toString().trim().split('\n');
    if (result.status !== 0) throw new Error(`${command} failed: ${lines.slice(-20).join('\n')}`);
    return { seconds, rssKb: Number(lines[lines.length - 1]) };
  }

  let n = 0;
  function exportOnce(format, compression, rows, bin = afterBin) {
    n++;
    const out = path.join(dir, `out-${n}`);
    const plan = {
      name: 'bench',
      namespace: 'default',
      uid: `bench-${n}`,
      from: iso(START),
      to: iso(START + rows * STEP_MS),
      spec: {
        dataTypes: ['logs'],
        source: { analysisAgentRef: { name: 'bench' } },
        timeRange: { from: iso(START), to: iso(START + rows * STEP_MS) },
        format,
        compression,
        destination: { persistentVolumeClaim: { claimName: 'bench' }, path: 'bench' },
      },
      logs: {
        source: { secretRef: { name: 'pg' }, sslMode: 'verify-full', preset: 'log_entries' },
      },
    };
    const planFile = path.join(dir, `plan-${n}.json`);
    writeFileSync(planFile, JSON.stringify(plan));
    const result = timed('node', [bin, 'export'], {
      EDGEWARDEN_EXPORT_PLAN: planFile,
      EDGEWARDEN_EXPORT_DIR: out,
    });
    const manifest = JSON.parse(readFileSync(path.join(out, 'bench.manifest.json'), 'utf8'));
    if (manifest.records.logs !== rows)
      throw new Error(`exported ${manifest.records.logs} rows, expected ${rows}`);
    rmSync(out, { recursive: true, force: true });
    return { ...result, bytes: manifest.bytes };
  }

  function copyOnce() {
    const file = path.join(dir, 'copy.txt');
    const sql = `COPY (SELECT timestamp, device_id, process_name, log_level, message, id FROM log_entries
      WHERE timestamp >= '${iso(START)}' AND timestamp < '${iso(START + total * STEP_MS)}' ORDER BY timestamp, id) TO STDOUT`;
    const result = timed(
      'psql',
      [
        `host=localhost port=${server.port} dbname=postgres user=reader sslmode=verify-full sslrootcert=${path.join(dir, 'ca.crt')}`,
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        sql,
        '-o',
        file,
      ],
      { PGPASSWORD: 'reader-secret' },
    );
    const bytes = statSync(file).size;
    rmSync(file);
    return { ...result, bytes };
  }

  /**
   * The reader alone (rows read and dropped): this tree's LogReader or the before's, from its
   * dist/, over the same window, so the read path is measured apart from shaping and writing.
   */
  function readOnly(buildRoot) {
    const script = `const { LogReader } = await import(${JSON.stringify(path.join(buildRoot, 'dist/agent-runtime/src/exporter/logReader.js'))});
const { presets } = await import(${JSON.stringify(path.join(buildRoot, 'dist/agent-runtime/src/source/presets.js'))});
const { readFileSync } = await import('node:fs');
const reader = new LogReader({ connection: { host: 'localhost', port: ${server.port}, database: 'postgres',
  user: 'reader', password: 'reader-secret', sslMode: 'verify-full',
  ca: readFileSync(${JSON.stringify(path.join(dir, 'ca.crt'))}, 'utf8') },
  mapping: presets.log_entries, from: '${iso(START)}', to: '${iso(START + total * STEP_MS)}', batchSize: 1000 });
await reader.inspect();
await reader.open(undefined);
let n = 0;
for (;;) { const rows = await reader.next(); if (rows.length === 0) break; n += rows.length; }
await reader.close();
if (n !== ${total}) throw new Error('read ' + n);`;
    return { ...timed('node', ['--input-type=module', '-e', script]), bytes: 0 };
  }

  const variants = [
    ['jsonl', 'none'],
    ['jsonl', 'gzip'],
    ['csv', 'none'],
    ['json', 'none'],
  ];
  const results = { copy: [], readAfter: [], readBefore: [] };
  for (const [f, c] of variants) results[`${f}/${c}`] = { after: [], before: [] };
  for (let i = 0; i < runs; i++) {
    // Interleaved, so every variant sees the same machine load.
    results.copy.push(copyOnce());
    results.readAfter.push(readOnly(root));
    results.readBefore.push(readOnly(before.root));
    for (const [f, c] of variants) {
      results[`${f}/${c}`].after.push(exportOnce(f, c, total));
      results[`${f}/${c}`].before.push(exportOnce(f, c, total, before.bin));
    }
  }
  const memory = { after: { small: [], large: [] }, before: { small: [], large: [] } };
  for (let i = 0; i < runs; i++) {
    for (const [which, bin] of [
      ['after', afterBin],
      ['before', before.bin],
    ]) {
      memory[which].small.push(exportOnce('jsonl', 'none', small, bin));
      memory[which].large.push(exportOnce('jsonl', 'none', total, bin));
    }
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const seconds = (rs) => median(rs.map((r) => r.seconds));
  const copyS = seconds(results.copy);
  const peak = (rs) => Math.max(...rs.map((r) => r.rssKb)) / 1024;
  const row = (name, rs, rows = total) => {
    const s = seconds(rs);
    const mb = median(rs.map((r) => r.bytes)) / 1e6;
    return `  ${name.padEnd(30)}${s.toFixed(2).padStart(7)} s ${Math.round(rows / s)
      .toLocaleString('en')
      .padStart(
        11,
      )} rows/s ${(mb / s).toFixed(1).padStart(6)} MB/s ${mb.toFixed(0).padStart(5)} MB ${(s / copyS).toFixed(2).padStart(6)}x  peak RSS ${peak(rs).toFixed(0)} MB`;
  };
  const label = ([f, c]) => `${f}${c === 'gzip' ? '+gzip' : ''}`;
  const memoryLines = (which, name) => {
    const m = memory[which];
    const runsOf = (rs) => rs.map((r) => (r.rssKb / 1024).toFixed(0)).join(', ');
    return `    ${name}: ${small.toLocaleString('en')} rows ${peak(m.small).toFixed(0)} MB (runs ${runsOf(m.small)}), ${total.toLocaleString('en')} rows ${peak(m.large).toFixed(0)} MB (runs ${runsOf(m.large)}); ratio ${(peak(m.large) / peak(m.small)).toFixed(2)}`;
  };
  const version = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  console.log(`edgewarden export benchmark (${runs} interleaved runs each, medians; peak RSS is the highest run)
  table: ${total.toLocaleString('en')} rows of log_entries (seeded in ${seedSeconds.toFixed(1)} s), ${version}, loopback, TLS verify-full
  after: this working tree; before: ${before.rev} (--before ${values.before})
  ${''.padEnd(30)}   time        rate            throughput    output  vs COPY
${row('COPY TO STDOUT (psql)', results.copy)}
${row('LogReader only (after: COPY)', results.readAfter)}
${row('LogReader only (before)', results.readBefore)}
${variants
  .flatMap((v) => [
    row(`export ${label(v)} (after)`, results[v.join('/')].after),
    row(`export ${label(v)} (before)`, results[v.join('/')].before),
  ])
  .join('\n')}
  speed-up (before / after): ${variants.map((v) => `${label(v)} ${(seconds(results[v.join('/')].before) / seconds(results[v.join('/')].after)).toFixed(2)}x`).join(', ')}
  memory (jsonl, NODE_OPTIONS=--max-old-space-size=64; aim: ratio at most 1.20):
${memoryLines('after', 'after ')}
${memoryLines('before', 'before')}
  per run (s): COPY ${results.copy.map((r) => r.seconds.toFixed(2)).join(' ')}; read after ${results.readAfter.map((r) => r.seconds.toFixed(2)).join(' ')} before ${results.readBefore.map((r) => r.seconds.toFixed(2)).join(' ')}; ${variants.map((v) => `${label(v)} after ${results[v.join('/')].after.map((r) => r.seconds.toFixed(2)).join(' ')} before ${results[v.join('/')].before.map((r) => r.seconds.toFixed(2)).join(' ')}`).join('; ')}`);
} finally {
  await server.remove();
  rmSync(dir, { recursive: true, force: true });
}
