// How the operator reaches the API server: the server's URL, the TLS material and the
// credentials of each request, from a kubeconfig file or the pod's service account. A small
// loader of our own instead of @kubernetes/client-node's KubeConfig (see docs/operator.md,
// "Why not client-node"): it reads what a kubeconfig for an operator holds and refuses, by
// name, what it does not support.
//
// Where the configuration comes from (loadKubeConfig):
//  1. the file given (the operator's --kubeconfig);
//  2. else in-cluster, when KUBERNETES_SERVICE_HOST is set: https://$KUBERNETES_SERVICE_HOST:
//     $KUBERNETES_SERVICE_PORT, the service account's CA and token (the token file is read
//     again once a minute: bound service account tokens rotate);
//  3. else $KUBECONFIG: the first file of its list (colon-separated) that exists. kubectl
//     merges all of them; we do not, so keep the whole configuration in the first file;
//  4. else ~/.kube/config.
//
// What a kubeconfig may hold is kubeConfigFile.ts's; the credentials (tokens, token files,
// exec plugins) kubeCredentials.ts's; the connection and its pool of sockets
// kubeConnection.ts's. Nothing here logs or puts into an error message a token or a key.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

import { loadKubeConfigFile } from './kubeConfigFile.js';
import { KubeConnection, type Connection } from './kubeConnection.js';
import { TokenFile, readFileOrThrow } from './kubeCredentials.js';

export { loadKubeConfigFile } from './kubeConfigFile.js';
export type { Connection, ConnectionOptions } from './kubeConnection.js';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadOptions {
  /** The environment to read KUBERNETES_SERVICE_HOST, KUBECONFIG and HOME from. */
  env?: NodeJS.ProcessEnv;
  /** Where the service account's token and CA are mounted (in-cluster). */
  serviceAccountDir?: string;
}

/** The connection of the operator: `file`, else in-cluster, else $KUBECONFIG, else ~/.kube/config. */
export async function loadKubeConfig(
  file?: string,
  options: LoadOptions = {},
): Promise<Connection> {
  const env = options.env ?? process.env;
  if (file) return loadKubeConfigFile(file);
  if (env.KUBERNETES_SERVICE_HOST) return loadInCluster(env, options.serviceAccountDir);
  const candidates = (env.KUBECONFIG ?? '').split(path.delimiter).filter(Boolean);
  if (candidates.length > 0) {
    const found = candidates.find((f) => existsSync(f));
    if (!found) throw new Error(`no kubeconfig: none of KUBECONFIG=${env.KUBECONFIG} exists`);
    return loadKubeConfigFile(found);
  }
  const home = env.HOME ?? homedir();
  return loadKubeConfigFile(path.join(home, '.kube', 'config'));
}

/** The pod's service account: its CA, its (rotating) token, the API server of its cluster. */
export async function loadInCluster(
  env: NodeJS.ProcessEnv = process.env,
  dir = SERVICE_ACCOUNT_DIR,
): Promise<Connection> {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error(
      'in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT',
    );
  const server = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const ca = await readFileOrThrow(path.join(dir, 'ca.crt'), 'the service account CA');
  const token = new TokenFile(path.join(dir, 'token'));
  await token.read(); // fail now, not on the first request
  return new KubeConnection({
    server,
    source: 'in-cluster',
    tls: { ca, rejectUnauthorized: true },
    credentials: token,
  });
}
