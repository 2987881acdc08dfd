// The user's way to the cluster, found as kubectl finds it: --kubeconfig, else the first file
// of $KUBECONFIG that exists, else ~/.kube/config, else (in a pod) its service account; the
// context --context names or the current one; the namespace -n gives, else the context's, else
// "default". The loading and the client are the operator's (operator/src/runtime), not a copy.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

import { KubeClient } from '../../../operator/src/runtime/kubeClient.js';
import { loadInCluster } from '../../../operator/src/runtime/kubeConfig.js';
import {
  kubeConfigNamespace,
  loadKubeConfigFile,
} from '../../../operator/src/runtime/kubeConfigFile.js';
import type { Flags } from './args.js';

export interface KubeAccess {
  client: KubeClient;
  /** The namespace commands act in without -A. */
  namespace: string;
}

/** The kubeconfig file kubectl would read, or undefined (none: in-cluster, if in a pod). */
export function kubeconfigFile(
  flags: Pick<Flags, 'kubeconfig'>,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (flags.kubeconfig) return flags.kubeconfig;
  const listed = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (listed.length > 0) return listed.find((f) => existsSync(f)) ?? listed[0];
  const home = path.join(env.HOME ?? homedir(), '.kube', 'config');
  if (existsSync(home) || !env.KUBERNETES_SERVICE_HOST) return home;
  return undefined;
}

export async function kubeAccess(
  flags: Pick<Flags, 'kubeconfig' | 'context' | 'namespace'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<KubeAccess> {
  const file = kubeconfigFile(flags, env);
  const connection = file
    ? await loadKubeConfigFile(file, flags.context ? { context: flags.context } : {})
    : await loadInCluster(env);
  const namespace =
    flags.namespace ??
    (file ? await kubeConfigNamespace(file, flags.context) : undefined) ??
    'default';
  return { client: new KubeClient(connection, 'kubectl-edgewarden'), namespace };
}
