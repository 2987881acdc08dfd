// Benchmark: `edgewarden train` on 100,000 windows, as a Job on a Pi would run it: time (read
// and feature extraction, fit) and peak RSS, median of N runs.
//   node bench/train.mjs [--runs N]     (npm run build first)
// The input: one million lines from 20 routers (routers.mjs); the template agent with 50 s
// windows closes 100,001 windows over it. Fitting: 100 trees, ψ = 256 (the defaults).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { writeRouterLog } from './routers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);

const dir = mkdtempSync(path.join(tmpdir(), 'edgewarden-bench-train-'));
const file = path.join(dir, 'routers.log');
await writeRouterLog(file, 1_000_000);

const results = [];
for (let i = 0; i < runs; i++) {
  const out = path.join(dir, `model-${i}`);
  const started = process.hrtime.bigint();
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%M',
      'node',
      path.join(root, 'bin/edgewarden.js'),
      'train',
      '--agent',
      'template',
      '--interval',
      '50s',
      '--input',
      file,
      '--out',
      out,
    ],
    { encoding: 'utf8' },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`train failed: ${r.stderr}`);
  const m = /on (\d+) windows.*read ([\d.]+) s, fit ([\d.]+) s/.exec(r.stdout);
  const rss = Number(r.stderr.trim().split('\n').at(-1)) / 1024;
  results.push({ seconds, windows: Number(m[1]), read: Number(m[2]), fit: Number(m[3]), rss });
}
rmSync(dir, { recursive: true, force: true });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const col = (k) => median(results.map((r) => r[k]));
console.log(`edgewarden train benchmark (${runs} runs, medians; one process, one core)
  windows       ${results[0].windows.toLocaleString('en')} (template agent, 50 s windows, 1,000,000 lines)
  forest        100 trees, sample size 256
  total         ${col('seconds').toFixed(2)} s (process start to exit)
  read+extract  ${col('read').toFixed(2)} s
  fit+score     ${col('fit').toFixed(2)} s
  peak RSS      ${col('rss').toFixed(0)} MB (max ${Math.max(...results.map((r) => r.rss)).toFixed(0)} MB)`);
