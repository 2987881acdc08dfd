// `kubectl edgewarden` as a user runs it: the real kubectl of the test cluster, which finds the
// plugin on its PATH as it finds any plugin (an executable named kubectl-edgewarden: here a
// link to bin/kubectl-edgewarden.js, the link `npm i -g` makes), with the kubeconfig given: the
// test's admin one, or a ServiceAccount's bound to one of the shipped ClusterRoles.
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { kubectl, repoRoot, runTool, type Result } from '../integration/kube.js';

/** A folder holding only the plugin's executable, as a PATH entry. */
export async function pluginPath(dir: string): Promise<string> {
  const bin = path.join(dir, 'plugin-bin');
  await mkdir(bin, { recursive: true });
  await symlink(
    path.join(repoRoot, 'bin/kubectl-edgewarden.js'),
    path.join(bin, 'kubectl-edgewarden'),
  ).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return bin;
}

/** `kubectl edgewarden <args>` with `pathDir` first on PATH; resolves whatever the exit code. */
export function pluginRun(
  pathDir: string,
  args: string[],
  kubeconfig = process.env.KUBECONFIG!,
): Promise<Result> {
  return runTool(process.env.EDGEWARDEN_KUBECTL!, ['edgewarden', ...args], undefined, {
    ...process.env,
    PATH: `${pathDir}${path.delimiter}${process.env.PATH ?? ''}`,
    KUBECONFIG: kubeconfig,
  });
}

/** Like pluginRun, but throws with stderr unless the plugin exits 0; resolves stdout. */
export async function plugin(
  pathDir: string,
  args: string[],
  kubeconfig?: string,
): Promise<string> {
  const r = await pluginRun(pathDir, args, kubeconfig);
  if (r.code !== 0)
    throw new Error(`kubectl edgewarden ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/**
 * A kubeconfig for ServiceAccount `name` of `namespace` (made here), bound by a RoleBinding in
 * that namespace to ClusterRole `clusterRole`: the test cluster's address and CA, the account's
 * token. A user who holds only that role.
 */
export async function boundUserKubeconfig(
  dir: string,
  namespace: string,
  name: string,
  clusterRole: string,
): Promise<string> {
  await kubectl(['create', 'serviceaccount', name, '-n', namespace]);
  await kubectl([
    ...['create', 'rolebinding', name, `--clusterrole=${clusterRole}`],
    ...[`--serviceaccount=${namespace}:${name}`, '-n', namespace],
  ]);
  const token = (await kubectl(['create', 'token', name, '-n', namespace, '--duration=2h'])).trim();
  const admin = JSON.parse(
    await kubectl(['config', 'view', '--raw', '--minify', '--flatten', '-o', 'json']),
  ) as { clusters: { name: string; cluster: Record<string, unknown> }[] };
  const cluster = admin.clusters[0]!;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [cluster],
    users: [{ name, user: { token } }],
    contexts: [{ name, context: { cluster: cluster.name, user: name, namespace } }],
    'current-context': name,
  };
  const file = path.join(dir, `${name}.kubeconfig`);
  await writeFile(file, JSON.stringify(config), { mode: 0o600 });
  return file;
}
