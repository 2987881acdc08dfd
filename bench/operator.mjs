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

import { operatorArgs } from './operatorArgs.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startControlPlane } = await import(
  path.join(root, 'dist/test/control-plane/controlPlane.js')
);
const { OPERATOR_NODE_OPTIONS } = await import(
  path.join(root, 'dist/operator/src/main/operator.js')
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
  // A freshly established CRD answers 429 "storage is (re)initializing" for a moment: wait
  // for it to serve, so the first agent measures the operator and not the CRD's start.
  for (;;) {
    const r = spawnSync(
      plane.tools.kubectl,
      ['--kubeconfig', plane.kubeconfig, 'get', 'analysisagents', '-A'],
      { encoding: 'utf8' },
    );
    if (r.status === 0) break;
    await sleep(100);
  }
  console.log(`edgewarden operator benchmark: ${count} AnalysisAgents per run on the test control plane (kwok runs the pods)
  latency: kubectl apply -> observedGeneration == generation with Ready set (kubectl polls every 20 ms;
           each kubectl call is a process start, so ~40 ms is the floor)`);
  // Side by side in one run: node's defaults, and the V8 flags the operator's Deployment sets.
  // First an unmeasured warm-up: the first agent after the control plane starts took ~2.3 s
  // in every run, the next ones ~0.15 s, also under a new operator process: the cluster warms
  // up (it stayed after a warm-up server-side apply of an AnalysisAgent alone).
  const variants = [
    { name: 'warm-up', nodeOptions: '', agents: 1 },
    { name: 'node defaults', nodeOptions: '' },
    {
      name: `as deployed (NODE_OPTIONS=${OPERATOR_NODE_OPTIONS})`,
      nodeOptions: OPERATOR_NODE_OPTIONS,
    },
  ];
  for (const [v, variant] of variants.entries()) {
    const ns = `bench-${v}`;
    kubectl(['create', 'namespace', ns]);
    kubectl([
      'create',
      'secret',
      'generic',
      'db',
      '-n',
      ns,
      '--from-literal=url=postgresql://x@y/z',
    ]);
    let log = '';
    operator = spawn(
      'node',
      [path.join(root, 'bin/edgewarden.js'), ...operatorArgs(plane.kubeconfig, ns)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_OPTIONS: variant.nodeOptions },
      },
    );
    operator.stderr.on('data', (d) => (log += d));
    operator.stdout.on('data', (d) => (log += d));
    while (!log.includes('caches synced')) await sleep(100);
    const port = /"metricsPort":(\d+)/.exec(log)[1];

    const latencies = [];
    for (let i = 0; i < (variant.agents ?? count); i++) {
      const name = `agent-${i}`;
      const started = performance.now();
      kubectl(
        ['apply', '-f', '-'],
        `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: ${ns} }
spec: { agent: dns, source: { secretRef: { name: db } } }
`,
      );
      for (;;) {
        const a = JSON.parse(kubectl(['get', 'analysisagent', name, '-n', ns, '-o', 'json']));
        if (
          a.status?.observedGeneration === a.metadata.generation &&
          a.status?.conditions?.some((c) => c.type === 'Ready')
        )
          break;
        await sleep(20);
      }
      latencies.push(performance.now() - started);
    }
    if (variant.name === 'warm-up') {
      operator.kill('SIGTERM');
      await new Promise((r) => operator.once('exit', r));
      console.log(`\n  warm-up (not counted): first agent ${latencies[0].toFixed(0)} ms`);
      continue;
    }
    // Let every agent's pod come up and the status polls run, then read the peak.
    await sleep(15_000);
    const status = readFileSync(`/proc/${operator.pid}/status`, 'utf8');
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)[1]) / 1024;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
    const sorted = [...latencies].sort((a, b) => a - b);
    const pct = (p) =>
      sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    const ready = JSON.parse(
      kubectl(['get', 'analysisagents', '-n', ns, '-o', 'json']),
    ).items.filter((a) =>
      a.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    ).length;
    const metrics = await (await globalThis.fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const count_ = (result) =>
      Number(
        new RegExp(
          `reconcile_total\\{controller="analysisagent",result="${result}"\\} (\\d+)`,
        ).exec(metrics)?.[1] ?? NaN,
      );
    console.log(`
  ${variant.name}
    latency median ${pct(50).toFixed(0)} ms, p99 ${pct(99).toFixed(0)} ms, max ${sorted.at(-1).toFixed(0)} ms (first agent ${latencies[0].toFixed(0)} ms)
    agents Ready=True after 15 s: ${ready} of ${count}; reconciles ${count_('success')}, failed ${count_('error')}, retried after 409 Conflict ${count_('conflict')}
    peak RSS (VmHWM) ${hwm.toFixed(0)} MB, RSS now ${rss.toFixed(0)} MB`);
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
    operator = undefined;
    // Free the fake node (4 CPUs: 50 pods request 2.5) for the next run's pods.
    kubectl(['delete', 'statefulsets', '--all', '-n', ns, '--wait=true']);
    kubectl(['delete', 'pods', '--all', '-n', ns, '--wait=true', '--timeout=120s']);
  }
} finally {
  operator?.kill('SIGTERM');
  await plane.stop();
}
