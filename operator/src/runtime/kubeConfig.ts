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
// In a kubeconfig: current-context, its cluster (server, certificate-authority[-data],
// insecure-skip-tls-verify, tls-server-name) and user (client-certificate[-data],
// client-key[-data], token, tokenFile, username/password, and exec credential plugins of
// client.authentication.k8s.io/v1 and v1beta1). Relative file paths resolve against the
// kubeconfig's folder. Nothing here logs or puts into an error message a token or a key.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

/** TLS material and headers for one request. */
export interface ConnectionOptions {
  /** The keep-alive agent every request and watch goes through; it carries the TLS material. */
  agent: http.Agent;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  /** Authorization, when the user authenticates by token or password. */
  headers: Record<string, string>;
}

/** A way to the API server. */
export interface Connection {
  readonly server: URL;
  /** Where it came from, for messages: a file name or "in-cluster". */
  readonly source: string;
  /**
   * The agent, TLS material and auth headers of the next request (credentials refreshed as
   * needed); `watch` for a long-running watch, which gets an uncapped agent of its own.
   */
  requestOptions(kind?: { watch?: boolean }): Promise<ConnectionOptions>;
  /** The server said 401: cached credentials (exec plugin, token file) are fetched again next time. */
  invalidateCredentials(): void;
  /** The current agent (replaced when an exec plugin hands out a new client certificate). */
  readonly agent: http.Agent;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** How long a token read from a file is used before the file is read again. */
const TOKEN_FILE_TTL_MS = 60_000;
/** An exec credential is fetched again this long before it expires. */
const EXEC_EXPIRY_MARGIN_MS = 10_000;
const EXEC_TIMEOUT_MS = 60_000;
/**
 * Sockets for requests; beyond that they queue. Watches do not count: each holds its socket
 * for minutes, one per kind and namespace watched (ten kinds, times the namespaces given to
 * --namespace), so they have an agent of their own without a limit; sharing a capped pool,
 * enough watches would leave no socket for the requests and the operator would stall.
 */
const MAX_SOCKETS = 16;
/** Idle keep-alive sockets close well before the API server's own idle timeout (90 s). */
const IDLE_SOCKET_MS = 30_000;

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

// ---- kubeconfig files ----

interface KubeconfigCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  [field: string]: unknown;
}

