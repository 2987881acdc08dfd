// Benchmark: the memory of edgewarden on a Raspberry Pi, as its pods run it. The operator and
// the six built-in agents (wifi, dns, auth, firewall, system, template) run as processes with
// their pods' Node flags (NODE_OPTIONS as the operator renders it for the pod's memory limit)
// against a seeded PostgreSQL holding a realistic day of router logs (the demo's fleet: the
// real OpenWrt sample replayed by 10 routers, with attacks injected), and run several cycles.
// Printed for each process: peak RSS (VmHWM) and steady RSS (the median of the last samples,
// once every agent has read the whole day), and the total; then the same for the layout of an
// earlier commit (default: the last before issue 22), side by side in one run, with whether
// the two layouts found the same anomalies.
//   npm run bench:pi                (builds first)
//   node bench/pi.mjs [--before REV] [--seconds N] [--routers N] [--no-operator]
// The operator runs against the test control plane (test binaries, `npm run tools`) with the
// six AnalysisAgents applied; kwok stands in for the kubelet there, so its figure is the
// operator's own. The agents read with API auth off (as run by hand) and no Redis.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { baselineBuild, BEFORE_ISSUE_22 } from './baseline.mjs';
import { operatorArgs } from './operatorArgs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(root, 'dist', p));
const { startPostgres, adminClient, createLogTable } = await dist('test/services/postgres.js');
const { fleetLog } = await dist('agent-runtime/src/demo/fleet.js');
const { SyslogParser } = await dist('agent-runtime/src/parse/syslog.js');

