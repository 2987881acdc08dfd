// Benchmark: `edgewarden export` against PostgreSQL's own COPY (SELECT ...) TO STDOUT of the
// same rows (psql, into a file, over the same TLS connection), side by side in one run, on a
// table of a million rows; and the exporter's peak RSS for 100,000 rows against 1,000,000.
//   npm run bench:export     (builds first)
//   node bench/export.mjs [--rows N] [--runs N]
// It starts its own PostgreSQL (test/services/postgres.ts, from dist/) and seeds it with
// generate_series. The exporter runs as in its pod: NODE_OPTIONS=--max-old-space-size=64 (a
// quarter of the export Job's 256Mi memory limit), default batchSize (1000) and maxFileSize.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startPostgres, adminClient, createLogTable } = await import(
  path.join(root, 'dist/test/services/postgres.js')
);

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
  },
});
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
  function exportOnce(format, compression, rows) {
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
    const result = timed('node', [path.join(root, 'bin/edgewarden.js'), 'export'], {
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

  /** The floor of any cursor-based export: the same cursor FETCHed through pg, rows dropped. */
  function fetchOnly() {
    const script = `import pg from 'pg';
import { readFileSync } from 'node:fs';
const client = new pg.Client({ host: 'localhost', port: ${server.port}, user: 'reader',
  password: 'reader-secret', database: 'postgres',
  ssl: { ca: readFileSync(${JSON.stringify(path.join(dir, 'ca.crt'))}, 'utf8') } });
await client.connect();
await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
await client.query(\`DECLARE c NO SCROLL CURSOR FOR SELECT timestamp::text, id::text, device_id::text,
  process_name::text, log_level::text, message::text FROM log_entries
  WHERE timestamp >= '${iso(START)}' AND timestamp < '${iso(START + total * STEP_MS)}' ORDER BY timestamp, id\`);
let n = 0;
for (;;) { const r = await client.query('FETCH 1000 FROM c'); if (r.rows.length === 0) break; n += r.rows.length; }
if (n !== ${total}) throw new Error('fetched ' + n);
await client.end();`;
    return { ...timed('node', ['--input-type=module', '-e', script]), bytes: 0 };
  }

  const variants = [
    ['jsonl', 'none'],
    ['jsonl', 'gzip'],
    ['csv', 'none'],
    ['json', 'none'],
  ];
  const results = { copy: [], fetch: [] };
  for (const [f, c] of variants) results[`${f}/${c}`] = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so every variant sees the same machine load.
    results.copy.push(copyOnce());
    results.fetch.push(fetchOnly());
    for (const [f, c] of variants) results[`${f}/${c}`].push(exportOnce(f, c, total));
  }
  const memory = { small: [], large: [] };
  for (let i = 0; i < runs; i++) {
    memory.small.push(exportOnce('jsonl', 'none', small));
    memory.large.push(exportOnce('jsonl', 'none', total));
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const copyS = median(results.copy.map((r) => r.seconds));
  const row = (name, rs, rows = total) => {
    const s = median(rs.map((r) => r.seconds));
    const mb = median(rs.map((r) => r.bytes)) / 1e6;
    const rss = Math.max(...rs.map((r) => r.rssKb)) / 1024;
    return `  ${name.padEnd(24)}${s.toFixed(2).padStart(7)} s ${Math.round(rows / s)
      .toLocaleString('en')
      .padStart(
        11,
      )} rows/s ${(mb / s).toFixed(1).padStart(6)} MB/s ${mb.toFixed(0).padStart(5)} MB ${(s / copyS).toFixed(2).padStart(6)}x  peak RSS ${rss.toFixed(0)} MB`;
  };
  const peak = (rs) => Math.max(...rs.map((r) => r.rssKb)) / 1024;
  console.log(`edgewarden export benchmark (${runs} interleaved runs each, medians; peak RSS is the highest run)
  table: ${total.toLocaleString('en')} rows of log_entries (seeded in ${seedSeconds.toFixed(1)} s), PostgreSQL ${'15/16'} on loopback, TLS verify-full
  ${''.padEnd(24)}   time        rate            throughput    output  vs COPY
${row('COPY TO STDOUT (psql)', results.copy)}
${row('cursor FETCH only (pg)', results.fetch)}
${variants.map(([f, c]) => row(`export ${f}${c === 'gzip' ? '+gzip' : ''}`, results[`${f}/${c}`])).join('\n')}
  memory (jsonl, NODE_OPTIONS=--max-old-space-size=64):
    ${small.toLocaleString('en')} rows: peak RSS ${peak(memory.small).toFixed(0)} MB (runs ${memory.small.map((r) => (r.rssKb / 1024).toFixed(0)).join(', ')})
    ${total.toLocaleString('en')} rows: peak RSS ${peak(memory.large).toFixed(0)} MB (runs ${memory.large.map((r) => (r.rssKb / 1024).toFixed(0)).join(', ')})
    ratio ${(peak(memory.large) / peak(memory.small)).toFixed(2)} (aim: at most 1.20)
  per run (s): COPY ${results.copy.map((r) => r.seconds.toFixed(2)).join(' ')}; ${variants.map(([f, c]) => `${f}${c === 'gzip' ? '+gzip' : ''} ${results[`${f}/${c}`].map((r) => r.seconds.toFixed(2)).join(' ')}`).join('; ')}`);
} finally {
  await server.remove();
  rmSync(dir, { recursive: true, force: true });
}