interface ExecConfig {
  apiVersion?: string;
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[] | null;
  provideClusterInfo?: boolean;
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
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

/** A kubeconfig file's current context, as a connection. */
export async function loadKubeConfigFile(file: string): Promise<Connection> {
  const text = await readFileOrThrow(file, 'the kubeconfig').then((b) => b.toString('utf8'));
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    throw new Error(`kubeconfig ${file}: not YAML: ${(error as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new Error(`kubeconfig ${file}: empty or not a map`);
  const config = doc as Record<string, unknown>;
  const where = `kubeconfig ${file}`;
  const base = path.dirname(path.resolve(file));
  const resolve = (p: string): string => (path.isAbsolute(p) ? p : path.join(base, p));

  const contextName = config['current-context'];
  if (typeof contextName !== 'string' || contextName === '')
    throw new Error(`${where}: no current-context`);
  const context = entry<{ cluster?: string; user?: string }>(
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

  const clusterWhere = `${where}: cluster "${context.cluster}"`;
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
      resolve(cluster['certificate-authority']),
      `${clusterWhere}: certificate-authority`,
    );
  const tls: Tls = {
    ca,
    rejectUnauthorized: !insecure,
    servername: cluster['tls-server-name'] || undefined,
  };

  const userWhere = `${where}: user "${context.user ?? ''}"`;
  for (const f of UNSUPPORTED_USER_FIELDS)
    if (user[f] !== undefined)
      throw new Error(
        `${userWhere}: ${f} is not supported${f === 'auth-provider' ? ' (use an exec credential plugin)' : ''}`,
      );
  const cert = user['client-certificate-data']
    ? Buffer.from(user['client-certificate-data'], 'base64')
    : user['client-certificate']
      ? await readFileOrThrow(
          resolve(user['client-certificate']),
          `${userWhere}: client-certificate`,
        )
      : undefined;
  const key = user['client-key-data']
    ? Buffer.from(user['client-key-data'], 'base64')
    : user['client-key']
      ? await readFileOrThrow(resolve(user['client-key']), `${userWhere}: client-key`)
      : undefined;
  if ((cert === undefined) !== (key === undefined))
    throw new Error(`${userWhere}: a client certificate needs its key, and a key its certificate`);

  let credentials: Credentials | undefined;
  if (user.exec) {
    const command = user.exec.command;
    // As kubectl: a relative command with a path separator is relative to the kubeconfig.
    const resolved =
      command && !path.isAbsolute(command) && command.includes(path.sep)
        ? path.join(base, command)
        : command;
    credentials = new ExecPlugin({ ...user.exec, command: resolved }, userWhere, {
      server: cluster.server,
      'tls-server-name': cluster['tls-server-name'],
      'insecure-skip-tls-verify': insecure || undefined,
      'certificate-authority-data': ca?.toString('base64'),
    });
  } else if (user.token) credentials = { get: () => Promise.resolve({ token: user.token }) };
  else if (user.tokenFile) {
    const tokenFile = new TokenFile(resolve(user.tokenFile));
    await tokenFile.read();
    credentials = tokenFile;
  } else if (user.username !== undefined || user.password !== undefined) {
    const basic = Buffer.from(`${user.username ?? ''}:${user.password ?? ''}`).toString('base64');
    credentials = { get: () => Promise.resolve({ basic }) };
  }
  return new KubeConnection({
    server,
    source: file,
    tls: { ...tls, cert, key },
    credentials,
  });
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

async function readFileOrThrow(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `${what}: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(error))}`,
    );
  }
}

// ---- credentials ----

/** What authenticates a request: a bearer token, basic auth, a client certificate. */
interface Credential {
  token?: string;
  basic?: string;
  cert?: Buffer;
  key?: Buffer;
}

interface Credentials {
  get(): Promise<Credential>;
  invalidate?(): void;
}

/** A token in a file that its owner rotates: read again once it is a minute old. */
class TokenFile implements Credentials {
  private token: string | undefined;
  private readAt = 0;

  constructor(private readonly file: string) {}

  async read(): Promise<string> {
    const token = (await readFileOrThrow(this.file, 'the token file')).toString('utf8').trim();
    if (!token) throw new Error(`the token file ${this.file} is empty`);
    this.token = token;
    this.readAt = Date.now();
    return token;
  }

  async get(): Promise<Credential> {
    if (this.token !== undefined && Date.now() - this.readAt < TOKEN_FILE_TTL_MS)
      return { token: this.token };
    try {
      return { token: await this.read() };
    } catch (error) {
      // Rotation replaces the file atomically, but keep the last token over a passing fault.
      if (this.token !== undefined) return { token: this.token };
      throw error;
    }
  }

  invalidate(): void {
    this.readAt = 0;
  }
}

const EXEC_API_VERSIONS = [
  'client.authentication.k8s.io/v1',
  'client.authentication.k8s.io/v1beta1',
];

interface ExecCredentialStatus {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  expirationTimestamp?: string;
}

/** An exec credential plugin: run it, use what it prints until it expires. */
class ExecPlugin implements Credentials {
  private cached: { credential: Credential; expires: number } | undefined;
  private pending: Promise<Credential> | undefined;

  constructor(
    private readonly exec: ExecConfig,
    private readonly where: string,
    private readonly cluster: Record<string, unknown>,
  ) {
    if (!exec.command) throw new Error(`${where}: exec has no command`);
    if (!exec.apiVersion || !EXEC_API_VERSIONS.includes(exec.apiVersion))
      throw new Error(
        `${where}: exec apiVersion ${exec.apiVersion ?? '(none)'} is not supported (${EXEC_API_VERSIONS.join(', ')})`,
      );
    if (exec.interactiveMode === 'Always')
      throw new Error(
        `${where}: exec interactiveMode Always needs a terminal, which we never have`,
      );
  }

  get(): Promise<Credential> {
    if (this.cached && Date.now() < this.cached.expires)
      return Promise.resolve(this.cached.credential);
    this.pending ??= this.run().finally(() => (this.pending = undefined));
    return this.pending;
  }

  invalidate(): void {
    this.cached = undefined;
  }

  private async run(): Promise<Credential> {
    const exec = this.exec;
    const command = exec.command!;
    const info = {
      apiVersion: exec.apiVersion,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        ...(exec.provideClusterInfo ? { cluster: stripUndefined(this.cluster) } : {}),
      },
    };
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
    for (const { name, value } of exec.env ?? []) env[name] = value;
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        command,
        exec.args ?? [],
        { env, timeout: EXEC_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' },
        (error, out, err) => {
          if (error) {
            const detail = err.trim().split('\n').slice(-3).join(' | ').slice(0, 300);
            reject(
              new Error(
                `${this.where}: exec plugin ${command} failed: ${error.message.split('\n')[0]}${detail ? `: ${detail}` : ''}`,
              ),
            );
          } else resolve(out);
        },
      );
    });
    let response: { apiVersion?: string; kind?: string; status?: ExecCredentialStatus };
    try {
      response = JSON.parse(stdout) as typeof response;
    } catch {
      throw new Error(`${this.where}: exec plugin ${command} printed no JSON ExecCredential`);
    }
    if (response.kind !== 'ExecCredential' || response.apiVersion !== exec.apiVersion)
      throw new Error(
        `${this.where}: exec plugin ${command} printed ${response.kind ?? 'no kind'} ${response.apiVersion ?? ''}, not an ExecCredential of ${exec.apiVersion}`,
      );
    const status = response.status ?? {};
    const credential: Credential = {};
    if (status.token) credential.token = status.token;
    if (status.clientCertificateData || status.clientKeyData) {
      if (!status.clientCertificateData || !status.clientKeyData)
        throw new Error(
          `${this.where}: exec plugin ${command} printed a client certificate without its key, or a key without its certificate`,
        );
      credential.cert = Buffer.from(status.clientCertificateData);
      credential.key = Buffer.from(status.clientKeyData);
    }
    if (!credential.token && !credential.cert)
      throw new Error(
        `${this.where}: exec plugin ${command} printed neither a token nor a client certificate`,
      );
    let expires = Number.POSITIVE_INFINITY;
    if (status.expirationTimestamp) {
      const at = Date.parse(status.expirationTimestamp);
      if (Number.isNaN(at))
        throw new Error(
          `${this.where}: exec plugin ${command} printed an expirationTimestamp that is not a time: ${status.expirationTimestamp}`,
        );
      expires = at - EXEC_EXPIRY_MARGIN_MS;
    }
    this.cached = { credential, expires };
    return credential;
  }
}

const sameBuffer = (a: Buffer | undefined, b: Buffer | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.equals(b));

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

// ---- the connection ----

interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

class KubeConnection implements Connection {
  readonly server: URL;
  readonly source: string;
  private readonly tls: Tls;
  private readonly credentials: Credentials | undefined;
  private current: { agent: http.Agent; watchAgent: http.Agent; cert?: Buffer; key?: Buffer };

  constructor(options: {
    server: URL;
    source: string;
    tls: Tls;
    credentials: Credentials | undefined;
  }) {
    this.server = options.server;
    this.source = options.source;
    this.tls = options.tls;
    this.credentials = options.credentials;
    this.current = this.makeAgent(this.tls.cert, this.tls.key);
  }

  get agent(): http.Agent {
    return this.current.agent;
  }

  private makeAgent(
    cert: Buffer | undefined,
    key: Buffer | undefined,
  ): { agent: http.Agent; watchAgent: http.Agent; cert?: Buffer; key?: Buffer } {
    const make = (options: http.AgentOptions): http.Agent =>
      this.server.protocol === 'https:'
        ? new https.Agent({
            ...options,
            ca: this.tls.ca,
            cert,
            key,
            rejectUnauthorized: this.tls.rejectUnauthorized,
            servername: this.tls.servername,
          })
        : new http.Agent(options);
    return {
      agent: make({ keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS }),
      watchAgent: make({ keepAlive: false }),
      cert,
      key,
    };
  }

  /** Options for one request; `watch` for a long-running one (its own socket, uncapped). */
  async requestOptions(kind: { watch?: boolean } = {}): Promise<ConnectionOptions> {
    const credential = (await this.credentials?.get()) ?? {};
    const cert = credential.cert ?? this.tls.cert;
    const key = credential.key ?? this.tls.key;
    if (!sameBuffer(cert, this.current.cert) || !sameBuffer(key, this.current.key)) {
      // New client certificate from the exec plugin: requests from now on go through a new
      // agent; the old one's sockets finish what they carry and close when idle.
      this.current = this.makeAgent(cert, key);
    }
    const headers: Record<string, string> = {};
    if (credential.token) headers.Authorization = `Bearer ${credential.token}`;
    else if (credential.basic) headers.Authorization = `Basic ${credential.basic}`;
    return {
      agent: kind.watch ? this.current.watchAgent : this.current.agent,
      ...(this.tls.ca ? { ca: this.tls.ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: this.tls.rejectUnauthorized,
      ...(this.tls.servername ? { servername: this.tls.servername } : {}),
      headers,
    };
  }

  invalidateCredentials(): void {
    this.credentials?.invalidate?.();
  }
}
