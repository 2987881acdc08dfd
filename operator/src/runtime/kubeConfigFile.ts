// A kubeconfig file's current context, as a connection: its cluster (server,
// certificate-authority[-data], insecure-skip-tls-verify, tls-server-name) and user
// (client-certificate[-data], client-key[-data], token, tokenFile, username/password, and exec
// credential plugins). Relative file paths resolve against the kubeconfig's folder, as kubectl
// resolves them. What an operator's kubeconfig does not need is refused by name, not ignored.
import path from 'node:path';
import { parse } from 'yaml';

import { KubeConnection, type Connection, type Tls } from './kubeConnection.js';
import {
  ExecPlugin,
  TokenFile,
  readFileOrThrow,
  type Credentials,
  type ExecConfig,
} from './kubeCredentials.js';

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  [field: string]: unknown;
}

interface KubeconfigUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: ExecConfig;
  [field: string]: unknown;
}

/** Fields of a kubeconfig we refuse rather than ignore: ignoring them would connect as someone else, or not at all. */
const UNSUPPORTED_USER_FIELDS = ['auth-provider', 'as', 'as-uid', 'as-groups', 'as-user-extra'];
const UNSUPPORTED_CLUSTER_FIELDS = ['proxy-url'];

/** Where a kubeconfig is, for reading the files it names: messages say `where`. */
interface KubeconfigPlace {
  where: string;
  /** Its folder, which relative paths are relative to. */
  base: string;
  resolve(p: string): string;
}

/** A kubeconfig file's current context (or the context named), as a connection. */
export async function loadKubeConfigFile(
  file: string,
  options: { context?: string } = {},
): Promise<Connection> {
  const config = await readKubeconfig(file);
  const base = path.dirname(path.resolve(file));
  const place: KubeconfigPlace = {
    where: `kubeconfig ${file}`,
    base,
    resolve: (p: string): string => (path.isAbsolute(p) ? p : path.join(base, p)),
  };
  const { context, cluster, user } = currentContext(config, place.where, options.context);
  const clusterWhere = `${place.where}: cluster "${context.cluster}"`;
  const { server, tls } = await clusterTls(cluster, clusterWhere, place);
  const userWhere = `${place.where}: user "${context.user ?? ''}"`;
  for (const f of UNSUPPORTED_USER_FIELDS)
    if (user[f] !== undefined)
      throw new Error(
        `${userWhere}: ${f} is not supported${f === 'auth-provider' ? ' (use an exec credential plugin)' : ''}`,
      );
  const { cert, key } = await clientCertificate(user, userWhere, place);
  const credentials = await userCredentials(user, userWhere, place, cluster, tls);
  return new KubeConnection({
    server,
    source: file,
    tls: { ...tls, cert, key },
    credentials,
  });
}

/** The namespace the context (the current one, or the one named) sets, if any: kubectl's default -n. */
export async function kubeConfigNamespace(
  file: string,
  context?: string,
): Promise<string | undefined> {
  const found = currentContext(await readKubeconfig(file), `kubeconfig ${file}`, context);
  return found.context.namespace || undefined;
}