const { values } = parseArgs({
  options: {
    before: { type: 'string', default: BEFORE_ISSUE_22 },
    seconds: { type: 'string', default: '120' },
    routers: { type: 'string', default: '10' },
    'no-operator': { type: 'boolean', default: false },
    // For exploring: the agents to run, and NODE_OPTIONS for the "after" agents in place of
    // the operator's; --no-before runs only this tree.
    agents: { type: 'string', default: 'wifi,dns,auth,firewall,system,template' },
    'node-options': { type: 'string' },
    'no-before': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const AGENTS = values.agents.split(',');
/** The agents whose shipped baseline model the bench serves (a ModelDeployment of it). */
const WITH_MODEL = new Set(['wifi', 'dns', 'system', 'template']);
const MB = 1024;

const mib = (kb) => (kb / MB).toFixed(0);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
/** RSS, PSS (shared pages divided among their sharers) and anonymous memory, in kB. */
function memoryKb(pid) {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
    return { rss: field('Rss'), pss: field('Pss'), anon: field('Anonymous') };
  } catch {
    return { rss: NaN, pss: NaN, anon: NaN };
  }
}
function procKb(pid, field) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** What an anomaly is, less when it was stored: the same finding in both layouts. */
const findingKey = (a) => [a.timestamp, a.rule ?? '', a.type, a.device, a.severity].join('|');

// --- a realistic day of router logs ---------------------------------------------------------
const dayEnd = Date.now() - 60_000;
const sample = readFileSync(
  path.join(root, 'agent-runtime/data/openwrt/logread-sample.log'),
  'utf8',
)
  .split('\n')
  .filter(Boolean);
const fleet = fleetLog(sample, {
  routers: Number(values.routers),
  hours: 24,
  seed: 1,
  attacksPerRouterDay: 2,
  meanGapMs: 30_000,
  startMs: dayEnd - 24 * 3_600_000,
});
const parser = new SyslogParser();
const rows = fleet.lines.flatMap((line) => {
  const o = parser.parse(line);
  return o.ok ? [o.record] : [];
});

const server = await startPostgres();
const dir = mkdtempSync(path.join(tmpdir(), 'edgewarden-bench-pi-'));
const running = new Set();
let plane;
try {
  writeFileSync(path.join(dir, 'ca.crt'), server.ca);
  const admin = await adminClient(server);
  await createLogTable(admin);
  for (let i = 0; i < rows.length; i += 5000) {
    const chunk = rows.slice(i, i + 5000);
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
       SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[])`,
      [
        chunk.map((r) => r.host),
        chunk.map((r) => r.timestamp),
        chunk.map((r) => r.level),
        chunk.map((r) => r.program),
        chunk.map((r) => r.message),
      ],
    );
  }
  await admin.query('VACUUM ANALYZE log_entries');
  await admin.end();
  console.log(`edgewarden Pi memory benchmark
  input: ${rows.length.toLocaleString('en-US')} log lines, one day of ${values.routers} routers (the demo's fleet, ${fleet.attacks.length} attacks injected), in PostgreSQL
  each agent: its pod's NODE_OPTIONS for the default 384Mi limit, interval 10s, backfill 48h (the whole day in both layouts), ${SECONDS} s of cycles
  served models: ${[...WITH_MODEL].join(', ')} (their shipped baselines); auth and firewall run rules only
  RSS sampled every second from /proc; steady = median of the last third of the samples`);

  if (!values['no-operator']) {
    const { startControlPlane } = await dist('test/control-plane/controlPlane.js');
    plane = await startControlPlane();
    prepareCluster(plane);
  }

  const before = await baselineBuild(values.before);
  const layouts = [
    ...(values['no-before'] ? [] : [{ name: `before (${before.rev})`, root: before.root }]),
    { name: 'after (this tree)', root },
  ];
  const results = [];
  for (const layout of layouts) results.push(await runLayout(layout));
  report(results);
} finally {
  for (const p of running) p.kill('SIGKILL');
  await plane?.stop();
  await server.remove();
  rmSync(dir, { recursive: true, force: true });
}

function kubectl(args, input) {
  const r = spawnSync(plane.tools.kubectl, ['--kubeconfig', plane.kubeconfig, ...args], {
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function prepareCluster() {
  kubectl(['apply', '--server-side', '-f', path.join(root, 'crds')]);
  kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/analysisagents.edgewarden.io',
  ]);
}

function agentYaml(agent, model) {
  return `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${agent}-agent, namespace: bench, uid: bench-${agent} }
spec:
  agent: ${agent}
  interval: 10s
  source:
    secretRef: { name: db }
    sslMode: verify-full
    preset: log_entries
    backfill: 48h
${model ? `  model: { name: ${agent}-baseline }\n` : ''}`;
}

/** The NODE_OPTIONS an agent's pod gets from the operator of `buildRoot`, for the default limit. */
async function agentNodeOptions(buildRoot) {
  const { heapEnvironment } = await import(
    path.join(buildRoot, 'dist/operator/src/domain/podParts.js')
  );
  return heapEnvironment('384Mi').find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
}

function startProcess(name, buildRoot, args, env) {
  let output = '';
  const proc = spawn(process.execPath, [path.join(buildRoot, 'bin/edgewarden.js'), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => (output = (output + d).slice(-200_000)));
  proc.stderr.on('data', (d) => (output = (output + d).slice(-200_000)));
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
  return { name, proc, samples: [], output: () => output };
}

async function startAgent(layout, agent, nodeOptions) {
  const home = path.join(dir, `${layout.short}-${agent}`);
  mkdirSync(path.join(home, 'model'), { recursive: true });
  const model = WITH_MODEL.has(agent);
  if (model)
    cpSync(path.join(layout.root, 'models', agent), path.join(home, 'model'), { recursive: true });
  writeFileSync(path.join(home, 'agent.yaml'), agentYaml(agent, model));
  const p = startProcess(agent, layout.root, ['agent'], {
    EDGEWARDEN_CONFIG: path.join(home, 'agent.yaml'),
    EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
    EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
    EDGEWARDEN_DATA_DIR: path.join(home, 'data'),
    EDGEWARDEN_MODEL_DIR: path.join(home, 'model'),
    EDGEWARDEN_HTTP_PORT: '0',
    EDGEWARDEN_API_AUTH: 'none',
    POD_NAME: `${agent}-agent-0`,
    NODE_OPTIONS: nodeOptions,
  });
  return p;
}

async function startOperator(layout) {
  const ns = `bench-${layout.short}`;
  kubectl(['create', 'namespace', ns]);
  kubectl(['create', 'secret', 'generic', 'db', '-n', ns, '--from-literal=url=postgresql://x@y/z']);
  const { OPERATOR_NODE_OPTIONS } = await import(
    path.join(layout.root, 'dist/operator/src/main/operator.js')
  );
  const p = startProcess('operator', layout.root, operatorArgs(plane.kubeconfig, ns), {
    NODE_OPTIONS: OPERATOR_NODE_OPTIONS,
  });
  while (!p.output().includes('caches synced')) {
    if (p.proc.exitCode !== null) throw new Error(`operator exited:\n${p.output()}`);
    await sleep(100);
  }
  for (const agent of AGENTS)
    kubectl(
      ['apply', '-f', '-'],
      agentYaml(agent, WITH_MODEL.has(agent))
        .replace('namespace: bench', `namespace: ${ns}`)
        .replace(/, uid: [^ }]+/, ''),
    );
  return p;
}

/** The port an agent serves on, from its log line. */
function agentPort(p) {
  const m = /serving on port (\d+)/.exec(p.output());
  return m ? Number(m[1]) : undefined;
}

async function anomaliesOf(p) {
  const port = agentPort(p);
  if (!port) return [];
  const found = [];
  for (let after = ''; ;) {
    const query = `limit=500&order=asc${after ? `&after=${encodeURIComponent(after)}` : ''}`;
    const res = await globalThis.fetch(`http://127.0.0.1:${port}/anomalies?${query}`);
    if (!res.ok) throw new Error(`${p.name}: GET /anomalies ${res.status}`);
    const body = await res.json();
    found.push(...(Array.isArray(body) ? body : (body.items ?? body.anomalies)));
    after = res.headers.get('x-edgewarden-next-cursor') ?? '';
    if (!after) return found;
  }
}

/** V8's heap in use and in total, and memory outside it, from the agent's default metrics. */
async function heapOf(p) {
  const port = agentPort(p);
  if (!port) return undefined;
  const text = await (await globalThis.fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const gauge = (name) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return {
    used: gauge('edgewarden_nodejs_heap_size_used_bytes'),
    total: gauge('edgewarden_nodejs_heap_size_total_bytes'),
    external: gauge('edgewarden_nodejs_external_memory_bytes'),
  };
}

async function runLayout(layout) {
  layout.short = layout.root === root ? 'after' : 'before';
  const nodeOptions =
    layout.root === root && values['node-options'] !== undefined
      ? values['node-options']
      : await agentNodeOptions(layout.root);
  const processes = [];
  if (plane) processes.push(await startOperator(layout));
  for (const agent of AGENTS) processes.push(await startAgent(layout, agent, nodeOptions));
  const started = Date.now();
  while (Date.now() - started < SECONDS * 1000) {
    for (const p of processes) {
      if (p.proc.exitCode !== null)
        throw new Error(
          `${layout.name}: ${p.name} exited ${p.proc.exitCode}:\n${p.output().slice(-4000)}`,
        );
      p.samples.push(memoryKb(p.proc.pid));
    }
    await sleep(1000);
  }
  const rowsOut = [];
  for (const p of processes) {
    const peak = procKb(p.proc.pid, 'VmHWM');
    const last = p.samples.slice(Math.floor((p.samples.length * 2) / 3));
    const steady = median(last.map((m) => m.rss));
    const pss = median(last.map((m) => m.pss));
    const anon = median(last.map((m) => m.anon));
    const anomalies = p.name === 'operator' ? undefined : await anomaliesOf(p);
    const heap = p.name === 'operator' ? undefined : await heapOf(p);
    rowsOut.push({ name: p.name, peak, steady, pss, anon, anomalies, heap });
  }
  for (const p of processes) p.proc.kill('SIGTERM');
  await Promise.all(
    processes.map((p) =>
      p.proc.exitCode === null ? new Promise((r) => p.proc.once('exit', r)) : null,
    ),
  );
  return { layout, nodeOptions, rows: rowsOut };
}

function report(results) {
  const names = results[0].rows.map((r) => r.name);
  const head = [
    'process',
    ...results.flatMap((r) => [`${r.layout.name}: peak RSS`, 'steady RSS', 'PSS', 'anon']),
  ];
  const cells = (row) => [row.peak, row.steady, row.pss, row.anon].map((kb) => `${mib(kb)} MB`);
  const table = names.map((name) => [
    name,
    ...results.flatMap((r) => cells(r.rows.find((x) => x.name === name))),
  ]);
  const sum = (r, field) => r.rows.reduce((s, x) => s + x[field], 0);
  table.push([
    'total',
    ...results.flatMap((r) =>
      cells({
        peak: sum(r, 'peak'),
        steady: sum(r, 'steady'),
        pss: sum(r, 'pss'),
        anon: sum(r, 'anon'),
      }),
    ),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) =>
    '  ' + cells.map((c, i) => (i ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log('');
  for (const r of results)
    console.log(`  ${r.layout.name}: agents' NODE_OPTIONS=${r.nodeOptions || '(none)'}`);
  console.log(line(head));
  for (const row of table) console.log(line(row));
  console.log(
    "\n  where an agent's memory is at the end (V8 heap used / heap total / external, from its /metrics):",
  );
  for (const r of results)
    for (const row of r.rows.filter((x) => x.heap))
      console.log(
        `    ${r.layout.name.padEnd(24)} ${row.name.padEnd(9)} ${mib(row.heap.used / 1024)} / ${mib(row.heap.total / 1024)} / ${mib(row.heap.external / 1024)} MB`,
      );
  if (results.length < 2) return;
  const [a, b] = results;
  console.log(
    `  steady total after/before: RSS ${(sum(b, 'steady') / sum(a, 'steady')).toFixed(2)}, PSS ${(sum(b, 'pss') / sum(a, 'pss')).toFixed(2)}`,
  );
  console.log('\n  findings (anomalies stored by each agent):');
  let identical = true;
  for (const name of names.filter((n) => n !== 'operator')) {
    const ka = a.rows
      .find((x) => x.name === name)
      .anomalies.map(findingKey)
      .sort();
    const kb = b.rows
      .find((x) => x.name === name)
      .anomalies.map(findingKey)
      .sort();
    const same = ka.length === kb.length && ka.every((k, i) => k === kb[i]);
    identical &&= same;
    if (!same) {
      const onlyIn = (xs, ys) => xs.filter((k) => !ys.includes(k)).slice(0, 5);
      console.log(`      only before: ${onlyIn(ka, kb).join('; ') || '-'}`);
      console.log(`      only after:  ${onlyIn(kb, ka).join('; ') || '-'}`);
    }
    console.log(
      `    ${name.padEnd(9)} before ${String(ka.length).padStart(4)}  after ${String(kb.length).padStart(4)}  ${same ? 'identical' : 'DIFFERENT'}`,
    );
  }
  console.log(`  findings identical: ${identical ? 'yes' : 'NO'}`);
}
