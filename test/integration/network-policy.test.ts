// Each AnalysisAgent gets a NetworkPolicy (issue 20, H2), against the real control plane with
// `edgewarden operator` running as a process: in the agent's namespace, selecting its pods,
// ingress on the agent's port only from the operator's pods, the export pods of the namespace and
// the configured scrapers, controlled by the agent. A policy someone else made under its name is
// not adopted (the agent says so, and makes no pods). `--agent-network-policy=false` makes none
// and removes one the agent made before. The API server only stores policies: what enforces them
// is the network (docs/security.md, "H2: network policies"); the test node's CNI bridge plugin
// enforces none, so this suite checks the objects, not the traffic.

import { createNamespace, eventually, installCrds, kubectl, kubectlRun } from './kube.js';
import {
  namespaceObjects,
  runOperator,
  type Condition,
  type RunningOperator,
} from './namespaceSuite.js';

let namespace: string;
let operator: RunningOperator | undefined;

interface Owned {
  metadata: {
    uid: string;
    generation: number;
    labels?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean; kind: string; name: string }[];
  };
  spec?: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[] };
}
interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector?: { matchLabels?: Record<string, string> };
}
interface PolicySpec {
  podSelector: { matchLabels: Record<string, string> };
  policyTypes: string[];
  ingress: { ports: { port: number | string; protocol: string }[]; from: Peer[] }[];
  egress?: unknown;
}

const agentYaml = (name: string): string => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  agent: dns
  source:
    secretRef: { name: np-db }
  nodeSelector: { kubernetes.io/arch: arm64 }
