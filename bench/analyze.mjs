// Benchmark: `edgewarden analyze` against a plain read of the same file (`wc -l`), side by side
// in one run, on a file of at least a million lines; and the analyser's peak RSS. The agents run
// with every built-in rule pack (as pods run them) and, beside that, with their own code only
// (--no-packs), so the packs' cost is read off one run. --compare BIN adds another build's
// edgewarden.js (e.g. a checkout of an older commit) to the same interleaved runs.
//   npm run bench            (builds first)
//   node bench/analyze.mjs [--lines N] [--runs N] [--compare path/to/bin/edgewarden.js]
// The file: see routers.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { writeRouterLog } from './routers.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const { values } = parseArgs({
  options: {
    lines: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    compare: { type: 'string' },
  },
});
const target = Number(values.lines);
const runs = Number(values.runs);

const dir = mkdtempSync(path.join(tmpdir(), 'edgewarden-bench-'));
const file = path.join(dir, 'routers.log');
const written = await writeRouterLog(file, target);
const bytes = Number(execFileSync('stat', ['-c', '%s', file]).toString().trim());

function timed(command, args) {
  const started = process.hrtime.bigint();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    maxBuffer: 64 << 20,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const lines = result.stderr.toString().trim().split('\n');
  return { seconds, rssKb: Number(lines[lines.length - 1]) };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The heap an agent pod runs with by default (NODE_OPTIONS, a quarter of the CRD's default
// 384Mi memory limit: operator/src/domain/quantity.ts). V8 left to
// itself lets the heap grow well past the ~25 MB that is live before it collects.
const BUDGET = '--max-old-space-size=96';
// And as the pod runs it now (issue 22): the operator's NODE_OPTIONS for that limit, which adds
// small semi-spaces (operator/src/domain/podParts.ts), so the two are compared in one run.
const { heapEnvironment } = await import(path.join(root, 'dist/operator/src/domain/podParts.js'));
const POD_FLAGS = heapEnvironment('384Mi')
  .find((e) => e.name === 'NODE_OPTIONS')
  .value.split(' ');
const analyzeArgs = [
  path.join(root, 'bin/edgewarden.js'),
  'analyze',
  '--input',
  file,
  '--format',
  'jsonl',
];
const compareArgs = values.compare ? [values.compare, ...analyzeArgs.slice(1)] : undefined;
const wc = [];
const analyze = [];
const budgeted = [];
const asPod = [];
const codeOnly = [];
const compared = [];
for (let i = 0; i < runs; i++) {
  // Interleaved, so all see the same machine load.
  wc.push(timed('wc', ['-l', file]));
  analyze.push(timed('node', analyzeArgs));
  budgeted.push(timed('node', [BUDGET, ...analyzeArgs]));
  asPod.push(timed('node', [...POD_FLAGS, ...analyzeArgs]));
  codeOnly.push(timed('node', [...analyzeArgs, '--no-packs']));
  if (compareArgs) compared.push(timed('node', compareArgs));
}
rmSync(dir, { recursive: true, force: true });

const wcS = median(wc.map((r) => r.seconds));
const rate = (s) => `${Math.round(written / s).toLocaleString('en')} lines/s`;
const row = (name, results) => {
  const s = median(results.map((r) => r.seconds));
  const rss = median(results.map((r) => r.rssKb)) / 1024;
  const peak = Math.max(...results.map((r) => r.rssKb)) / 1024;
  return `  ${name.padEnd(50)}${s.toFixed(3).padStart(7)} s  ${rate(s).padStart(18)}  ${(s / wcS).toFixed(1).padStart(6)}x  RSS median ${rss.toFixed(0)} MB, peak ${peak.toFixed(0)} MB`;
};
console.log(`edgewarden analyze benchmark (${runs} interleaved runs each, medians; one process, one core)
  file: ${written.toLocaleString('en')} lines, ${(bytes / 1048576).toFixed(1)} MiB, 20 routers, all six agents
  ${''.padEnd(50)}   time           rate           vs wc -l
  ${'wc -l'.padEnd(50)}${wcS.toFixed(3).padStart(7)} s  ${rate(wcS).padStart(18)}
${row('analyze', analyze)}
${row(`analyze ${BUDGET}`, budgeted)}
${row(`analyze ${POD_FLAGS.join(' ')}`, asPod)}
${row('analyze --no-packs (code only)', codeOnly)}${compareArgs ? `\n${row(`compare: ${path.relative(process.cwd(), values.compare)}`, compared)}` : ''}
  all packs vs code only: ${(median(analyze.map((r) => r.seconds)) / median(codeOnly.map((r) => r.seconds))).toFixed(2)}x the time${compareArgs ? `; vs compare: ${(median(analyze.map((r) => r.seconds)) / median(compared.map((r) => r.seconds))).toFixed(2)}x` : ''}
  per run (s): wc ${wc.map((r) => r.seconds.toFixed(3)).join(' ')}; analyze ${analyze.map((r) => r.seconds.toFixed(2)).join(' ')}; budgeted ${budgeted.map((r) => r.seconds.toFixed(2)).join(' ')}; as pod ${asPod.map((r) => r.seconds.toFixed(2)).join(' ')}; code only ${codeOnly.map((r) => r.seconds.toFixed(2)).join(' ')}${compareArgs ? `; compare ${compared.map((r) => r.seconds.toFixed(2)).join(' ')}` : ''}`);
