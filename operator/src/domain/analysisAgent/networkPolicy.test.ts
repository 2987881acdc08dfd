// The AnalysisAgent's NetworkPolicy (issue 20, H2), as a pure function: a golden file of the
// example agent's policy under the operator's default settings (set UPDATE_GOLDEN=1 to rewrite it
// after an intended change, and review the diff), and what must hold whatever the spec.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

import { ResourceValidator } from '../../../../api/src/validate.js';
import { agentDefaults } from '../../../../agent-runtime/src/contract/index.js';
import { labelsFor } from '../children.js';
import { EXPORT_COMPONENT } from '../exportJob/desired.js';
import { agentChildren, type StoredAgent } from './desired.js';
import { EXPORT_POD_LABELS, type AgentNetworkPolicySettings } from './networkPolicy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
/** What `edgewarden operator` passes by default, with its pods in edgewarden-system. */
const networkPolicy: AgentNetworkPolicySettings = {
  operatorNamespace: 'edgewarden-system',
  operatorPodLabels: {
    'app.kubernetes.io/name': 'edgewarden',
    'app.kubernetes.io/component': 'operator',
  },
  scraperNamespace: 'monitoring',
  scraperPodLabels: { 'app.kubernetes.io/name': 'prometheus' },
};
const settings = {
  agentImage: 'ghcr.io/edgewarden/edgewarden:0.1.0',
  imagePullPolicy: 'IfNotPresent' as const,
  networkPolicy,
};

interface Peer {
  namespaceSelector?: { matchLabels?: Record<string, string> };
  podSelector: { matchLabels: Record<string, string> };
}
interface PolicyShape {
  metadata: Record<string, unknown>;
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { ports: { port: number; protocol: string }[]; from: Peer[] }[];
  };
}
interface SetShape {
  metadata: Record<string, unknown>;
  spec: {
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> } };
  };
}

function agentFrom(yamlText: string, name?: string): StoredAgent {
  const doc = YAML.parse(yamlText) as { spec: object; metadata: { name: string } };
  const issues = new ResourceValidator().check(doc); // fills in the schema's defaults
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  doc.metadata = {
    ...doc.metadata,
    ...(name ? { name } : {}),
    namespace: 'routers',
    uid: '00000000-0000-4000-8000-000000000001',
    generation: 1,
  } as typeof doc.metadata;
  return doc as StoredAgent;
}

const exampleText = readFileSync(path.join(root, 'manifests/examples/analysisagent.yaml'), 'utf8');
const example = agentFrom(exampleText);
const children = (agent: StoredAgent, s = settings) => {
  const c = agentChildren(agent, s);
  return {
    policy: c.networkPolicy as unknown as PolicyShape | undefined,
    set: c.statefulSet as unknown as SetShape,
  };
};

test('golden: the example agent under the default settings', () => {
  const file = path.join(here, 'testdata', 'network-policy.golden.yaml');
  const text = YAML.stringify(agentChildren(example, settings).networkPolicy, { lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
});

test("it selects exactly the agent's pods, and is the agent's child like the others", () => {
  for (const name of ['dns-watch', 'a'.repeat(60)]) {
    const { policy, set } = children(agentFrom(exampleText, name));
    expect(policy!.spec.podSelector).toEqual(set.spec.selector);
    expect(set.spec.template.metadata.labels).toMatchObject(policy!.spec.podSelector.matchLabels);
    expect(policy!.metadata).toEqual(set.metadata); // name, namespace, labels, owner
  }
});

test("ingress only, on the agent's port, from the operator, export pods and scrapers", () => {
  const { policy } = children(example);
  expect(policy!.spec.policyTypes).toEqual(['Ingress']);
  expect(policy!.spec.ingress).toHaveLength(1);
  const [rule] = policy!.spec.ingress;
  expect(rule!.ports).toEqual([{ port: agentDefaults.port, protocol: 'TCP' }]);
  expect(rule!.from.map((p) => p.namespaceSelector)).toEqual([
    { matchLabels: { 'kubernetes.io/metadata.name': 'edgewarden-system' } },
    undefined, // the policy's own namespace: the agent's ExportJobs
    { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } },
  ]);
  // Every peer names pods: an empty podSelector with no namespaceSelector would admit them all.
  for (const peer of rule!.from) expect(peer.podSelector.matchLabels).toBeDefined();
});

test("the export peer selects the pods of the operator's export Jobs", () => {
  expect(labelsFor('weekly-review', EXPORT_COMPONENT)).toMatchObject(EXPORT_POD_LABELS);
});

// Moved from test/integration/chart.test.ts with the policy (the chart made it before the
// operator did): the same assertions, on the operator's policy.
test('NetworkPolicies let the operator, the namespace’s export pods and the scrapers reach the agents', () => {
  const peers = children(example).policy!.spec.ingress.flatMap((r) => r.from);
  // The labels the operator gives an ExportJob's pod select it (it pages each agent's /anomalies).
  const exportPod = labelsFor('weekly', EXPORT_COMPONENT);
  expect(
    peers.some(
      (p) =>
        p.podSelector &&
        !p.namespaceSelector &&
        Object.entries(p.podSelector.matchLabels).every(([k, v]) => exportPod[k] === v),
    ),
  ).toBe(true);
  // The agents' own pods, and anything else in the namespace, are not let in.
  const agentPod = labelsFor('dns', 'agent');
  expect(
    peers.some(
      (p) =>
        p.podSelector &&
        !p.namespaceSelector &&
        Object.entries(p.podSelector.matchLabels).every(([k, v]) => agentPod[k] === v),
    ),
  ).toBe(false);
});

test('scrapers in any namespace, and no policy when the operator makes none', () => {
  const anywhere = { ...networkPolicy, scraperNamespace: undefined };
  const { policy } = children(example, { ...settings, networkPolicy: anywhere });
  expect(policy!.spec.ingress[0]!.from[2]).toEqual({
    namespaceSelector: {},
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
  });
  const none = { ...settings, networkPolicy: undefined };
  expect(agentChildren(example, none).networkPolicy).toBeUndefined();
  expect(Object.keys(agentChildren(example, none))).toEqual([
    'serviceAccount',
    'configMap',
    'service',
    'statefulSet',
  ]);
});

test("the API server's pod proxy from other nodes, when its networks are given", () => {
  const apiServerCidrs = ['192.168.1.10/32', '2001:db8::/64'];
  const { policy } = children(example, {
    ...settings,
    networkPolicy: { ...networkPolicy, apiServerCidrs },
  });
  expect(policy!.spec.ingress[0]!.from.slice(3)).toEqual([
    { ipBlock: { cidr: '192.168.1.10/32' } },
    { ipBlock: { cidr: '2001:db8::/64' } },
  ]);
  // None given: no ipBlock, so no address outside the cluster's pods is let in.
  expect(JSON.stringify(children(example).policy)).not.toContain('ipBlock');
});
