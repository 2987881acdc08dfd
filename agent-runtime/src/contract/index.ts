// The agent pod's published contract: what an agent is started with. The operator imports
// this (and nothing else of the agent runtime) to build agent pods.

/** Environment variables an agent reads. Secrets reach it only through these, never in its config file. */
export const agentEnv = {
  /** Path of the configuration: an AnalysisAgent manifest (YAML or JSON). */
  config: 'EDGEWARDEN_CONFIG',
  /** Folder for the SQLite store (a volume: emptyDir or a claim). */
  dataDir: 'EDGEWARDEN_DATA_DIR',
  /** Folder of the model (model.onnx, manifest.json); absent or empty: rules only. */
  modelDir: 'EDGEWARDEN_MODEL_DIR',
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
} as const;

export const agentDefaults = {
  config: '/etc/edgewarden/agent/agent.yaml',
  dataDir: '/var/lib/edgewarden',
  modelDir: '/etc/edgewarden/model',
  port: 8080,
} as const;

/** HTTP paths the agent serves, for probes and scraping. */
export const agentPaths = {
  health: '/healthz',
  ready: '/readyz',
  metrics: '/metrics',
  status: '/status',
  anomalies: '/anomalies',
} as const;
