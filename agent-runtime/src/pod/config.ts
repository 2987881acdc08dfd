// The agent's configuration, read and checked once at start: the AnalysisAgent manifest from
// its file (validated with the CRD's own schema), the connection and paths from the
// environment. A bad value stops the agent with a message naming the key.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

import type { AnalysisAgentSpec } from '../../../api/src/generated/types.js';
import { parsePort, PortError } from '../../../api/src/port.js';
import { ResourceValidator } from '../../../api/src/validate.js';
import { agentDefaults, agentEnv } from '../contract/index.js';
import { withSecretFiles } from '../files/secretFiles.js';
import { addressPolicy, type AddressPolicy } from '../model/addressPolicy.js';
import type { ApiAccess } from '../http/tokens.js';
import type { PostgresConnection, SslMode } from '../source/postgresSource.js';
import { specSettings, type SpecSettings } from './settings.js';

export class ConfigError extends Error {
  readonly code = 'EW_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface AgentConfig {
  name: string;
  /** The AnalysisAgent's namespace (from its manifest); empty for an agent run by hand. */
  namespace: string;
  /** The configuration file, re-read before each cycle for spec.rules. */
  configFile: string;
  /** Folder of the user's rule packs (spec.rules.configMaps, mounted). */
  rulesDir: string;
  spec: AnalysisAgentSpec;
  /** What the agent takes from the spec, its defaults filled from the CRD's schema. */
  settings: SpecSettings;
  connection: PostgresConnection;
  dataDir: string;
  modelDir: string;
  /** Where a persistentVolumeClaim model source is mounted. */
  modelSourceDir: string;
  /** The addresses a model URL may reach: public ones and the allowlist (issue 20, M1). */
  modelAddresses: AddressPolicy;
  /** Hex SHA-256 of the operator's control token; unset: PUT /model is refused. */
  controlTokenSha256?: string;
  /** Who may use the HTTP API: the token digests, the opt-out, /metrics (issue 20, H2). */
  access: ApiAccess;
  port: number;
  pod: string;
  redisUrl?: string;
  /** This pod's share of the devices (several replicas). */
  shard?: { index: number; count: number };
  notifications: {
    slackUrl?: string;
    webhookUrl?: string;
    email?: { smtpUrl: string; from: string; to: string[] };
  };
  /** Alertmanager's URL (credentials may be in it); unset: no Alertmanager. */
  alertmanagerUrl?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The port `text` names (api/src/port.ts), or a ConfigError naming `option`. */
function portOf(text: string, option: string, allowZero = false): number {
  const port = parsePort(text, { option, allowZero });
  if (port instanceof PortError) throw new ConfigError(port.message);
  return port;
}

/** The PostgreSQL connection from EDGEWARDEN_PG_URL or libpq's PG* variables. */
export function connectionFrom(
  env: Env,
  sslMode: SslMode,
  ca: string | undefined,
): PostgresConnection {
  const url = env[agentEnv.pgUrl];
  if (url) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        `${agentEnv.pgUrl}: not a URL (postgresql://user:password@host:5432/database)`,
      );
    }
    if (!/^postgres(ql)?:$/.test(parsed.protocol))
      throw new ConfigError(`${agentEnv.pgUrl}: must start with postgresql://`);
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!parsed.hostname || !database || !parsed.username)
      throw new ConfigError(
        `${agentEnv.pgUrl}: needs a user, a host and a database (postgresql://user:password@host:5432/database)`,
      );
    return {
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : 5432,
      database,
      user: decodeURIComponent(parsed.username),
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
      sslMode,
      ca,
    };
  }
  const missing = ['PGHOST', 'PGDATABASE', 'PGUSER'].filter((k) => !env[k]);
  if (missing.length > 0)
    throw new ConfigError(
      `no database connection: set ${agentEnv.pgUrl}, or ${missing.join(', ')}`,
    );
  return {
    host: env.PGHOST!,
    port: portOf(env.PGPORT ?? '5432', 'PGPORT'),
    database: env.PGDATABASE!,
    user: env.PGUSER!,
    password: env.PGPASSWORD,
    sslMode,
    ca,
  };
}

/**
 * The connection as an agent pod (or an export pod) is given it: the URL or PG* variables,
 * and the CA file EDGEWARDEN_PG_CA_FILE names, read here.
 */