/** The file as a map, or an error saying it is not YAML, or empty. */
async function readKubeconfig(file: string): Promise<Record<string, unknown>> {
  const text = await readFileOrThrow(file, 'the kubeconfig').then((b) => b.toString('utf8'));
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new Error(`kubeconfig ${file}: not YAML: ${(error as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`kubeconfig ${file}: empty or not a map`);
  return doc as Record<string, unknown>;
}

/** The current context, its cluster and its user (none: anonymous). */
function currentContext(
  config: Record<string, unknown>,
  where: string,
  named?: string,
): {
  context: { cluster?: string; user?: string; namespace?: string };
  cluster: KubeconfigCluster;
  user: KubeconfigUser;
} {
  const contextName = named ?? config['current-context'];
  if (typeof contextName !== 'string' || contextName === '')
    throw new Error(`${where}: no current-context`);
  const context = entry<{ cluster?: string; user?: string; namespace?: string }>(
    config.contexts,
    'context',
    contextName,
    where,
  );
  if (!context.cluster) throw new Error(`${where}: context "${contextName}" names no cluster`);
  const cluster = entry<KubeconfigCluster>(config.clusters, 'cluster', context.cluster, where);
  // A context without a user is anonymous.
  const user: KubeconfigUser = context.user
    ? entry<KubeconfigUser>(config.users, 'user', context.user, where)
    : {};
  return { context, cluster, user };
}

/** The cluster's server and how to trust it. */
async function clusterTls(
  cluster: KubeconfigCluster,
  clusterWhere: string,
  place: KubeconfigPlace,
): Promise<{ server: URL; tls: Tls }> {
  for (const f of UNSUPPORTED_CLUSTER_FIELDS)
    if (cluster[f] !== undefined) throw new Error(`${clusterWhere}: ${f} is not supported`);
  if (!cluster.server) throw new Error(`${clusterWhere}: no server`);
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new Error(`${clusterWhere}: server is not a URL: ${cluster.server}`);
  }
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  let ca: Buffer | undefined;
  if (cluster['certificate-authority-data'])
    ca = Buffer.from(cluster['certificate-authority-data'], 'base64');
  else if (cluster['certificate-authority'])
    ca = await readFileOrThrow(
      place.resolve(cluster['certificate-authority']),
      `${clusterWhere}: certificate-authority`,
    );
  return {
    server,
    tls: { ca, rejectUnauthorized: !insecure, servername: cluster['tls-server-name'] || undefined },
  };
}

/** The user's client certificate and key, inline or from files: both, or neither. */
async function clientCertificate(
  user: KubeconfigUser,
  userWhere: string,
  place: KubeconfigPlace,
): Promise<{ cert?: Buffer; key?: Buffer }> {
  const cert = user['client-certificate-data']
    ? Buffer.from(user['client-certificate-data'], 'base64')
    : user['client-certificate']
      ? await readFileOrThrow(
          place.resolve(user['client-certificate']),
          `${userWhere}: client-certificate`,
        )
      : undefined;
  const key = user['client-key-data']
    ? Buffer.from(user['client-key-data'], 'base64')
    : user['client-key']
      ? await readFileOrThrow(place.resolve(user['client-key']), `${userWhere}: client-key`)
      : undefined;
  if ((cert === undefined) !== (key === undefined))
    throw new Error(`${userWhere}: a client certificate needs its key, and a key its certificate`);
  return { cert, key };
}

/** How the user authenticates besides a certificate: an exec plugin, a token, basic auth. */
async function userCredentials(
  user: KubeconfigUser,
  userWhere: string,
  place: KubeconfigPlace,
  cluster: KubeconfigCluster,
  tls: Tls,
): Promise<Credentials | undefined> {
  if (user.exec) {
    const command = user.exec.command;
    // As kubectl: a relative command with a path separator is relative to the kubeconfig.
    const resolved =
      command && !path.isAbsolute(command) && command.includes(path.sep)
        ? path.join(place.base, command)
        : command;
    return new ExecPlugin({ ...user.exec, command: resolved }, userWhere, {
      server: cluster.server,
      'tls-server-name': cluster['tls-server-name'],
      'insecure-skip-tls-verify': !tls.rejectUnauthorized || undefined,
      'certificate-authority-data': tls.ca?.toString('base64'),
    });
  }
  if (user.token) return { get: () => Promise.resolve({ token: user.token }) };
  if (user.tokenFile) {
    const tokenFile = new TokenFile(place.resolve(user.tokenFile));
    await tokenFile.read();
    return tokenFile;
  }
  if (user.username !== undefined || user.password !== undefined) {
    const basic = Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64');
    return { get: () => Promise.resolve({ basic }) };
  }
  return undefined;
}

/** The `field` of the entry named `name` in a kubeconfig list (contexts, clusters, users). */
function entry<T>(list: unknown, field: string, name: string, where: string): T {
  const found = Array.isArray(list)
    ? (list as (Record<string, unknown> | null)[]).find(
        (e) => e && typeof e === 'object' && e.name === name,
      )
    : undefined;
  if (!found) throw new Error(`${where}: no ${field} named "${name}"`);
  const value = found[field];
  return (value && typeof value === 'object' ? value : {}) as T;
}
