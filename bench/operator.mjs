// Benchmark: the operator managing 50 AnalysisAgents on the real control plane (the test
// binaries, kwok running the pods): the time from `kubectl apply` of one agent to its status
// showing observedGeneration == generation with Ready set (median and p99 over the 50), and
// the operator's peak RSS (VmHWM) once all 50 are managed.
//   npm run bench:operator     (node bench/operator.mjs [--agents N])
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startControlPlane } = await import(
  path.join(root, 'dist/test/control-plane/controlPlane.js')
);
const { values } = parseArgs({ options: { agents: { type: 'string', default: '50' } } });
const count = Number(values.agents);

const plane = await startControlPlane();
const kubectl = (args, input) => {
  const r = spawnSync(plane.tools.kubectl, ['--kubeconfig', plane.kubeconfig, ...args], {
    input,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
let operator;
try {
  kubectl(['apply', '--server-side', '-f', path.join(root, 'crds')]);
  kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/analysisagents.edgewarden.io',
  ]);
  kubectl(['create', 'namespace', 'bench']);
  kubectl([
    'create',
    'secret',
    'generic',
    'db',
    '-n',
    'bench',
    '--from-literal=url=postgresql://x@y/z',
  ]);
  let log = '';
  operator = spawn(
    'node',
    [
      path.join(root, 'bin/edgewarden.js'),
      'operator',
      '--kubeconfig',
      plane.kubeconfig,
      '--namespace',
      'bench',
      '--metrics-port',
      '0',
      '--health-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--agent-image',
      'edgewarden:bench',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  operator.stderr.on('data', (d) => (log += d));
  operator.stdout.on('data', (d) => (log += d));
  while (!log.includes('caches synced')) await sleep(100);

  const latencies = [];
  for (let i = 0; i < count; i++) {
    const name = `agent-${i}`;
    const started = performance.now();
    kubectl(
      ['apply', '-f', '-'],
      `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: bench }
spec: { agent: dns, source: { secretRef: { name: db } } }
`,
    );
    for (;;) {
      const a = JSON.parse(kubectl(['get', 'analysisagent', name, '-n', 'bench', '-o', 'json']));
      if (
        a.status?.observedGeneration === a.metadata.generation &&
        a.status?.conditions?.some((c) => c.type === 'Ready')
      )
        break;
      await sleep(20);
    }
    latencies.push(performance.now() - started);
  }
  // Let every agent's pod come up and the status polls run, then read the peak.
  await sleep(15_000);
  const status = readFileSync(`/proc/${operator.pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const ready = JSON.parse(
    kubectl(['get', 'analysisagents', '-n', 'bench', '-o', 'json']),
  ).items.filter((a) =>
    a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  ).length;
  console.log(`edgewarden operator benchmark: ${count} AnalysisAgents on the test control plane (kwok runs the pods)
  apply -> observedGeneration == generation, Ready set (kubectl polls every 20 ms, so ~20 ms is the floor)
    median ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms
  agents Ready=True after 15 s: ${ready} of ${count}
  operator memory: peak RSS (VmHWM) ${hwm.toFixed(0)} MB, RSS now ${rss.toFixed(0)} MB`);
} finally {
  operator?.kill('SIGTERM');
  await plane.stop();
}
