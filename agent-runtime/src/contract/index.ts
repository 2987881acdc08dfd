// The agent pod's published contract: what an agent is started with. The operator imports
// this (and nothing else of the agent runtime) to build agent pods.
import { createHash } from 'node:crypto';

export * from './status.js';

/** Environment variables an agent reads. Secrets reach it only through these, never in its config file. */
export const agentEnv = {
  /** Path of the configuration: an AnalysisAgent manifest (YAML or JSON). */
  config: 'EDGEWARDEN_CONFIG',
  /** Folder for the SQLite store (a volume: emptyDir or a claim). */
  dataDir: 'EDGEWARDEN_DATA_DIR',
  /** Folder of the model (model.onnx, manifest.json); absent or empty: rules only. */
  modelDir: 'EDGEWARDEN_MODEL_DIR',
  /** Folder where a persistentVolumeClaim model source is mounted (read-only). */
  modelSourceDir: 'EDGEWARDEN_MODEL_SOURCE_DIR',
  /** Folder of rule packs of the user's own: one folder per ConfigMap, *.yaml inside. */
  rulesDir: 'EDGEWARDEN_RULES_DIR',
  /** Port of the HTTP endpoints. */
  port: 'EDGEWARDEN_HTTP_PORT',
  /** The pod's name (downward API), for Redis status keys and metrics. */
  pod: 'POD_NAME',
  /** PostgreSQL URL (postgresql://user:password@host:5432/db), or libpq's PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD. */
  pgUrl: 'EDGEWARDEN_PG_URL',
  /** PEM file of the CA for sslMode verify-ca / verify-full. */
  pgCaFile: 'EDGEWARDEN_PG_CA_FILE',
  /** Redis URL, credentials included; unset: no Redis. */
  redisUrl: 'EDGEWARDEN_REDIS_URL',
  /** Slack incoming-webhook URL, when spec.notifications.slack is set. */
  slackUrl: 'EDGEWARDEN_SLACK_URL',
  /** Generic webhook URL, when spec.notifications.webhook is set. */
  webhookUrl: 'EDGEWARDEN_WEBHOOK_URL',
  /** SMTP server as a URL (smtp://user:password@host:587, smtps://... for TLS), when spec.notifications.email is set. */
  smtpUrl: 'EDGEWARDEN_SMTP_URL',
  /** Or its parts, as the AnalysisAgent's SMTP Secret holds them (keys host, port, username, password, tls). */
  smtpHost: 'EDGEWARDEN_SMTP_HOST',
  smtpPort: 'EDGEWARDEN_SMTP_PORT',
  smtpUsername: 'EDGEWARDEN_SMTP_USERNAME',
  smtpPassword: 'EDGEWARDEN_SMTP_PASSWORD',
  /** "true": TLS from the start (smtps); otherwise STARTTLS when the server offers it. */
  smtpTls: 'EDGEWARDEN_SMTP_TLS',
  /** This pod's share of the devices when replicas > 1: its index (0-based) and the count. */
  shardIndex: 'EDGEWARDEN_SHARD_INDEX',
  shardCount: 'EDGEWARDEN_SHARD_COUNT',
  /**
   * Hex SHA-256 of the bearer token the operator presents to PUT and DELETE /model. Only the
   * digest is in the pod spec; the token is derived by the operator. Unset: model delivery off.
   */
  controlTokenSha256: 'EDGEWARDEN_CONTROL_TOKEN_SHA256',
  /**
   * Ranges (comma-separated CIDRs) a model URL may resolve to besides public addresses: the
   * operator's --model-url-allow, for model servers on the LAN. Unset: public addresses only.
   */
  modelUrlAllow: 'EDGEWARDEN_MODEL_URL_ALLOW',
  /**
   * Hex SHA-256 of the read token: GET /status and GET /anomalies (export pods, users). The
   * control token opens those too. With neither digest set those routes refuse every request.
   */
  readTokenSha256: 'EDGEWARDEN_READ_TOKEN_SHA256',
  /**
   * Hex SHA-256 of the triage token: POST /anomalies/:id/status (kubectl edgewarden ack, resolve,
   * false-positive), and the read routes. The control token opens it too.
   */
  triageTokenSha256: 'EDGEWARDEN_TRIAGE_TOKEN_SHA256',
  /**
   * Alertmanager's base URL (http://alertmanager.monitoring:9093), from spec.notifications.alertmanager
   * or the operator's --alertmanager-url; unset: no Alertmanager. The URL may carry credentials.
   */
  alertmanagerUrl: 'EDGEWARDEN_ALERTMANAGER_URL',
  /** "none": /status, /anomalies and /metrics need no token (a hand-run agent); default "token". */
  apiAuth: 'EDGEWARDEN_API_AUTH',
  /** "token": /metrics needs the read or the control token too; default "open". */
  metricsAuth: 'EDGEWARDEN_METRICS_AUTH',
} as const;