export async function loadConnection(env: Env, sslMode: SslMode): Promise<PostgresConnection> {
  const caFile = env[agentEnv.pgCaFile];
  let ca: string | undefined;
  if (caFile) {
    try {
      ca = await readFile(caFile, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `${agentEnv.pgCaFile}: cannot read ${caFile}: ${(error as Error).message}`,
      );
    }
  }
  return connectionFrom(env, sslMode, ca);
}

/** The AnalysisAgent manifest in `file`: read, checked against the CRD's schema (which also
 * fills in its defaults, as the API server does), and of the right kind. */
async function readManifest(
  file: string,
): Promise<{ name: string; namespace: string; spec: AnalysisAgentSpec }> {
  let document: unknown;
  try {
    document = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${agentEnv.config}: cannot read ${file}: ${(error as Error).message}`);
  }
  const issues = new ResourceValidator().check(document);
  if (issues.length > 0)
    throw new ConfigError(`${file}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  const resource = document as {
    kind: string;
    metadata?: { name?: string; namespace?: string };
    spec: AnalysisAgentSpec;
  };
  if (resource.kind !== 'AnalysisAgent')
    throw new ConfigError(`${file}: kind: must be AnalysisAgent, not ${resource.kind}`);
  return {
    name: resource.metadata?.name ?? resource.spec.agent,
    namespace: resource.metadata?.namespace ?? '',
    spec: resource.spec,
  };
}

/** Each channel the spec asks for needs its secret-held URL; one given without the spec is ignored. */
function notificationsFrom(env: Env, spec: AnalysisAgentSpec): AgentConfig['notifications'] {
  const wanted = spec.notifications ?? {};
  const secretUrl = (key: string, scheme: RegExp, example: string): string => {
    const value = env[key];
    if (!value)
      throw new ConfigError(`${key}: not set, but the spec asks for this notification channel`);
    if (!scheme.test(value)) throw new ConfigError(`${key}: must be a URL like ${example}`);
    return value;
  };
  return {
    slackUrl: wanted.slack
      ? secretUrl(agentEnv.slackUrl, /^https?:\/\//, 'https://hooks.slack.com/services/...')
      : undefined,
    webhookUrl: wanted.webhook
      ? secretUrl(agentEnv.webhookUrl, /^https?:\/\//, 'https://alerts.example.net/hook')
      : undefined,
    email: wanted.email
      ? {
          smtpUrl: env[agentEnv.smtpHost]
            ? smtpUrlFromParts(env)
            : secretUrl(
                agentEnv.smtpUrl,
                /^smtps?:\/\//,
                'smtp://user:password@mail.example.net:587',
              ),
          from: wanted.email.from,
          to: wanted.email.to,
        }
      : undefined,
  };
}

/** A hex SHA-256 from `key`, or undefined when unset. */
function digestFrom(env: Env, key: string): string | undefined {
  const value = env[key] || undefined;
  if (value !== undefined && !/^[a-f0-9]{64}$/.test(value))
    throw new ConfigError(`${key}: must be 64 lowercase hex digits`);
  return value;
}

/** One of `allowed` from `key`, the first when unset. */
function choiceFrom<T extends string>(env: Env, key: string, allowed: readonly T[]): T {
  const value = (env[key] || allowed[0]) as T;
  if (!allowed.includes(value))
    throw new ConfigError(`${key}: must be one of ${allowed.join(', ')}, not "${value}"`);
  return value;
}

/**
 * Who may use the HTTP API (issue 20, H2): the token digests the operator gives the pod, the
 * explicit opt-out for an agent run by hand (EDGEWARDEN_API_AUTH=none), and whether /metrics
 * needs a token too. Without a digest and without the opt-out the API refuses every read.
 */
export function accessFrom(env: Env): ApiAccess {
  return {
    controlSha256: digestFrom(env, agentEnv.controlTokenSha256),
    readSha256: digestFrom(env, agentEnv.readTokenSha256),
    triageSha256: digestFrom(env, agentEnv.triageTokenSha256),
    open: choiceFrom(env, agentEnv.apiAuth, ['token', 'none'] as const) === 'none',
    metricsNeedToken: choiceFrom(env, agentEnv.metricsAuth, ['open', 'token'] as const) === 'token',
  };
}

/**
 * The addresses a model URL may reach (issue 20, M1): public ones and the allowlist. The API
 * server's address (KUBERNETES_SERVICE_HOST, in every pod) is refused even in an allowed range.
 */
function modelAddressesFrom(env: Env): AddressPolicy {
  const policy = addressPolicy(env[agentEnv.modelUrlAllow], env.KUBERNETES_SERVICE_HOST);
  if ('invalid' in policy)
    throw new ConfigError(
      `${agentEnv.modelUrlAllow}: not an address or a CIDR range: "${policy.invalid}"`,
    );
  return policy;
}

/** The settings of the environment that are neither the connection nor notifications. */
function serviceSettingsFrom(env: Env) {
  const portText = env[agentEnv.port];
  const redisUrl = env[agentEnv.redisUrl] || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError(`${agentEnv.redisUrl}: must start with redis:// or rediss://`);
  const access = accessFrom(env);
  return {
    port: portText === undefined ? agentDefaults.port : portOf(portText, agentEnv.port, true),
    redisUrl,
    controlTokenSha256: access.controlSha256,
    access,
    shard: shardFrom(env),
    rulesDir: env[agentEnv.rulesDir] ?? agentDefaults.rulesDir,
    modelSourceDir: env[agentEnv.modelSourceDir] ?? agentDefaults.modelSourceDir,
    modelAddresses: modelAddressesFrom(env),
    dataDir: env[agentEnv.dataDir] ?? agentDefaults.dataDir,
    modelDir: env[agentEnv.modelDir] ?? agentDefaults.modelDir,
    pod: env[agentEnv.pod] ?? 'local',
  };
}

export async function loadConfig(given: Env = process.env): Promise<AgentConfig> {
  // Secrets the pod was given as files (`<VARIABLE>_FILE`), read once here (issue 20, Lows).
  const env = await withSecretFiles(given).catch((error: Error) => {
    throw new ConfigError(error.message);
  });
  const file = env[agentEnv.config] ?? agentDefaults.config;
  const { name, namespace, spec } = await readManifest(file);
  const settings = specSettings(spec);
  const connection = await loadConnection(env, settings.sslMode);
  const service = serviceSettingsFrom(env);
  return {
    ...service,
    configFile: file,
    name,
    namespace,
    spec,
    settings,
    connection,
    notifications: notificationsFrom(env, spec),
    alertmanagerUrl: alertmanagerUrlFrom(env, settings),
  };
}

/** The spec's alertmanager.url, else EDGEWARDEN_ALERTMANAGER_URL (--alertmanager-url, urlSecretRef). */
function alertmanagerUrlFrom(env: Env, settings: SpecSettings): string | undefined {
  if (settings.alertmanager.url) return settings.alertmanager.url;
  const value = env[agentEnv.alertmanagerUrl] || undefined;
  if (value !== undefined && !/^https?:\/\/[^/?#]/.test(value))
    throw new ConfigError(
      `${agentEnv.alertmanagerUrl}: must be a URL like http://alertmanager.monitoring:9093`,
    );
  return value;
}

/** The SMTP URL from the Secret's parts (host, port, username, password, tls), each escaped. */
export function smtpUrlFromParts(env: NodeJS.ProcessEnv): string {
  const host = env[agentEnv.smtpHost]!;
  if (!/^[A-Za-z0-9.-]+$/.test(host))
    throw new ConfigError(`${agentEnv.smtpHost}: not a host name: ${host}`);
  const tls = (env[agentEnv.smtpTls] ?? '').toLowerCase();
  if (tls !== '' && tls !== 'true' && tls !== 'false')
    throw new ConfigError(`${agentEnv.smtpTls}: must be true or false`);
  const port = portOf(
    env[agentEnv.smtpPort] || (tls === 'true' ? '465' : '587'),
    agentEnv.smtpPort,
  );
  const user = env[agentEnv.smtpUsername];
  const password = env[agentEnv.smtpPassword];
  const auth = user
    ? `${encodeURIComponent(user)}${password ? `:${encodeURIComponent(password)}` : ''}@`
    : '';
  return `${tls === 'true' ? 'smtps' : 'smtp'}://${auth}${host}:${port}`;
}

/** EDGEWARDEN_SHARD_INDEX of EDGEWARDEN_SHARD_COUNT; absent (or a count of 1): every device. */
function shardFrom(env: Env): { index: number; count: number } | undefined {
  const countText = env[agentEnv.shardCount];
  if (countText === undefined || countText === '') return undefined;
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 1024)
    throw new ConfigError(`${agentEnv.shardCount}: must be an integer 1 to 1024`);
  const indexText = env[agentEnv.shardIndex] ?? '';
  const index = Number(indexText);
  if (indexText === '' || !Number.isInteger(index) || index < 0 || index >= count)
    throw new ConfigError(
      `${agentEnv.shardIndex}: must be an integer 0 to ${count - 1}, not "${indexText}"`,
    );
  return count === 1 ? undefined : { index, count };
}
