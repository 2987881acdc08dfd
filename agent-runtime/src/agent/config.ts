// The agent's configuration, read and checked once at start: the AnalysisAgent manifest from
// its file (validated with the CRD's own schema), the connection and paths from the
// environment. A bad value stops the agent with a message naming the key.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

import type { AnalysisAgentSpec } from '../../../api/src/generated/types.js';
import { ResourceValidator } from '../../../api/src/validate.js';
import { parseDuration } from '../analyze/duration.js';
import { agentDefaults, agentEnv } from '../contract/index.js';
import type { PostgresConnection, SslMode } from '../source/postgresSource.js';

export class ConfigError extends Error {
  readonly code = 'EW_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface AgentConfig {
  name: string;
  spec: AnalysisAgentSpec;
  intervalMs: number;
  connection: PostgresConnection;
  dataDir: string;
  modelDir: string;
  port: number;
  pod: string;
  redisUrl?: string;
  notifications: {
    slackUrl?: string;
    webhookUrl?: string;
    email?: { smtpUrl: string; from: string; to: string[] };
  };
}

type Env = Readonly<Record<string, string | undefined>>;

function connectionFrom(env: Env, sslMode: SslMode, ca: string | undefined): PostgresConnection {
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
  const port = Number(env.PGPORT ?? '5432');
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new ConfigError(`PGPORT: not a port: ${env.PGPORT}`);
  return {
    host: env.PGHOST!,
    port,
    database: env.PGDATABASE!,
    user: env.PGUSER!,
    password: env.PGPASSWORD,
    sslMode,
    ca,
  };
}

export async function loadConfig(env: Env = process.env): Promise<AgentConfig> {
  const file = env[agentEnv.config] ?? agentDefaults.config;
  let document: unknown;
  try {
    document = parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${agentEnv.config}: cannot read ${file}: ${(error as Error).message}`);
  }
  const validator = new ResourceValidator();
  const issues = validator.check(document);
  if (issues.length > 0)
    throw new ConfigError(`${file}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  const resource = document as {
    kind: string;
    metadata?: { name?: string };
    spec: AnalysisAgentSpec;
  };
  if (resource.kind !== 'AnalysisAgent')
    throw new ConfigError(`${file}: kind: must be AnalysisAgent, not ${resource.kind}`);
  const spec = resource.spec;
  const intervalMs = parseDuration(spec.interval ?? '5m')!;

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
  const connection = connectionFrom(env, spec.source.sslMode ?? 'verify-full', ca);
  const portText = env[agentEnv.port];
  const port = portText === undefined ? agentDefaults.port : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`${agentEnv.port}: not a port: ${portText}`);
  const redisUrl = env[agentEnv.redisUrl] || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    throw new ConfigError(`${agentEnv.redisUrl}: must start with redis:// or rediss://`);
  // Each channel the spec asks for needs its secret-held URL; one given without the spec is ignored.
  const wanted = spec.notifications ?? {};
  const secretUrl = (key: string, scheme: RegExp, example: string): string => {
    const value = env[key];
    if (!value)
      throw new ConfigError(`${key}: not set, but the spec asks for this notification channel`);
    if (!scheme.test(value)) throw new ConfigError(`${key}: must be a URL like ${example}`);
    return value;
  };
  const notifications: AgentConfig['notifications'] = {
    slackUrl: wanted.slack
      ? secretUrl(agentEnv.slackUrl, /^https?:\/\//, 'https://hooks.slack.com/services/...')
      : undefined,
    webhookUrl: wanted.webhook
      ? secretUrl(agentEnv.webhookUrl, /^https?:\/\//, 'https://alerts.example.net/hook')
      : undefined,
    email: wanted.email
      ? {
          smtpUrl: secretUrl(
            agentEnv.smtpUrl,
            /^smtps?:\/\//,
            'smtp://user:password@mail.example.net:587',
          ),
          from: wanted.email.from,
          to: wanted.email.to,
        }
      : undefined,
  };
  return {
    notifications,
    name: resource.metadata?.name ?? spec.agent,
    spec,
    intervalMs,
    connection,
    dataDir: env[agentEnv.dataDir] ?? agentDefaults.dataDir,
    modelDir: env[agentEnv.modelDir] ?? agentDefaults.modelDir,
    port,
    pod: env[agentEnv.pod] ?? 'local',
    redisUrl,
  };
}
