// The Helm chart and the plain manifests rendered from it, with the real helm and a real API
// server: lint and template for every values file in charts/edgewarden/ci, a bad value refused
// by the schema, the operator's V8 flags as the code states them, and the plain install
// applied to a namespace that enforces the restricted Pod Security Standard, where the
// ReplicaSet controller must be allowed to create the operator's pod.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';

import { OPERATOR_NODE_OPTIONS } from '../../operator/src/main/operator.js';
import { promtool } from '../services/promtool.js';
import { eventually, helmRun, kubectl, kubectlJson, kubectlRun, repoRoot } from './kube.js';

const run = promisify(execFile);
const chart = path.join(repoRoot, 'charts/edgewarden');
const KUBE = ['--kube-version', '1.34.4'];
type Doc = {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  rules?: unknown[];
};

async function render(args: string[]): Promise<Doc[]> {
  const r = await helmRun(['template', 'ew', chart, '-n', 'edgewarden-system', ...KUBE, ...args]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

const kinds = (docs: Doc[]): string[] => docs.map((d) => d.kind).sort();
type Container = { args: string[]; env: { name: string; value?: string }[] };
const operatorContainer = (docs: Doc[]): Container =>
  (
    docs.find((d) => d.kind === 'Deployment')!.spec as {
      template: { spec: { containers: Container[] } };
    }
  ).template.spec.containers[0]!;

test('helm lint and template pass for every values file in ci/', async () => {
  const files = (await readdir(path.join(chart, 'ci'))).filter((f) => f.endsWith('.yaml'));
  expect(files.length).toBeGreaterThanOrEqual(3);
  for (const f of files) {
    const lint = await helmRun([
      'lint',
      chart,
      '--strict',
      ...KUBE,
      '-f',
      path.join(chart, 'ci', f),
    ]);
    expect({ file: f, code: lint.code, out: lint.code ? lint.stdout + lint.stderr : '' }).toEqual({
      file: f,
      code: 0,
      out: '',
    });
    expect((await render(['-f', path.join(chart, 'ci', f)])).length).toBeGreaterThan(3);
  }
});

test('the defaults: a ClusterRole, the CRDs kept on uninstall, the V8 flags of the code', async () => {
  const docs = await render([]);
  // The operator's ClusterRole, and edgewarden-viewer and edgewarden-triager (issue 21).
  expect(kinds(docs)).toEqual([
    'ClusterRole',
    'ClusterRole',
    'ClusterRole',
    'ClusterRoleBinding',
    'CustomResourceDefinition',
    'CustomResourceDefinition',
    'CustomResourceDefinition',
    'Deployment',
    'Role',
    'RoleBinding',
    'Service',
    'ServiceAccount',
  ]);
  for (const crd of docs.filter((d) => d.kind === 'CustomResourceDefinition'))
    expect(
      (crd.metadata as { annotations?: Record<string, string> }).annotations?.[
        'helm.sh/resource-policy'
      ],
    ).toBe('keep');
  const c = operatorContainer(docs);
  expect(c.env.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(OPERATOR_NODE_OPTIONS);
  expect(c.args).not.toContain('--leader-elect');
});

test('two replicas and two namespaces: leader election, a PDB, Roles only where it watches', async () => {
  const docs = await render(['-f', path.join(chart, 'ci/namespaced-ha-values.yaml')]);
  // No ClusterRole of the operator's: only the users' edgewarden-viewer and -triager (issue 21).
  expect(docs.filter((d) => d.kind === 'ClusterRole').map((d) => d.metadata.name)).toEqual([
    'edgewarden-viewer',
    'edgewarden-triager',
  ]);
  const roles = docs.filter((d) => d.kind === 'Role').map((d) => d.metadata.namespace);
  expect(roles.sort()).toEqual(['edgewarden-system', 'home-net', 'shop-net']);
  expect(docs.some((d) => d.kind === 'PodDisruptionBudget')).toBe(true);
  const c = operatorContainer(docs);
  expect(c.args).toEqual(
    expect.arrayContaining([
      '--leader-elect',
      '--namespace=home-net',
      '--namespace=shop-net',
      '--api-proxy-cidr=192.168.1.10/32',
    ]),
  );
});

test('monitoring: the PrometheusRule carries the alert file, and promtool accepts it as rendered', async () => {
  const docs = await render(['-f', path.join(chart, 'ci/monitoring-values.yaml')]);
  expect(docs.some((d) => d.kind === 'CustomResourceDefinition')).toBe(false);
  expect(docs.filter((d) => d.kind === 'ServiceMonitor' || d.kind === 'PodMonitor')).toHaveLength(
    2,
  );
  const rule = docs.find((d) => d.kind === 'PrometheusRule')!;
  const groups = (rule.spec as { groups: { rules: unknown[] }[] }).groups;
  expect(groups.length).toBeGreaterThan(0);
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-rules-'));
  try {
    const file = path.join(dir, 'rendered.yaml');
    await writeFile(file, stringify(rule.spec));
    const { stdout } = await run(await promtool(), ['check', 'rules', file]);
    expect(stdout).toContain('SUCCESS');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a bad value is refused by the schema, naming it', async () => {
  const zero = await helmRun(['template', 'ew', chart, ...KUBE, '--set', 'operator.replicas=0']);
  expect(zero.code).not.toBe(0);
  expect(zero.stderr).toContain("at '/operator/replicas': minimum: got 0, want 1");
  const typo = await helmRun(['template', 'ew', chart, ...KUBE, '--set', 'operator.replica=2']);
  expect(typo.code).not.toBe(0);
  expect(typo.stderr).toContain("additional properties 'replica' not allowed");
  const policy = await helmRun([
    'template',
    'ew',
    chart,
    ...KUBE,
    '--set',
    'image.pullPolicy=Sometimes',
  ]);
  expect(policy.code).not.toBe(0);
  expect(policy.stderr).toContain('/image/pullPolicy');
});

test('manifests/edgewarden.yaml installs into a restricted namespace, and the operator pod is admitted', async () => {
  const text = await readFile(path.join(repoRoot, 'manifests/edgewarden.yaml'), 'utf8');
  try {
    await kubectl(['apply', '--server-side', '--field-manager=edgewarden-tests', '-f', '-'], text);
    const ns = await kubectlJson<{ metadata: { labels: Record<string, string> } }>([
      'get',
      'namespace',
      'edgewarden-system',
    ]);
    expect(ns.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    // The ReplicaSet controller creates the pod only if Pod Security admission lets it.
    const pod = await eventually(
      'the operator pod, admitted under restricted',
      async () => {
        const list = await kubectlJson<{ items: { metadata: { name: string } }[] }>([
          'get',
          'pods',
          '-n',
          'edgewarden-system',
          '-l',
          'app.kubernetes.io/component=operator',
        ]);
        return list.items[0];
      },
      60_000,
    ).catch(async (error: Error) => {
      const events = await kubectlRun(['get', 'events', '-n', 'edgewarden-system']);
      throw new Error(`${error.message}\n${events.stdout}`);
    });
    expect(pod.metadata.name).toMatch(/^edgewarden-/);
  } finally {
    await kubectlRun(['delete', 'namespace', 'edgewarden-system', '--wait=false']);
    await kubectlRun([
      'delete',
      'clusterrole,clusterrolebinding',
      'edgewarden',
      '--ignore-not-found',
    ]);
  }
});

test("the agents' NetworkPolicies are the operator's: the chart passes its pods' labels and the scrapers", async () => {
  // Who the operator's policies admit is tested where they are made
  // (operator/src/domain/analysisAgent/networkPolicy.test.ts, test/integration/network-policy.test.ts);
  // the chart tells the operator who its own pods are, and lets it manage the policies.
  const docs = await render([]);
  const deployment = docs.find((d) => d.kind === 'Deployment')!.spec as {
    selector: { matchLabels: Record<string, string> };
  };
  const args = operatorContainer(docs).args;
  const selector = Object.entries(deployment.selector.matchLabels)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  const option = (name: string) =>
    args
      .find((a) => a.startsWith(`--${name}=`))
      ?.split('=')
      .slice(1)
      .join('=');
  expect(option('agent-network-policy')).toBe('true');
  expect(option('operator-pod-selector')!.split(',').sort()).toEqual(selector);
  expect(option('metrics-scraper-namespace')).toBe('monitoring');
  expect(option('metrics-scraper-selector')).toBe('app.kubernetes.io/name=prometheus');
  const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name.startsWith('ew-'))!;
  expect(role.rules).toContainEqual({
    apiGroups: ['networking.k8s.io'],
    resources: ['networkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  });
  // No agent policy of the chart's own; the operator's pod gets one when asked.
  expect(docs.some((d) => d.kind === 'NetworkPolicy')).toBe(false);
  const guarded = await render(['--set', 'networkPolicy.enabled=true']);
  expect(guarded.filter((d) => d.kind === 'NetworkPolicy').map((d) => d.metadata.name)).toEqual([
    'ew-edgewarden-operator',
  ]);

  const off = operatorContainer(await render(['--set', 'networkPolicy.agents.enabled=false'])).args;
  expect(off).toContain('--agent-network-policy=false');
  expect(off.some((a) => a.startsWith('--operator-pod-selector'))).toBe(false);
});

test('alertmanager.url: passed as --alertmanager-url; none by default; credentials refused', async () => {
  expect(operatorContainer(await render([])).args.join(' ')).not.toContain('--alertmanager-url');
  const url = 'http://alertmanager-operated.monitoring:9093';
  const args = operatorContainer(await render(['--set', `alertmanager.url=${url}`])).args;
  expect(args).toContain(`--alertmanager-url=${url}`);
  const secret = await helmRun([
    ...['template', 'ew', chart, ...KUBE],
    ...['--set', 'alertmanager.url=http://admin:pw@am:9093'],
  ]);
  expect(secret.code).not.toBe(0);
  expect(secret.stderr).toContain("at '/alertmanager/url'");
});
