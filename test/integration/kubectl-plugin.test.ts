// `kubectl edgewarden` (issue 21) against the real control plane, with the test cluster's
// kubeconfig: `agents -A` lists the AnalysisAgents made here (no operator, no pods: READY no,
// no figures), as the plugin's main function and as the installed bin; a pod the API server's
// proxy cannot reach is a warning naming it (exit 1); a triage command without the operator's
// token Secret fails with a message naming the Secret; and the suppression a
// false positive proposes is written into a real AnalysisAgent by the JSON patch the plugin
// sends, shown by the API server, not doubled when proposed again, unchanged by a dry run. The
// agent pods' side (the pod proxy, statuses) is the e2e journey's.
import { spawn } from 'node:child_process';
import path from 'node:path';

import { applySuppression } from '../../cli/src/kubectl/suppressionApply.js';
import { kubeAccess } from '../../cli/src/kubectl/kubeAccess.js';
import { main } from '../../cli/src/kubectl/main.js';
import { proposeSuppression } from '../../cli/src/kubectl/suppression.js';
import {
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
} from './kube.js';

let namespaces: string[] = [];

const agentYaml = (
  name: string,
  namespace: string,
  agent: string,
): string => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  agent: ${agent}
  source: { secretRef: { name: router-logs-db } }
`;

beforeAll(async () => {
  await installCrds();
  namespaces = [
    await createNamespace('plugin-a'),
    await createNamespace('plugin-b'),
    await createNamespace('plugin-c'),
  ];
  await kubectl(['apply', '-f', '-'], agentYaml('auth', namespaces[0]!, 'auth'));
  await kubectl(['apply', '-f', '-'], agentYaml('lab-dns', namespaces[1]!, 'dns'));
}, 90_000);

afterAll(async () => {
  for (const ns of namespaces) await kubectlRun(['delete', 'namespace', ns, '--wait=false']);
});

async function plugin(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { io: { out: (t) => out.push(t), err: (t) => err.push(t) } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const rowsOf = (table: string): string[][] => table.split('\n').map((l) => l.trim().split(/\s+/));

test('agents -A lists the AnalysisAgents of both namespaces, not ready, without figures', async () => {
  const r = await plugin(['agents', '-A']);
  expect(r).toMatchObject({ code: 0, err: '' });
  const rows = rowsOf(r.out);
  expect(rows[0]).toEqual([
    'NAMESPACE',
    'NAME',
    'AGENT',
    'READY',
    'LINES/S',
    'OPEN',
    'MODEL',
    'AGE',
  ]);
  expect(rows).toContainEqual([
    namespaces[0],
    'auth',
    'auth',
    'no',
    '-',
    '-',
    '-',
    expect.stringMatching(/^\d+s$/),
  ]);
  expect(rows).toContainEqual([
    namespaces[1],
    'lab-dns',
    'dns',
    'no',
    '-',
    '-',
    '-',
    expect.stringMatching(/^\d+s$/),
  ]);
  const one = await plugin(['agents', '-n', namespaces[1]!, '-o', 'json']);
  const list = JSON.parse(one.out) as { kind: string; items: { metadata: { name: string } }[] };
  expect(list.kind).toBe('List');
  expect(list.items.map((i) => i.metadata.name)).toEqual(['lab-dns']);
});

test('the installed bin: the same table, exit code 0', async () => {
  const bin = path.join(repoRoot, 'bin/kubectl-edgewarden.js');
  const child = spawn(process.execPath, [bin, 'agents', '-n', namespaces[0]!], {
    env: process.env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  expect(rowsOf(stdout)[1]?.slice(0, 6)).toEqual(['auth', 'auth', 'no', '-', '-', '-']);
});

test('anomalies with no agent pods: nothing found', async () => {
  const none = await plugin(['anomalies', '-n', namespaces[0]!]);
  expect(none).toEqual({
    code: 0,
    out: '',
    err: `No anomalies found in ${namespaces[0]} namespace.`,
  });
});

interface Pod {
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string };
}

test('a pod that cannot be read is a warning naming it, exit 1; triage without the Secret, or of no pod, an error', async () => {
  // An agent pod as the operator labels it, run by kwok, its address this machine's loopback
  // (which the API server's proxy refuses to dial); the viewer Secret as the operator keeps it.
  const ns = namespaces[2]!;
  await kubectl(['apply', '-f', '-'], agentYaml('auth', ns, 'auth'));
  const labels = {
    'app.kubernetes.io/name': 'edgewarden',
    'app.kubernetes.io/instance': 'auth',
    'app.kubernetes.io/component': 'agent',
    'app.kubernetes.io/managed-by': 'edgewarden-operator',
  };
  const node = (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'auth-agent-0', namespace: ns, labels },
      spec: { nodeName: node, containers: [{ name: 'agent', image: 'agent:1' }] },
    }),
  );
  await eventually('kwok to run the pod', async () => {
    const p = await kubectlJson<Pod>(['get', 'pod', 'auth-agent-0', '-n', ns]);
    return p.status.phase === 'Running' && p.status.podIP ? true : undefined;
  });
  await kubectl([
    ...['patch', 'pod', 'auth-agent-0', '-n', ns, '--subresource=status', '--type=merge', '-p'],
    JSON.stringify({ status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } }),
  ]);
  await kubectl([
    'create',
    'secret',
    'generic',
    'edgewarden-viewer-tokens',
    '-n',
    ns,
    '--from-literal=auth=t0ken',
  ]);

  const listed = await plugin(['anomalies', '-n', ns]);
  expect(listed.code).toBe(1);
  expect(listed.out).toBe('');
  expect(listed.err).toMatch(
    new RegExp(
      `^No anomalies found in ${ns} namespace\\.\nwarning: pod auth-agent-0 in ${ns}: the API server answered 400: address not allowed$`,
    ),
  );

  const fp = await plugin(['false-positive', 'auth-agent-0:1', '-n', ns, '--dry-run']);
  expect(fp).toEqual({
    code: 1,
    out: '',
    err: `error: no Secret edgewarden-triager-tokens in ${ns}: the operator keeps it for the namespace's AnalysisAgents (is it running?)`,
  });
  const nobody = await plugin(['anomaly', 'other-agent-0:1', '-n', ns]);
  expect(nobody).toEqual({
    code: 1,
    out: '',
    err: `error: no pod other-agent-0 in ${ns}; is -n right?`,
  });
});

