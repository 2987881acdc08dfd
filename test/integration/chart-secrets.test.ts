// Which Secrets the operator may read, as the real API server's RBAC authorizer sees the chart's
// rules (issue 20, Lows): a cluster-wide install's ClusterRole reads no Secret (it may only
// create an ExportJob's token Secret); `get secrets` only in operator.secretNamespaces, or in
// each namespace of a namespaced install; in its own namespace, only the control key.
import path from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';

import { createNamespace, helmRun, kubectl, kubectlRun, repoRoot } from './kube.js';

const chart = path.join(repoRoot, 'charts/edgewarden');
type Doc = { kind: string; metadata: { name: string; namespace?: string } };

/** The chart's RBAC objects, as `helm template` renders them with `args`. */
async function rbacOf(release: string, namespace: string, args: string[]): Promise<Doc[]> {
  const r = await helmRun([
    'template',
    release,
    chart,
    '-n',
    namespace,
    '--kube-version',
    '1.34.4',
    ...args,
  ]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJSON() as Doc | null)
    .filter((d): d is Doc => d !== null && /^(Cluster)?Role(Binding)?$/.test(d.kind));
}

/** Whether the release's ServiceAccount may `verb` secrets (named `name`) in `namespace`. */
async function may(sa: string, verb: string, namespace: string, name?: string): Promise<boolean> {
  const r = await kubectlRun([
    'auth',
    'can-i',
    verb,
    name ? `secrets/${name}` : 'secrets',
    '-n',
    namespace,
    `--as=system:serviceaccount:${sa}`,
  ]);
  return r.stdout.trim() === 'yes';
}

test("the operator's Secret reads: none cluster-wide; per namespace only where granted", async () => {
  const [release, users, other] = await Promise.all([
    createNamespace('ew-rel'),
    createNamespace('ew-users'),
    createNamespace('ew-other'),
  ]);
  const name = `ew-${release.slice(-6)}`;
  const sa = `${release}:${name}-edgewarden`;
  const cleanup: Doc[] = [];
  try {
    // A cluster-wide install with the defaults: no Secret read outside the control key.
    const defaults = await rbacOf(name, release, []);
    cleanup.push(...defaults);
    await kubectl(['apply', '-f', '-'], defaults.map((d) => stringify(d)).join('---\n'));
    expect(await may(sa, 'get', other)).toBe(false);
    expect(await may(sa, 'get', users)).toBe(false);
    // With one namespace granted Secret reads.
    const cluster = await rbacOf(name, release, [`--set=operator.secretNamespaces={${users}}`]);
    await kubectl(['apply', '-f', '-'], cluster.map((d) => stringify(d)).join('---\n'));
    expect(await may(sa, 'get', other)).toBe(false);
    expect(await may(sa, 'get', 'default')).toBe(false);
    expect(await may(sa, 'list', other)).toBe(false);
    expect(await may(sa, 'create', other)).toBe(true); // an ExportJob's token Secret
    expect(await may(sa, 'get', users)).toBe(true); // operator.secretNamespaces
    expect(await may(sa, 'list', users)).toBe(false);
    expect(await may(sa, 'get', release)).toBe(false);
    expect(await may(sa, 'get', release, 'edgewarden-control-key')).toBe(true);
    for (const d of cluster)
      if (d.kind.startsWith('Cluster'))
        await kubectl(['delete', d.kind.toLowerCase(), d.metadata.name]);

    // A namespaced install: each watched namespace's Role reads Secrets, nowhere else.
    const namespaced = await rbacOf(name, release, [`--set=operator.watchNamespaces={${other}}`]);
    await kubectl(['apply', '-f', '-'], namespaced.map((d) => stringify(d)).join('---\n'));
    expect(await may(sa, 'get', other)).toBe(true);
    expect(await may(sa, 'get', 'default')).toBe(false);
  } finally {
    for (const d of cleanup)
      if (d.kind.startsWith('Cluster'))
        await kubectlRun(['delete', d.kind.toLowerCase(), d.metadata.name, '--ignore-not-found']);
    for (const ns of [release, users, other])
      await kubectlRun(['delete', 'namespace', ns, '--wait=false']);
  }
});