`;

const { get, exists, settled } = namespaceObjects<Owned>(() => namespace);

async function start(args: string[] = []): Promise<void> {
  operator = await runOperator(namespace, args);
}

async function stop(): Promise<void> {
  await operator?.stop();
  operator = undefined;
}

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('netpol');
  await kubectl(['create', 'secret', 'generic', 'np-db', '-n', namespace, '--from-literal=url=x']);
  await start();
}, 90_000);

afterAll(async () => {
  await stop();
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

test("an AnalysisAgent gets a NetworkPolicy of its own, on its pods' port", async () => {
  await kubectl(['apply', '-f', '-'], agentYaml('np'));
  const policy = await eventually(
    'the NetworkPolicy np-agent',
    async () =>
      (await exists('networkpolicy', 'np-agent')) ? get('networkpolicy', 'np-agent') : undefined,
    60_000,
  );
  const agent = await get('analysisagent', 'np');
  expect(policy.metadata.ownerReferences).toEqual([
    expect.objectContaining({
      kind: 'AnalysisAgent',
      name: 'np',
      uid: agent.metadata.uid,
      controller: true,
    }),
  ]);
  // The operator's informers see it (its labels), so a deleted or edited policy is put back.
  expect(policy.metadata.labels).toMatchObject({
    'app.kubernetes.io/managed-by': 'edgewarden-operator',
    'app.kubernetes.io/instance': 'np',
  });

  const spec = policy.spec as unknown as PolicySpec;
  expect(spec.podSelector.matchLabels).toEqual({
    'app.kubernetes.io/instance': 'np',
    'app.kubernetes.io/component': 'agent',
  });
  // The selector is the StatefulSet's: the policy covers exactly the agent's pods.
  const set = await get('statefulset', 'np-agent');
  expect((set.spec as { selector: { matchLabels: unknown } }).selector.matchLabels).toEqual(
    spec.podSelector.matchLabels,
  );
  expect(spec.policyTypes).toEqual(['Ingress']); // egress stays open: databases, model URLs
  expect(spec.egress).toBeUndefined();
  expect(spec.ingress).toHaveLength(1);
  expect(spec.ingress[0]!.ports).toEqual([{ port: 8080, protocol: 'TCP' }]);
  expect(spec.ingress[0]!.from).toEqual([
    {
      namespaceSelector: {
        matchLabels: { 'kubernetes.io/metadata.name': process.env.POD_NAMESPACE ?? 'default' },
      },
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/name': 'edgewarden',
          'app.kubernetes.io/component': 'operator',
        },
      },
    },
    {
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/managed-by': 'edgewarden-operator',
          'app.kubernetes.io/component': 'export',
        },
      },
    },
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
      podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
    },
  ]);

  // Deleted by hand, it comes back: the operator owns and watches it like the other children.
  await kubectl(['delete', 'networkpolicy', 'np-agent', '-n', namespace]);
  await eventually(
    'the NetworkPolicy np-agent again',
    async () => ((await exists('networkpolicy', 'np-agent')) ? true : undefined),
    60_000,
  );
}, 180_000);

test('a NetworkPolicy someone else made under its name is not adopted', async () => {
  const foreign = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'fp-agent', namespace },
    spec: { podSelector: { matchLabels: { mine: 'yes' } }, policyTypes: ['Ingress'] },
  };
  await kubectl(['apply', '-f', '-'], JSON.stringify(foreign));
  await kubectl(['apply', '-f', '-'], agentYaml('fp'));

  const blocked = await settled('analysisagent', 'fp', 'a Ready condition', (a) =>
    Boolean(a.status?.conditions?.some((c) => c.type === 'Ready')),
  );
  const ready = blocked.status!.conditions!.find((c) => c.type === 'Ready')!;
  expect(ready).toMatchObject({ status: 'False', reason: 'ChildConflict' });
  expect(ready.message).toContain('NetworkPolicy "fp-agent" already exists');
  const theirs = await get('networkpolicy', 'fp-agent');
  expect(theirs.metadata.ownerReferences).toBeUndefined();
  expect(theirs.spec).toMatchObject(foreign.spec);
  // Refused whole: no pods run under a policy that is not their agent's.
  expect(await exists('statefulset', 'fp-agent')).toBe(false);
  await kubectl(['delete', 'analysisagent', 'fp', '-n', namespace, '--wait=true']);
  await new Promise((r) => setTimeout(r, 3000)); // the garbage collector's time
  expect((await get('networkpolicy', 'fp-agent')).metadata.ownerReferences).toBeUndefined();
}, 180_000);

test("--api-proxy-cidr lets the API server's pod proxy in from those networks", async () => {
  await stop();
  await start(['--api-proxy-cidr=192.168.1.10', '--api-proxy-cidr=2001:db8:0:0::/64']);
  const from = await eventually(
    'the NetworkPolicy np-agent with the networks',
    async () => {
      const policy = await get('networkpolicy', 'np-agent');
      const peers = (policy.spec as unknown as { ingress: { from: unknown[] }[] }).ingress[0]!.from;
      return peers.length === 5 ? peers : undefined;
    },
    60_000,
  );
  // An address is a network of one; IPv6 written as the API server keeps it.
  expect(from.slice(3)).toEqual([
    { ipBlock: { cidr: '192.168.1.10/32' } },
    { ipBlock: { cidr: '2001:db8::/64' } },
  ]);
  await stop();
  await start();
}, 180_000);

test('--agent-network-policy=false makes none, and removes the ones it made', async () => {
  await stop();
  await start(['--agent-network-policy=false']);
  // The policy the agent made under the default goes: the operator no longer keeps it up to date.
  await eventually(
    'np-agent to be removed',
    async () => ((await exists('networkpolicy', 'np-agent')) ? undefined : true),
    60_000,
  );
  // A policy that is not the agent's stays (fp's agent is gone; the policy was never its own).
  expect(await exists('networkpolicy', 'fp-agent')).toBe(true);

  await kubectl(['apply', '-f', '-'], agentYaml('plain'));
  await eventually(
    'the StatefulSet plain-agent',
    async () => ((await exists('statefulset', 'plain-agent')) ? true : undefined),
    60_000,
  );
  await settled('analysisagent', 'plain', 'status', () => true);
  expect(await exists('networkpolicy', 'plain-agent')).toBe(false);
}, 180_000);