test('a false positive’s suppression is appended to the AnalysisAgent, once; a dry run changes nothing', async () => {
  const ns = namespaces[0]!;
  const { client } = await kubeAccess({ namespace: ns });
  const now = new Date();
  const proposal = proposeSuppression(
    { rule: 'auth.bruteforce', device: 'gw-1', captures: { source: '203.0.113.7' } },
    { now, expiresMs: 30 * 86_400_000, note: 'our own scanner', user: 'alice' },
  );
  if (!proposal.ok) throw new Error(proposal.reason);
  const s = proposal.suppression;
  const dry = await applySuppression(client, ns, 'auth', s, { dryRun: true, now });
  expect(dry.kind).toBe('dry-run');
  const spec = () =>
    kubectlJson<{ spec: { rules?: { suppressions?: unknown[] } } }>([
      'get',
      'analysisagent',
      'auth',
      '-n',
      ns,
    ]);
  expect((await spec()).spec.rules?.suppressions).toBeUndefined();

  expect((await applySuppression(client, ns, 'auth', s, { dryRun: false, now })).kind).toBe(
    'applied',
  );
  expect((await spec()).spec.rules?.suppressions).toEqual([s]);

  const again = await applySuppression(
    client,
    ns,
    'auth',
    { ...s, reason: 'again' },
    { dryRun: false, now },
  );
  expect(again).toEqual({ kind: 'present', existing: s });
  // Another source: a second entry, appended after the first.
  const other = { ...s, source: '203.0.113.8' };
  expect((await applySuppression(client, ns, 'auth', other, { dryRun: false, now })).kind).toBe(
    'applied',
  );
  expect((await spec()).spec.rules?.suppressions).toEqual([s, other]);
});
