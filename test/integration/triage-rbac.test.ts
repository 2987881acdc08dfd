// Issue 21, against the real API server's RBAC authorizer and the controller manager's
// ClusterRole aggregation: the chart's edgewarden-viewer and edgewarden-triager, as rendered,
// bound in a namespace. A viewer may read agents through the pod proxy (GET) and the viewer
// tokens, but not POST through the proxy, read the triager tokens or patch an AnalysisAgent; a
// triager may. The built-in view and edit roles gain them by aggregation (and not with
// rbac.aggregateToBuiltinRoles=false). The operator's own account may keep the two token
// Secrets in any namespace, and no other Secret.
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

import {
  createNamespace,
  eventually,
  helmRun,
  installCrds,
  kubectl,
  kubectlRun,
  repoRoot,
} from './kube.js';

const chart = path.join(repoRoot, 'charts/edgewarden');
type Doc = { kind: string; metadata: { name: string; namespace?: string } };

let namespace: string;
let release: string;
const applied: Doc[] = [];

async function rbacOf(args: string[]): Promise<Doc[]> {
  const r = await helmRun([
    ...['template', 'ew', chart, '-n', release, '--kube-version', '1.34.4'],
    ...args,
  ]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Doc | null)
    .filter((d): d is Doc => d !== null && /^(Cluster)?Role(Binding)?$/.test(d.kind));
}

async function apply(docs: Doc[]): Promise<void> {
  await kubectl(['apply', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
  applied.push(...docs);
}

/**
 * Whether ServiceAccount `sa` (of the test namespace unless it says `ns:name`) may `verb` `what`
 * (or its `subresource`) in the test namespace, as kubectl auth can-i asks the API server.
 */
async function may(sa: string, verb: string, what: string, subresource?: string): Promise<boolean> {
  const r = await kubectlRun([
    ...['auth', 'can-i', verb, what, '-n', namespace],
    ...(subresource ? [`--subresource=${subresource}`] : []),
    `--as=system:serviceaccount:${sa.includes(':') ? sa : `${namespace}:${sa}`}`,
  ]);
  return r.stdout.trim() === 'yes';
}

/** What a viewer and a triager differ in, each `yes` or `no`. */
async function rights(sa: string): Promise<Record<string, boolean>> {
  return {
    proxyGet: await may(sa, 'get', 'pods/auth-0', 'proxy'),
    viewerTokens: await may(sa, 'get', 'secrets/edgewarden-viewer-tokens'),
    proxyPost: await may(sa, 'create', 'pods/auth-0', 'proxy'),
    triagerTokens: await may(sa, 'get', 'secrets/edgewarden-triager-tokens'),
    patchAgents: await may(sa, 'patch', 'analysisagents.edgewarden.io'),
    otherSecrets: await may(sa, 'get', 'secrets/dns-db'),
  };
}

const VIEWER = {
  proxyGet: true,
  viewerTokens: true,
  proxyPost: false,
  triagerTokens: false,
  patchAgents: false,
  otherSecrets: false,
};
const TRIAGER = { ...VIEWER, proxyPost: true, triagerTokens: true, patchAgents: true };

beforeAll(async () => {
  await installCrds(); // kubectl auth can-i finds analysisagents.edgewarden.io by discovery
  [namespace, release] = await Promise.all([
    createNamespace('triage-rbac'),
    createNamespace('ew-rel'),
  ]);
  for (const sa of ['viewer', 'triager', 'viewuser', 'edituser', 'nobody'])
    await kubectl(['create', 'serviceaccount', sa, '-n', namespace]);
  const binding = (sa: string, kind: string, role: string) =>
    kubectl([
      ...['create', 'rolebinding', `${sa}-${role}`, '-n', namespace],
      `--${kind}=${role}`,
      `--serviceaccount=${namespace}:${sa}`,
    ]);
  await binding('viewer', 'clusterrole', 'edgewarden-viewer');
  await binding('triager', 'clusterrole', 'edgewarden-triager');
  await binding('viewuser', 'clusterrole', 'view');
  await binding('edituser', 'clusterrole', 'edit');
}, 60_000);

afterAll(async () => {
  for (const d of applied.filter((d) => d.kind.startsWith('Cluster')))
    await kubectlRun(['delete', d.kind.toLowerCase(), d.metadata.name, '--ignore-not-found']);
  for (const ns of [namespace, release])
    if (ns) await kubectlRun(['delete', 'namespace', ns, '--wait=false']);
});

test('edgewarden-viewer reads, edgewarden-triager triages; view and edit aggregate them', async () => {
  await apply(await rbacOf([]));
  expect(await rights('viewer')).toEqual(VIEWER);
  expect(await rights('triager')).toEqual(TRIAGER);
  expect(await rights('nobody')).toEqual({ ...VIEWER, proxyGet: false, viewerTokens: false });
  // The aggregation controller copies the rules into view and edit in a moment.
  await eventually('view to aggregate edgewarden-viewer', async () =>
    (await may('viewuser', 'get', 'secrets/edgewarden-viewer-tokens')) ? true : undefined,
  );
  expect(await rights('viewuser')).toEqual(VIEWER);
  // edit reads every Secret and posts through the proxy of its own: what it gains is the patch.
  await eventually('edit to aggregate edgewarden-triager', async () =>
    (await may('edituser', 'patch', 'analysisagents.edgewarden.io')) ? true : undefined,
  );
  expect(await rights('edituser')).toEqual({ ...TRIAGER, otherSecrets: true });
}, 90_000);

test('the operator may keep the two token Secrets in any namespace, and read no other', async () => {
  const sa = `${release}:ew-edgewarden`;
  for (const verb of ['get', 'update', 'patch']) {
    expect(await may(sa, verb, 'secrets/edgewarden-viewer-tokens')).toBe(true);
    expect(await may(sa, verb, 'secrets/edgewarden-triager-tokens')).toBe(true);
    expect(await may(sa, verb, 'secrets/dns-db')).toBe(false);
  }
  expect(await may(sa, 'create', 'secrets')).toBe(true);
  expect(await may(sa, 'list', 'secrets')).toBe(false);
}, 30_000);

test('rbac.aggregateToBuiltinRoles=false: view and edit stay as they were', async () => {
  await apply(await rbacOf(['--set', 'rbac.aggregateToBuiltinRoles=false']));
  // The aggregation controller takes the rules out again.
  await eventually('view to drop edgewarden-viewer', async () =>
    (await may('viewuser', 'get', 'secrets/edgewarden-viewer-tokens')) ? undefined : true,
  );
  await eventually('edit to drop edgewarden-triager', async () =>
    (await may('edituser', 'patch', 'analysisagents.edgewarden.io')) ? undefined : true,
  );
  expect(await may('viewuser', 'get', 'pods/auth-0', 'proxy')).toBe(false);
  // Bound directly, the roles grant what they did.
  expect(await rights('viewer')).toEqual(VIEWER);
  expect(await rights('triager')).toEqual(TRIAGER);
}, 90_000);