/** The header a token may travel in besides Authorization (the API server's proxy strips that one). */
export const agentTokenHeader = 'X-Edgewarden-Token';

export const agentDefaults = {
  config: '/etc/edgewarden/agent/agent.yaml',
  dataDir: '/var/lib/edgewarden',
  modelDir: '/etc/edgewarden/model',
  /** Where a ModelDeployment's persistentVolumeClaim source is mounted, read-only. */
  modelSourceDir: '/etc/edgewarden/model-source',
  /** Where the ConfigMaps of spec.rules.configMaps are mounted, each in a folder of its name. */
  rulesDir: '/etc/edgewarden/rules',
  port: 8080,
} as const;

/** HTTP paths the agent serves, for probes and scraping. */
export const agentPaths = {
  health: '/healthz',
  ready: '/readyz',
  metrics: '/metrics',
  status: '/status',
  anomalies: '/anomalies',
  /** PUT: install (or with dryRun, only validate) a model; DELETE: serve none. Control token. */
  model: '/model',
} as const;

/** Largest model an agent accepts, in bytes (the model volume keeps three versions at most). */
export const MAX_MODEL_BYTES = 32 * 1024 * 1024;

/** Largest manifest.json an agent accepts with an offered model, in bytes. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/** Where an offer's bytes are: base64 in the body, a URL to download, or a file under modelSourceDir. */
export type ModelOfferSource = { inline: string } | { url: string } | { file: string };

/** The body of PUT /model: a model version and where its bytes are. */
export interface ModelOfferRequest {
  version: string;
  agent: string;
  features: string[];
  threshold?: number;
  /** Hex SHA-256 the bytes must have; required with `url`, else checked when given. */
  sha256?: string;
  /** Exactly one: the bytes in base64, a URL to download, or a file under modelSourceDir. */
  source: ModelOfferSource;
  /**
   * The model's manifest.json (as `edgewarden train` or train_sklearn.py wrote it), from the
   * same kinds of place: the agent serves the model with its output mapping and training
   * summary, as from a model folder. Its agent, features and sha256 must match the offer's.
   */
  manifest?: ModelOfferSource;
  /** Hex SHA-256 the manifest's bytes must have (the ModelDeployment's manifestSha256). */
  manifestSha256?: string;
  /** Validate only (checksum, load, features, golden sample); change nothing that serves. */
  dryRun?: boolean;
}

/** PUT /model's answer when the model was accepted. */
export interface ModelOfferResult {
  version: string;
  sha256: string;
  dryRun: boolean;
  /** The golden sample: the agent's recent windows (and an all-zero row) scored by the model. */
  golden: { rows: number; flagged: number };
}

/** PUT /model's answer when refused (HTTP 422, 401, 403 or 400). */
export interface ModelOfferRefusal {
  reason: string;
  message: string;
}

/** How many rows before its start position an agent counts, at most (a bound on the query). */
export const SKIPPED_ROWS_COUNTED = 100_000;

/** The hex SHA-256 of a control or read token: what the pod's environment holds instead of it. */
export function controlTokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
