// The operator trusts a pod as an agent's only if the agent's own StatefulSet controls it (issue
// 20, Lows), against the real control plane with `edgewarden operator` running as a process.
// A pod made by hand with the agent's labels, on the kwok node, whose address is a server of
// this test's: the operator polls every agent pod's GET /status (and would offer it the model,
// with the agent's control token), so before the check this server was asked; now it never is,
// and the operator logs the pod once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
} from './kube.js';
import { runOperator, type RunningOperator } from './namespaceSuite.js';

let namespace: string;
let operator: RunningOperator | undefined;
let server: Server;
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    asked.push(`${req.method} ${req.url} ${req.headers.authorization ? 'with' : 'without'} token`);
    res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await installCrds();
  namespace = await createNamespace('impostor');
  operator = await runOperator(namespace);
}, 90_000);

afterAll(async () => {
  await operator?.stop();
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
  await new Promise((r) => server?.close(r));
});

interface Pod {
  metadata: { labels: Record<string, string> };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string };
}

test("a pod with an agent's labels that its StatefulSet does not control is never sent a request", async () => {
  await kubectl([
    'create',
    'secret',
    'generic',
    'dns-db',
    '-n',
    namespace,
    '--from-literal=url=postgresql://ro@db/logs',
  ]);
  await kubectl(
    ['apply', '-f', '-'],
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: dns, namespace: ${namespace} }
spec:
  agent: dns
  source:
    secretRef: { name: dns-db }
  nodeSelector: { kubernetes.io/arch: arm64 }
`,
  );
  // kwok runs the agent's own pod.
  const real = await eventually('the agent pod to run', async () => {
    const p = await kubectlJson<Pod>(['get', 'pod', 'dns-agent-0', '-n', namespace]);
    return p.status.phase === 'Running' ? p : undefined;
  });

  // The impostor: the same labels, on the same node, owned by nobody; its http port is this
  // test's server, and its address (once kwok has made it Running) this machine's loopback.
  const port = (server.address() as AddressInfo).port;
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'dns-agent-impostor', namespace, labels: real.metadata.labels },
      spec: {
        nodeName: real.spec.nodeName,
        containers: [
          { name: 'agent', image: 'impostor:1', ports: [{ name: 'http', containerPort: port }] },
        ],
      },
    }),
  );
  await eventually('kwok to run the impostor', async () => {
    const p = await kubectlJson<Pod>(['get', 'pod', 'dns-agent-impostor', '-n', namespace]);
    return p.status.phase === 'Running' && p.status.podIP ? true : undefined;
  });
  await kubectl([
    'patch',
    'pod',
    'dns-agent-impostor',
    '-n',
    namespace,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } }),
  ]);
  // The operator polls running agent pods every 2 s (--poll 2s): five polls, and not one request.
  await new Promise((r) => setTimeout(r, 10_000));
  expect(asked).toEqual([]);
  // It did see the pod: logged once, by name and controller.
  const lines = operator!
    .log()
    .split('\n')
    .filter((l) => l.includes('ignored a pod') && l.includes('dns-agent-impostor'));
  expect(lines.length).toBeGreaterThanOrEqual(1);
  expect(JSON.parse(lines[0]!)).toMatchObject({ pod: 'dns-agent-impostor', podController: 'none' });
  // Once per controller that met it (the AnalysisAgent's), not once per poll.
  expect(lines.length).toBe(1);
  // The agent's own pod is still its pod: the status counts it.
  const agent = await kubectlJson<{ status?: { replicas?: number } }>([
    'get',
    'analysisagent',
    'dns',
    '-n',
    namespace,
  ]);
  expect(agent.status?.replicas).toBe(1);
}, 120_000);
