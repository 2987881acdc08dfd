// Generated from api/schema/ by scripts/gen-api.ts. Do not edit: edit the source and run npm run generate:api.
import type { ObjectMeta } from '../objectMeta.js';

/**
 * AnalysisAgent enables one of edgewarden's built-in analysis agents. The operator runs it as agent pods that read router logs from PostgreSQL, find what is abnormal, store anomalies in a local SQLite database and report them through status, Prometheus and notifications.
 */
export interface AnalysisAgent {
  /**
   * APIVersion defines the versioned schema of this representation of an object: edgewarden.io/v1alpha1.
   */
  apiVersion: 'edgewarden.io/v1alpha1';
  /**
   * Kind is a string value representing the REST resource this object represents.
   */
  kind: 'AnalysisAgent';
  metadata: ObjectMeta;
  /**
   * What the agent analyses, where it reads from and how it reports.
   */
  spec: AnalysisAgentSpec;
  /**
   * What the operator last observed. Rebuilt from the world on every reconcile.
   */
  status?: AnalysisAgentStatus;
}

/**
 * What the agent analyses, where it reads from and how it reports.
 */
export interface AnalysisAgentSpec {
  /**
   * Built-in analysis agent. wifi: hostapd / wpa_supplicant association churn, wrong passwords, deauthentication floods. dns: dnsmasq DNS and DHCP (pool exhaustion, rogue clients, tunnelling, rebinding). auth: dropbear and LuCI logins (brute force, credential stuffing). firewall: fw4 / nftables drops and rejects (port scans, floods). system: netifd, procd and kernel (WAN flaps, crashes, memory pressure). template: generic log-template frequency model for any program.
   */
  agent: 'wifi' | 'dns' | 'auth' | 'firewall' | 'system' | 'template';
  /**
   * Number of agent pods. Each pod analyses a disjoint share of the devices. 0 stops the agent without deleting it.
   * @default 1
   */
  replicas?: number;
  /**
   * How often an analysis cycle runs, between 10s and 24h. Default "5m".
   * @default "5m"
   */
  interval?: string;
  /**
   * Stop analysing until set back to false. The agent is scaled to zero pods; its stored anomalies and watermark survive only with storage.type persistentVolumeClaim (an emptyDir store is lost).
   * @default false
   */
  paused?: boolean;
  /**
   * The PostgreSQL database the router logs are collected into, read only and incrementally (by a watermark), never re-reading the whole table.
   */
  source: AnalysisAgentSpecSource;
  /**
   * Optional Redis where each agent pod publishes its live status: expiring keys named by keyPrefix, the agent and the pod, ending in status, health, error and last_check. Nothing else is kept there: without it nothing is published, and the analysis is the same. Set exactly one of url or secretRef.
   */
  cache?: AnalysisAgentSpecCache;
  /**
   * The ModelDeployment whose model this agent serves. Optional: without it the agent runs on its rules alone.
   */
  model?: AnalysisAgentSpecModel;
  /**
   * Tuning of the detection rules (docs/rules.md): rules turned off or on, thresholds and windows overridden, what is never reported, and packs of your own from ConfigMaps. Applied by the running agent within a cycle, without a restart and without losing what it has learned; a change that does not compile is refused (the agent's status names the rule and the field) and the rules in force keep running.
   */
  rules?: AnalysisAgentSpecRules;
  /**
   * When a finding counts as an anomaly, and which anomalies are stored and alerted.
   * @default {}
   */
  thresholds?: AnalysisAgentSpecThresholds;
  /**
   * Where alerts go. Each channel's address or credentials live in a Secret.
   */
  notifications?: AnalysisAgentSpecNotifications;
  /**
   * CPU and memory requests and limits for each pod. Defaults suit a Raspberry Pi 5; requests must not exceed limits.
   * @default {"requests":{"cpu":"50m","memory":"128Mi"},"limits":{"cpu":"500m","memory":"384Mi"}}
   */
  resources?: AnalysisAgentSpecResources;
  /**
   * Labels a node must carry for the pods to be scheduled on it, for example kubernetes.io/arch=arm64.
   */
  nodeSelector?: Record<string, string>;
  /**
   * Taints the pods tolerate, as in a Pod spec.
   */
  tolerations?: AnalysisAgentSpecTolerationsItem[];
  /**
   * Where each pod keeps its local SQLite anomaly store.
   * @default {}
   */
  storage?: AnalysisAgentSpecStorage;
}

/**
 * The PostgreSQL database the router logs are collected into, read only and incrementally (by a watermark), never re-reading the whole table.
 */
export interface AnalysisAgentSpecSource {
  /**
   * Secret with the connection: either a key `url` (postgresql://user:password@host:5432/database) or the keys host, port, database, username and password. Use a read-only database role.
   */
  secretRef: AnalysisAgentSpecSourceSecretRef;
  /**
   * TLS to PostgreSQL, as libpq's sslmode. verify-full (the default) checks the certificate chain and the host name; verify-ca checks the chain only; require encrypts without checking; prefer tries TLS first; disable sends in clear text.
   * @default "verify-full"
   */
  sslMode?: 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
  /**
   * CA certificate (PEM) that signs the server's certificate, for verify-ca and verify-full. Key defaults to ca.crt. Without it the system trust store is used.
   */
  caSecretRef?: AnalysisAgentSpecSourceCaSecretRef;
  /**
   * Table and column mapping to start from. log_entries: edgewarden's collector table. SystemEvents: rsyslog ompgsql. messages: syslog-ng sql() defaults. custom: name the table and columns yourself. table and columns override the preset. A table other than the presets' must be allowed by the administrator (the operator's --allowed-source-tables), else the agent is refused with a condition.
   * @default "log_entries"
   */
  preset?: 'log_entries' | 'SystemEvents' | 'messages' | 'custom';
  /**
   * Table to read, optionally schema-qualified (schema.table). Overrides the preset's table. A table other than the presets' must be allowed by the administrator (the operator's --allowed-source-tables).
   */
  table?: string;
  /**
   * Column names, each overriding the preset's. Unset columns keep the preset's.
   */
  columns?: AnalysisAgentSpecSourceColumns;
  /**
   * How new rows are found: id (a monotonic id column) or timestamp. Defaults to id when the mapping has an id column, else timestamp.
   */
  watermark?: 'id' | 'timestamp';
  /**
   * Read only lines from these programs (syslog tags), for example dnsmasq; the filter runs in the database query. Empty reads every row, and the agent's engine then analyses only the programs that agent reads (all of them for template).
   */
  programs?: string[];
  /**
   * Read only lines from these devices (host names or addresses). Empty reads all devices.
   */
  devices?: string[];
  /**
   * Rows fetched per query. Smaller batches use less memory.
   * @default 5000
   */
  batchSize?: number;
  /**
   * On the agent's first start (no position stored yet), also analyse the rows of this period before now, e.g. 24h, up to 720h: a new agent then reports what already happened. Without it an agent starts with the rows that arrive after it. Has no effect once the agent has stored a position.
   */
  backfill?: string;
}

/**
 * Secret with the connection: either a key `url` (postgresql://user:password@host:5432/database) or the keys host, port, database, username and password. Use a read-only database role.
 */
export interface AnalysisAgentSpecSourceSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
}

/**
 * CA certificate (PEM) that signs the server's certificate, for verify-ca and verify-full. Key defaults to ca.crt. Without it the system trust store is used.
 */
export interface AnalysisAgentSpecSourceCaSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
  /**
   * Key within the Secret. Defaults to the key named in the field's description.
   */
  key?: string;
}

/**
 * Column names, each overriding the preset's. Unset columns keep the preset's.
 */
export interface AnalysisAgentSpecSourceColumns {
  /**
   * Monotonic row id, used as the watermark when present.
   */
  id?: string;
  /**
   * When the line was logged (timestamp or timestamptz).
   */
  timestamp?: string;
  /**
   * Device the line came from (host name or address).
   */
  host?: string;
  /**
   * Program (syslog tag) that wrote the line.
   */
  program?: string;
  /**
   * Syslog severity, as a name or a number.
   */
  level?: string;
  /**
   * Syslog facility, as a name or a number.
   */
  facility?: string;
  /**
   * The log message text.
   */
  message?: string;
}

/**
 * Optional Redis where each agent pod publishes its live status: expiring keys named by keyPrefix, the agent and the pod, ending in status, health, error and last_check. Nothing else is kept there: without it nothing is published, and the analysis is the same. Set exactly one of url or secretRef.
 */
export interface AnalysisAgentSpecCache {
  /**
   * Redis URL without credentials, for example redis://redis.edgewarden:6379/0.
   */
  url?: string;
  /**
   * Secret key holding the full Redis URL, credentials included. Key defaults to url.
   */
  secretRef?: AnalysisAgentSpecCacheSecretRef;
  /**
   * Prefix for every key this agent writes, so several agents can share one Redis.
   * @default "edgewarden:"
   */
  keyPrefix?: string;
}

/**
 * Secret key holding the full Redis URL, credentials included. Key defaults to url.
 */
export interface AnalysisAgentSpecCacheSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
  /**
   * Key within the Secret. Defaults to the key named in the field's description.
   */
  key?: string;
}

/**
 * The ModelDeployment whose model this agent serves. Optional: without it the agent runs on its rules alone.
 */
export interface AnalysisAgentSpecModel {
  /**
   * Name of a ModelDeployment in the same namespace whose spec.agent matches this agent.
   */
  name: string;
}

/**
 * Tuning of the detection rules (docs/rules.md): rules turned off or on, thresholds and windows overridden, what is never reported, and packs of your own from ConfigMaps. Applied by the running agent within a cycle, without a restart and without losing what it has learned; a change that does not compile is refused (the agent's status names the rule and the field) and the rules in force keep running.
 */
export interface AnalysisAgentSpecRules {
  /**
   * Ids of rules not to run.
   */
  disabled?: string[];
  /**
   * Ids of rules a pack ships turned off, to run.
   */
  enabled?: string[];
  /**
   * A rule's threshold, window (count and distinct rules), within (absence rules) or severity.
   */
  overrides?: AnalysisAgentSpecRulesOverridesItem[];
  /**
   * What is never reported, by any rule.
   */
  allow?: AnalysisAgentSpecRulesAllow;
  /**
   * Findings of one rule not to report for a narrow scope (a device, a source address or network, a user) until a time, usually proposed by `kubectl edgewarden false-positive`. A suppressed finding is neither stored nor alerted; it is counted in edgewarden_anomalies_suppressed_total. To turn a rule off everywhere use disabled.
   */
  suppressions?: AnalysisAgentSpecRulesSuppressionsItem[];
  /**
   * ConfigMaps in this namespace holding rule packs of your own (keys ending in .yaml). Editing one applies within a cycle of the kubelet updating the mounted files (about a minute); adding or removing a reference restarts the agent's pods.
   */
  configMaps?: AnalysisAgentSpecRulesConfigMapsItem[];
}

export interface AnalysisAgentSpecRulesOverridesItem {
  /**
   * The id of a detection rule (docs/rules.md), such as auth.sshd-brute-force.
   */
  rule: string;
  /**
   * Matches (count) or distinct values (distinct) that make a finding.
   */
  threshold?: number;
  /**
   * The sliding window the threshold is counted over, 1s to 31 days.
   */
  window?: string;
  /**
   * How long a state may last before it is reported (absence rules).
   */
  within?: string;
  /**
   * 1 (informational) to 5 (critical).
   */
  severity?: number;
}

/**
 * What is never reported, by any rule.
 */
export interface AnalysisAgentSpecRulesAllow {
  /**
   * Addresses or CIDR networks (IPv4 or IPv6) a rule's source capture is never reported for, such as your own scanner.
   */
  sources?: string[];
  /**
   * Devices (host names or addresses) whose lines no rule and no agent reports on.
   */
  devices?: string[];
  /**
   * User names a rule's user capture is never reported for.
   */
  users?: string[];
}

export interface AnalysisAgentSpecRulesSuppressionsItem {
  /**
   * The id of the rule whose findings are suppressed.
   */
  rule: string;
  /**
   * Only findings on this device (host name or address).
   */
  device?: string;
  /**
   * Only findings whose source capture is this address or inside this CIDR network (IPv4 or IPv6).
   */
  source?: string;
  /**
   * Only findings whose user capture is this user name.
   */
  user?: string;
  /**
   * When the suppression ends (RFC 3339); from then on the rule reports these findings again.
   */
  expires: string;
  /**
   * Why the findings are suppressed, for the people who read the spec.
   */
  reason?: string;
  /**
   * Who proposed the suppression.
   */
  createdBy?: string;
}

export interface AnalysisAgentSpecRulesConfigMapsItem {
  /**
   * Name of a ConfigMap in the same namespace.
   */
  name: string;
}

/**
 * When a finding counts as an anomaly, and which anomalies are stored and alerted.
 * @default {}
 */
export interface AnalysisAgentSpecThresholds {
  /**
   * Model score (0 to 1) at or above which a line is anomalous. A ModelDeployment's threshold overrides it.
   * @default 0.8
   */
  score?: number;
  /**
   * Least severe anomaly that is stored.
   * @default "low"
   */
  storeSeverity?: 'info' | 'low' | 'medium' | 'high' | 'critical';
  /**
   * Least severe anomaly that sends a notification.
   * @default "high"
   */
  alertSeverity?: 'info' | 'low' | 'medium' | 'high' | 'critical';
}

/**
 * Where alerts go. Each channel's address or credentials live in a Secret.
 */
export interface AnalysisAgentSpecNotifications {
  /**
   * Slack incoming webhook.
   */
  slack?: AnalysisAgentSpecNotificationsSlack;
  /**
   * Generic webhook that receives each alert as a JSON POST.
   */
  webhook?: AnalysisAgentSpecNotificationsWebhook;
  /**
   * E-mail through an SMTP server.
   */
  email?: AnalysisAgentSpecNotificationsEmail;
  /**
   * Prometheus Alertmanager (API v2) that receives every anomaly at or above thresholds.alertSeverity as an alert, firing while it is open and resolved when it is resolved or suppressed; a silence there marks the anomaly suppressed. Without url or urlSecretRef the operator's --alertmanager-url (chart alertmanager.url) is used.
   */
  alertmanager?: AnalysisAgentSpecNotificationsAlertmanager;
  /**
   * Least time between two alerts for the same device and anomaly kind. Default "15m".
   * @default "15m"
   */
  cooldown?: string;
}

/**
 * Slack incoming webhook.
 */
export interface AnalysisAgentSpecNotificationsSlack {
  /**
   * Secret key holding the Slack webhook URL. Key defaults to url.
   */
  webhookSecretRef: AnalysisAgentSpecNotificationsSlackWebhookSecretRef;
}

/**
 * Secret key holding the Slack webhook URL. Key defaults to url.
 */
export interface AnalysisAgentSpecNotificationsSlackWebhookSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
  /**
   * Key within the Secret. Defaults to the key named in the field's description.
   */
  key?: string;
}

/**
 * Generic webhook that receives each alert as a JSON POST.
 */
export interface AnalysisAgentSpecNotificationsWebhook {
  /**
   * Secret key holding the webhook URL (it may embed a token). Key defaults to url.
   */
  urlSecretRef: AnalysisAgentSpecNotificationsWebhookUrlSecretRef;
}

/**
 * Secret key holding the webhook URL (it may embed a token). Key defaults to url.
 */
export interface AnalysisAgentSpecNotificationsWebhookUrlSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
  /**
   * Key within the Secret. Defaults to the key named in the field's description.
   */
  key?: string;
}

/**
 * E-mail through an SMTP server.
 */
export interface AnalysisAgentSpecNotificationsEmail {
  /**
   * Secret with the SMTP server: keys host, port, and optionally username, password, tls ("true"/"false").
   */
  smtpSecretRef: AnalysisAgentSpecNotificationsEmailSmtpSecretRef;
  /**
   * Sender address.
   */
  from: string;
  /**
   * Recipient addresses.
   */
  to: string[];
}

/**
 * Secret with the SMTP server: keys host, port, and optionally username, password, tls ("true"/"false").
 */
export interface AnalysisAgentSpecNotificationsEmailSmtpSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
}

/**
 * Prometheus Alertmanager (API v2) that receives every anomaly at or above thresholds.alertSeverity as an alert, firing while it is open and resolved when it is resolved or suppressed; a silence there marks the anomaly suppressed. Without url or urlSecretRef the operator's --alertmanager-url (chart alertmanager.url) is used.
 */
export interface AnalysisAgentSpecNotificationsAlertmanager {
  /**
   * Alertmanager's address without credentials, for example http://alertmanager-operated.monitoring:9093.
   */
  url?: string;
  /**
   * Secret key holding Alertmanager's URL, credentials included. Key defaults to url.
   */
  urlSecretRef?: AnalysisAgentSpecNotificationsAlertmanagerUrlSecretRef;
  /**
   * An open anomaly not seen again for this long is resolved in Alertmanager (its status in the agent's store is unchanged). Default "1h".
   * @default "1h"
   */
  resolveAfter?: string;
  /**
   * Base of each alert's runbook_url annotation, followed by '#' and the rule's id. Unset links to the rule's section of docs/rules.md.
   */
  runbookBaseUrl?: string;
}

/**
 * Secret key holding Alertmanager's URL, credentials included. Key defaults to url.
 */
export interface AnalysisAgentSpecNotificationsAlertmanagerUrlSecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
  /**
   * Key within the Secret. Defaults to the key named in the field's description.
   */
  key?: string;
}

/**
 * CPU and memory requests and limits for each pod. Defaults suit a Raspberry Pi 5; requests must not exceed limits.
 * @default {"requests":{"cpu":"50m","memory":"128Mi"},"limits":{"cpu":"500m","memory":"384Mi"}}
 */
export interface AnalysisAgentSpecResources {
  /**
   * Minimum resources the scheduler reserves, by resource name (cpu, memory).
   */
  requests?: Record<string, number | string>;
  /**
   * Maximum resources the pod may use, by resource name (cpu, memory).
   */
  limits?: Record<string, number | string>;
}

/**
 * A toleration, as in a Pod spec.
 */
export interface AnalysisAgentSpecTolerationsItem {
  /**
   * Taint key the toleration applies to; empty matches all keys (with operator Exists).
   */
  key?: string;
  /**
   * Exists or Equal (default Equal).
   */
  operator?: 'Exists' | 'Equal';
  /**
   * Taint value to match when operator is Equal.
   */
  value?: string;
  /**
   * Taint effect to match; empty matches all effects.
   */
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | '';
  /**
   * For NoExecute, how long the pod stays bound after the taint appears.
   */
  tolerationSeconds?: number;
}

/**
 * Where each pod keeps its local SQLite anomaly store.
 * @default {}
 */
export interface AnalysisAgentSpecStorage {
  /**
   * emptyDir (lost when the pod is deleted) or persistentVolumeClaim (one claim per pod, kept).
   * @default "emptyDir"
   */
  type?: 'emptyDir' | 'persistentVolumeClaim';
  /**
   * Size of the volume (the emptyDir size limit, or the claim's request).
   * @default "1Gi"
   */
  size?: number | string;
  /**
   * StorageClass for the claims; unset uses the cluster's default (local-path on k3s).
   */
  storageClassName?: string;
  /**
   * How long stored anomalies are kept, at least 1h. Default "720h" (30 days).
   * @default "720h"
   */
  retention?: string;
}

/**
 * What the operator last observed. Rebuilt from the world on every reconcile.
 */
export interface AnalysisAgentStatus {
  /**
   * The metadata.generation the controller last acted on. Wait for it to equal metadata.generation to know an edit has been seen.
   */
  observedGeneration?: number;
  /**
   * Ready, SourceReachable, ModelLoaded, ModelDrift, RulesAccepted, StoreRecovered and Degraded.
   */
  conditions?: AnalysisAgentStatusConditionsItem[];
  /**
   * Agent pods that exist.
   */
  replicas?: number;
  /**
   * Agent pods that are ready.
   */
  readyReplicas?: number;
  /**
   * Label selector of the agent pods, for the scale subresource.
   */
  selector?: string;
  /**
   * Model version the agent pods report serving; while they serve different versions (during a rollout), each of them, comma-separated. Empty without spec.model and until a pod serves a model.
   */
  modelVersion?: string;
  /**
   * When the last analysis cycle of any pod finished.
   */
  lastCycleTime?: string;
  /**
   * Log lines analysed, summed over the analysis cycles recorded in the agent pods' stores (a pod whose emptyDir store is lost starts again from zero).
   */
  linesAnalyzed?: number;
  /**
   * The detection rules that found most anomalies in the last 24 hours (at most five).
   */
  topRules?: AnalysisAgentStatusTopRulesItem[];
  /**
   * Anomalies stored by this agent.
   */
  anomalies?: AnalysisAgentStatusAnomalies;
}

/**
 * One aspect of the resource's state.
 */
export interface AnalysisAgentStatusConditionsItem {
  /**
   * Condition type in CamelCase, for example Ready.
   */
  type: string;
  /**
   * True, False or Unknown.
   */
  status: 'True' | 'False' | 'Unknown';
  /**
   * metadata.generation of the resource this condition was computed from.
   */
  observedGeneration?: number;
  /**
   * When status last changed.
   */
  lastTransitionTime: string;
  /**
   * Machine-readable CamelCase reason for the last transition.
   */
  reason: string;
  /**
   * Human-readable details of the last transition.
   */
  message: string;
}

export interface AnalysisAgentStatusTopRulesItem {
  /**
   * The rule's id (edgewarden rules list shows them all).
   */
  rule: string;
  /**
   * Anomalies it found in the last 24 hours, summed over the pods.
   */
  anomalies: number;
}

/**
 * Anomalies stored by this agent.
 */
export interface AnalysisAgentStatusAnomalies {
  /**
   * Anomalies the agent pods' stores hold now (they keep them for storage.retention).
   */
  total?: number;
  /**
   * In the last 24 hours.
   */
  last24h?: number;
}

/** Where the AnalysisAgent kind is served: group, version and resource. */
export const AnalysisAgentResource = {
  group: 'edgewarden.io',
  version: 'v1alpha1',
  plural: 'analysisagents',
  kind: 'AnalysisAgent',
} as const;

/** A list of AnalysisAgent objects, as returned by the API server. */
export interface AnalysisAgentList {
  apiVersion: string;
  kind: 'AnalysisAgentList';
  metadata?: { resourceVersion?: string; continue?: string };
  items: AnalysisAgent[];
}

/**
 * ExportJob exports router logs and/or stored anomalies as JSON, JSONL or CSV files (optionally gzip-compressed) to a PersistentVolumeClaim, through a Kubernetes Job, with progress in its status. Its spec cannot change once created: create a new ExportJob instead.
 */
export interface ExportJob {
  /**
   * APIVersion defines the versioned schema of this representation of an object: edgewarden.io/v1alpha1.
   */
  apiVersion: 'edgewarden.io/v1alpha1';
  /**
   * Kind is a string value representing the REST resource this object represents.
   */
  kind: 'ExportJob';
  metadata: ObjectMeta;
  /**
   * What to export, in which shape, and where to.
   */
  spec: ExportJobSpec;
  /**
   * What the operator last observed. Rebuilt from the Job and its reports on every reconcile.
   */
  status?: ExportJobStatus;
}

/**
 * What to export, in which shape, and where to.
 */
export interface ExportJobSpec {
  /**
   * Where the logs are: read as the named AnalysisAgent reads them (its Secret, TLS settings, table and columns, so the same allowed tables). Needed when dataTypes has logs. Anomalies come from the anomaly stores of the namespace's AnalysisAgents (filters.agents narrows them).
   */
  source?: ExportJobSpecSource;
  /**
   * What to export: logs (the router log lines), anomalies (what the agents found), or both.
   */
  dataTypes: Array<'logs' | 'anomalies'>;
  /**
   * The time window to export. Set last, or from (and optionally to).
   */
  timeRange: ExportJobSpecTimeRange;
  /**
   * Narrow what is exported. Every filter that is set must match.
   */
  filters?: ExportJobSpecFilters;
  /**
   * json: one JSON array per file. jsonl: one JSON object per line. csv: RFC 4180 with a header row.
   * @default "jsonl"
   */
  format?: 'json' | 'jsonl' | 'csv';
  /**
   * none, or gzip (files end in .gz).
   * @default "none"
   */
  compression?: 'none' | 'gzip';
  /**
   * Records read and written per batch; progress is reported after each.
   * @default 1000
   */
  batchSize?: number;
  /**
   * Start a new file when one reaches this size (before compression), for example 100Mi.
   * @default "100Mi"
   */
  maxFileSize?: number | string;
  /**
   * Changes applied to each record on the way out.
   * @default {}
   */
  transform?: ExportJobSpecTransform;
  /**
   * Where the files are written.
   */
  destination: ExportJobSpecDestination;
  /**
   * Delete this ExportJob, its Job and its files this many seconds after it finishes (a finalizer removes the files first). Unset keeps them all.
   */
  ttlSecondsAfterFinished?: number;
  /**
   * Fail the export if it runs longer than this.
   * @default 3600
   */
  activeDeadlineSeconds?: number;
  /**
   * Retries before the export is marked failed. A retry resumes after the last complete batch.
   * @default 2
   */
  backoffLimit?: number;
}

/**
 * Where the logs are: read as the named AnalysisAgent reads them (its Secret, TLS settings, table and columns, so the same allowed tables). Needed when dataTypes has logs. Anomalies come from the anomaly stores of the namespace's AnalysisAgents (filters.agents narrows them).
 */
export interface ExportJobSpecSource {
  /**
   * An AnalysisAgent in the same namespace.
   */
  analysisAgentRef: ExportJobSpecSourceAnalysisAgentRef;
}

/**
 * An AnalysisAgent in the same namespace.
 */
export interface ExportJobSpecSourceAnalysisAgentRef {
  /**
   * Name of the AnalysisAgent.
   */
  name: string;
}

/**
 * The time window to export. Set last, or from (and optionally to).
 */
export interface ExportJobSpecTimeRange {
  /**
   * Start of the window, inclusive (RFC 3339).
   */
  from?: string;
  /**
   * End of the window, exclusive (RFC 3339). Defaults to when the export starts.
   */
  to?: string;
  /**
   * The window ending when the export starts, for example "24h" (at most 8760h).
   */
  last?: string;
}

/**
 * Narrow what is exported. Every filter that is set must match.
 */
export interface ExportJobSpecFilters {
  /**
   * Only lines (or anomalies) from these programs.
   */
  programs?: string[];
  /**
   * Only these devices (host names or addresses).
   */
  devices?: string[];
  /**
   * Only log lines of these syslog levels.
   */
  levels?: Array<'emerg' | 'alert' | 'crit' | 'err' | 'warning' | 'notice' | 'info' | 'debug'>;
  /**
   * Only anomalies found by these agent kinds.
   */
  agents?: Array<'wifi' | 'dns' | 'auth' | 'firewall' | 'system' | 'template'>;
  /**
   * Only anomalies at least this severe.
   */
  minSeverity?: 'info' | 'low' | 'medium' | 'high' | 'critical';
}

/**
 * Changes applied to each record on the way out.
 * @default {}
 */
export interface ExportJobSpecTransform {
  /**
   * utc rewrites every timestamp as RFC 3339 in UTC; keep writes them as stored.
   * @default "utc"
   */
  timestamps?: 'utc' | 'keep';
  /**
   * Replace MAC and IP addresses with a keyed hash (HMAC-SHA-256), so records stay joinable but not identifiable. Defaults to true; set false to export the addresses as stored.
   * @default true
   */
  hashAddresses?: boolean;
  /**
   * Secret key holding the hashing key. Key defaults to key. Without it a random key is made per export.
   */
  hashKeySecretRef?: ExportJobSpecTransformHashKeySecretRef;
}

/**
 * Secret key holding the hashing key. Key defaults to key. Without it a random key is made per export.
 */
export interface ExportJobSpecTransformHashKeySecretRef {
  /**
   * Name of the Secret, in the same namespace as this resource.
   */
  name: string;
  /**
   * Key within the Secret. Defaults to the key named in the field's description.
   */
  key?: string;
}

/**
 * Where the files are written.
 */
export interface ExportJobSpecDestination {
  /**
   * The claim the export Job mounts.
   */
  persistentVolumeClaim: ExportJobSpecDestinationPersistentVolumeClaim;
  /**
   * Folder inside the volume, relative, without "..". Created if missing.
   */
  path: string;
}

/**
 * The claim the export Job mounts.
 */
export interface ExportJobSpecDestinationPersistentVolumeClaim {
  /**
   * Name of a PersistentVolumeClaim in the same namespace.
   */
  claimName: string;
}

/**
 * What the operator last observed. Rebuilt from the Job and its reports on every reconcile.
 */
export interface ExportJobStatus {
  /**
   * The metadata.generation the controller last acted on. Wait for it to equal metadata.generation to know an edit has been seen.
   */
  observedGeneration?: number;
  /**
   * Running, Succeeded and Failed.
   */
  conditions?: ExportJobStatusConditionsItem[];
  /**
   * Pending, Running, Succeeded or Failed; derived from the conditions, for printing only.
   */
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /**
   * How far the export is.
   */
  progress?: ExportJobStatusProgress;
  /**
   * When the export started.
   */
  startTime?: string;
  /**
   * When the export finished, successfully or not.
   */
  completionTime?: string;
  /**
   * The files written, in order.
   */
  files?: ExportJobStatusFilesItem[];
  /**
   * Checks run on the exported records.
   */
  validation?: ExportJobStatusValidation;
  /**
   * When this ExportJob will be deleted (from ttlSecondsAfterFinished).
   */
  expiresAt?: string;
}

/**
 * One aspect of the resource's state.
 */
export interface ExportJobStatusConditionsItem {
  /**
   * Condition type in CamelCase, for example Ready.
   */
  type: string;
  /**
   * True, False or Unknown.
   */
  status: 'True' | 'False' | 'Unknown';
  /**
   * metadata.generation of the resource this condition was computed from.
   */
  observedGeneration?: number;
  /**
   * When status last changed.
   */
  lastTransitionTime: string;
  /**
   * Machine-readable CamelCase reason for the last transition.
   */
  reason: string;
  /**
   * Human-readable details of the last transition.
   */
  message: string;
}

/**
 * How far the export is.
 */
export interface ExportJobStatusProgress {
  /**
   * Records written so far.
   */
  recordsDone?: number;
  /**
   * Records to write, counted when the export starts.
   */
  recordsTotal?: number;
  /**
   * recordsDone as a percentage of recordsTotal.
   */
  percent?: number;
  /**
   * Bytes written so far (after compression).
   */
  bytes?: number;
  /**
   * Percent and records, for example "45% (4500/10000)"; derived, for printing only.
   */
  summary?: string;
}

/**
 * One file written.
 */
export interface ExportJobStatusFilesItem {
  /**
   * Path of the file relative to destination.path.
   */
  name: string;
  /**
   * Records in the file.
   */
  records?: number;
  /**
   * Size of the file in bytes.
   */
  bytes?: number;
  /**
   * Hex SHA-256 of the file.
   */
  sha256?: string;
}

/**
 * Checks run on the exported records.
 */
export interface ExportJobStatusValidation {
  /**
   * Records checked.
   */
  rows?: number;
  /**
   * Share of records (0 to 1) with each field empty, by field name.
   */
  nullRates?: Record<string, number>;
  /**
   * Records that repeat an earlier record exactly.
   */
  duplicates?: number;
  /**
   * Records skipped because they could not be read or converted.
   */
  rejectedRows?: number;
  /**
   * Records skipped, by reason.
   */
  rejected?: Record<string, number>;
  /**
   * Records whose time fell outside the window (skipped).
   */
  outOfRange?: number;
}

/** Where the ExportJob kind is served: group, version and resource. */
export const ExportJobResource = {
  group: 'edgewarden.io',
  version: 'v1alpha1',
  plural: 'exportjobs',
  kind: 'ExportJob',
} as const;

/** A list of ExportJob objects, as returned by the API server. */
export interface ExportJobList {
  apiVersion: string;
  kind: 'ExportJobList';
  metadata?: { resourceVersion?: string; continue?: string };
  items: ExportJob[];
}

/**
 * ModelDeployment rolls one ONNX anomaly model out to the AnalysisAgents that reference it, hot, without restarting them. Edit spec.version and spec.source to roll forward; set them back to roll back. A model that fails to load is refused and the previous one keeps serving.
 */
export interface ModelDeployment {
  /**
   * APIVersion defines the versioned schema of this representation of an object: edgewarden.io/v1alpha1.
   */
  apiVersion: 'edgewarden.io/v1alpha1';
  /**
   * Kind is a string value representing the REST resource this object represents.
   */
  kind: 'ModelDeployment';
  metadata: ObjectMeta;
  /**
   * The model to serve and how to roll it out.
   */
  spec: ModelDeploymentSpec;
  /**
   * What the operator last observed, and the rollout state it keeps (stable, rollout) to resume after a restart.
   */
  status?: ModelDeploymentStatus;
}

/**
 * The model to serve and how to roll it out.
 */
export interface ModelDeploymentSpec {
  /**
   * Agent kind this model serves; only AnalysisAgents of this kind may reference it.
   */
  agent: 'wifi' | 'dns' | 'auth' | 'firewall' | 'system' | 'template';
  /**
   * Which of the AnalysisAgents that reference this deployment (spec.model.name) it serves, by their labels. Unset serves all of them.
   */
  selector?: ModelDeploymentSpecSelector;
  /**
   * Version label of the model, for example 2026.11.1. Shown in status and metrics.
   */
  version: string;
  /**
   * Where the ONNX model bytes are, and optionally its manifest.json (as edgewarden train or training/train_sklearn.py wrote it) beside them. Set exactly one of configMap, secret, http, persistentVolumeClaim.
   */
  source: ModelDeploymentSpecSource;
  /**
   * Ordered names of the input features the model expects; the agent builds each input row in this order. A model whose input width differs is refused.
   */
  features: string[];
  /**
   * Anomaly score threshold (0 to 1) for this model; overrides the agents' thresholds.score. Unset: the threshold of the model's manifest.json when the source names one (manifestKey, manifestUrl, manifestPath), else the agents' thresholds.score.
   */
  threshold?: number;
  /**
   * How a new version reaches the agents.
   * @default {}
   */
  rollout?: ModelDeploymentSpecRollout;
  /**
   * How many past versions status.history keeps.
   * @default 10
   */
  revisionHistoryLimit?: number;
}

/**
 * Which of the AnalysisAgents that reference this deployment (spec.model.name) it serves, by their labels. Unset serves all of them.
 */
export interface ModelDeploymentSpecSelector {
  /**
   * Labels that must all be present with these values.
   */
  matchLabels?: Record<string, string>;
  /**
   * Requirements that must all hold.
   */
  matchExpressions?: ModelDeploymentSpecSelectorMatchExpressionsItem[];
}

/**
 * A requirement on one label.
 */
export interface ModelDeploymentSpecSelectorMatchExpressionsItem {
  /**
   * The label key.
   */
  key: string;
  /**
   * In, NotIn, Exists or DoesNotExist.
   */
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /**
   * Values for In and NotIn; empty for Exists and DoesNotExist.
   */
  values?: string[];
}

/**
 * Where the ONNX model bytes are, and optionally its manifest.json (as edgewarden train or training/train_sklearn.py wrote it) beside them. Set exactly one of configMap, secret, http, persistentVolumeClaim.
 */
export interface ModelDeploymentSpecSource {
  /**
   * A binaryData key of a ConfigMap in the same namespace (models up to about 1 MiB). The ConfigMap must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
   */
  configMap?: ModelDeploymentSpecSourceConfigMap;
  /**
   * A key of a Secret in the same namespace holding the ONNX bytes (models up to about 1 MiB). The Secret must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
   */
  secret?: ModelDeploymentSpecSourceSecret;
  /**
   * An HTTP(S) URL the agents download the model from, checked against its sha256. A manifestUrl needs its manifestSha256 as the model's URL needs its sha256.
   */
  http?: ModelDeploymentSpecSourceHttp;
  /**
   * A file on a PersistentVolumeClaim in the same namespace, mounted read-only into the agent pods.
   */
  persistentVolumeClaim?: ModelDeploymentSpecSourcePersistentVolumeClaim;
}

/**
 * A binaryData key of a ConfigMap in the same namespace (models up to about 1 MiB). The ConfigMap must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
 */
export interface ModelDeploymentSpecSourceConfigMap {
  /**
   * Name of the ConfigMap.
   */
  name: string;
  /**
   * Key holding the ONNX bytes.
   */
  key: string;
  /**
   * Key of the same ConfigMap holding the model's manifest.json, for example manifest.json. Optional. The agents serve the model with its output mapping (which output holds the score, and its scale and shift) and its training summary, so it scores as it does from its folder and is checked for drift; without a spec.threshold, its threshold applies. Its agent, features (in order) and sha256 must match the spec and the bytes.
   */
  manifestKey?: string;
}

/**
 * A key of a Secret in the same namespace holding the ONNX bytes (models up to about 1 MiB). The Secret must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
 */
export interface ModelDeploymentSpecSourceSecret {
  /**
   * Name of the Secret.
   */
  name: string;
  /**
   * Key holding the ONNX bytes.
   */
  key: string;
  /**
   * Key of the same Secret holding the model's manifest.json. Optional; see configMap.manifestKey.
   */
  manifestKey?: string;
}

/**
 * An HTTP(S) URL the agents download the model from, checked against its sha256. A manifestUrl needs its manifestSha256 as the model's URL needs its sha256.
 */
export interface ModelDeploymentSpecSourceHttp {
  /**
   * URL of the .onnx file. Use https:// outside a trusted network.
   */
  url: string;
  /**
   * Hex SHA-256 of the file; a download that does not match is refused.
   */
  sha256: string;
  /**
   * URL of the model's manifest.json, downloaded by the agents as the model is. Optional; see configMap.manifestKey. Needs manifestSha256.
   */
  manifestUrl?: string;
  /**
   * Hex SHA-256 of the manifest.json at manifestUrl, required with it: the manifest sets the model's threshold and output scale, so a download whose bytes differ is refused (reason DigestMismatch) and the model serving keeps serving.
   */
  manifestSha256?: string;
}

/**
 * A file on a PersistentVolumeClaim in the same namespace, mounted read-only into the agent pods.
 */
export interface ModelDeploymentSpecSourcePersistentVolumeClaim {
  /**
   * Name of the PersistentVolumeClaim.
   */
  claimName: string;
  /**
   * Path of the .onnx file inside the volume, relative, without "..".
   */
  path: string;
  /**
   * Path of the model's manifest.json inside the volume, relative, without "..". Optional; see configMap.manifestKey.
   */
  manifestPath?: string;
}

/**
 * How a new version reaches the agents.
 * @default {}
 */
export interface ModelDeploymentSpecRollout {
  /**
   * AllAtOnce loads the new version in every agent pod at once; Canary moves a share of the pods at a time and watches them.
   * @default "AllAtOnce"
   */
  strategy?: 'AllAtOnce' | 'Canary';
  /**
   * Settings of the Canary strategy.
   */
  canary?: ModelDeploymentSpecRolloutCanary;
  /**
   * Return to the previous version by itself when a step fails.
   * @default true
   */
  autoRollback?: boolean;
}

/**
 * Settings of the Canary strategy.
 */
export interface ModelDeploymentSpecRolloutCanary {
  /**
   * Share of the agent pods moved to the new version per step, in percent.
   * @default 25
   */
  stepPercent?: number;
  /**
   * How long each step is watched (load errors, inference errors, anomaly rate) before the next. Between 30s and 24h; default "10m".
   * @default "10m"
   */
  analysisWindow?: string;
}

/**
 * What the operator last observed, and the rollout state it keeps (stable, rollout) to resume after a restart.
 */
export interface ModelDeploymentStatus {
  /**
   * The metadata.generation the controller last acted on. Wait for it to equal metadata.generation to know an edit has been seen.
   */
  observedGeneration?: number;
  /**
   * Ready, Validated and RolledOut.
   */
  conditions?: ModelDeploymentStatusConditionsItem[];
  /**
   * Version the agents serve now.
   */
  activeVersion?: string;
  /**
   * Version the spec asks for.
   */
  targetVersion?: string;
  /**
   * UpToDate: every agent serves the target. InProgress: rolling out. BlockedByFailedLoad: the target failed to validate or load and the previous version keeps serving. RolledBack: a canary step of the target failed its analysis and the previous version serves again. InvalidSpec: the spec cannot be acted on until it changes.
   */
  transition?: 'UpToDate' | 'InProgress' | 'BlockedByFailedLoad' | 'RolledBack' | 'InvalidSpec';
  /**
   * The last failure to validate, load or roll out a version.
   */
  lastFailure?: ModelDeploymentStatusLastFailure;
  /**
   * Agent pods serving the target version.
   */
  updatedAgents?: number;
  /**
   * Agent pods this model serves.
   */
  totalAgents?: number;
  /**
   * Versions tried and served, newest first, at most revisionHistoryLimit.
   */
  history?: ModelDeploymentStatusHistoryItem[];
  /**
   * The last version that completed a rollout, as it was specified: what every agent serves outside a rollout, and what a rollback returns to. Kept by the operator.
   */
  stable?: ModelDeploymentStatusStable;
  /**
   * The rollout of the target in progress or last finished: kept in status so that an operator restarted mid-rollout resumes where it was.
   */
  rollout?: ModelDeploymentStatusRollout;
}

/**
 * One aspect of the resource's state.
 */
export interface ModelDeploymentStatusConditionsItem {
  /**
   * Condition type in CamelCase, for example Ready.
   */
  type: string;
  /**
   * True, False or Unknown.
   */
  status: 'True' | 'False' | 'Unknown';
  /**
   * metadata.generation of the resource this condition was computed from.
   */
  observedGeneration?: number;
  /**
   * When status last changed.
   */
  lastTransitionTime: string;
  /**
   * Machine-readable CamelCase reason for the last transition.
   */
  reason: string;
  /**
   * Human-readable details of the last transition.
   */
  message: string;
}

/**
 * The last failure to validate, load or roll out a version.
 */
export interface ModelDeploymentStatusLastFailure {
  /**
   * CamelCase reason, for example ChecksumMismatch or InputShapeMismatch.
   */
  reason?: string;
  /**
   * What went wrong.
   */
  message?: string;
  /**
   * When it happened.
   */
  time?: string;
}

/**
 * One version tried or served.
 */
export interface ModelDeploymentStatusHistoryItem {
  /**
   * The version label.
   */
  version: string;
  /**
   * SHA-256 of the model bytes that served.
   */
  sha256?: string;
  /**
   * When it started serving.
   */
  servedFrom?: string;
  /**
   * When it stopped serving; unset while it serves.
   */
  servedUntil?: string;
  /**
   * Serving: it serves now. Replaced: a later version took over. RolledBack: a canary of it failed its analysis. Refused: it failed validation and never served.
   */
  outcome?: 'Serving' | 'Replaced' | 'RolledBack' | 'Refused';
  /**
   * Why it was rolled back or refused.
   */
  reason?: string;
}

/**
 * The last version that completed a rollout, as it was specified: what every agent serves outside a rollout, and what a rollback returns to. Kept by the operator.
 */
export interface ModelDeploymentStatusStable {
  /**
   * The version label.
   */
  version: string;
  /**
   * SHA-256 of its bytes.
   */
  sha256: string;
  /**
   * Its input features, in order.
   */
  features: string[];
  /**
   * Its threshold, when the spec set one.
   */
  threshold?: number;
  /**
   * Where its bytes were.
   */
  source: ModelDeploymentStatusStableSource;
}

/**
 * Where its bytes were.
 */
export interface ModelDeploymentStatusStableSource {
  /**
   * A binaryData key of a ConfigMap in the same namespace (models up to about 1 MiB). The ConfigMap must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
   */
  configMap?: ModelDeploymentStatusStableSourceConfigMap;
  /**
   * A key of a Secret in the same namespace holding the ONNX bytes (models up to about 1 MiB). The Secret must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
   */
  secret?: ModelDeploymentStatusStableSourceSecret;
  /**
   * An HTTP(S) URL the agents download the model from, checked against its sha256. A manifestUrl needs its manifestSha256 as the model's URL needs its sha256.
   */
  http?: ModelDeploymentStatusStableSourceHttp;
  /**
   * A file on a PersistentVolumeClaim in the same namespace, mounted read-only into the agent pods.
   */
  persistentVolumeClaim?: ModelDeploymentStatusStableSourcePersistentVolumeClaim;
}

/**
 * A binaryData key of a ConfigMap in the same namespace (models up to about 1 MiB). The ConfigMap must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
 */
export interface ModelDeploymentStatusStableSourceConfigMap {
  /**
   * Name of the ConfigMap.
   */
  name: string;
  /**
   * Key holding the ONNX bytes.
   */
  key: string;
  /**
   * Key of the same ConfigMap holding the model's manifest.json, for example manifest.json. Optional. The agents serve the model with its output mapping (which output holds the score, and its scale and shift) and its training summary, so it scores as it does from its folder and is checked for drift; without a spec.threshold, its threshold applies. Its agent, features (in order) and sha256 must match the spec and the bytes.
   */
  manifestKey?: string;
}

/**
 * A key of a Secret in the same namespace holding the ONNX bytes (models up to about 1 MiB). The Secret must carry the label edgewarden.io/model-source: "true"; one without it is never read, and the rollout is refused with reason SourceNotLabelled.
 */
export interface ModelDeploymentStatusStableSourceSecret {
  /**
   * Name of the Secret.
   */
  name: string;
  /**
   * Key holding the ONNX bytes.
   */
  key: string;
  /**
   * Key of the same Secret holding the model's manifest.json. Optional; see configMap.manifestKey.
   */
  manifestKey?: string;
}

/**
 * An HTTP(S) URL the agents download the model from, checked against its sha256. A manifestUrl needs its manifestSha256 as the model's URL needs its sha256.
 */
export interface ModelDeploymentStatusStableSourceHttp {
  /**
   * URL of the .onnx file. Use https:// outside a trusted network.
   */
  url: string;
  /**
   * Hex SHA-256 of the file; a download that does not match is refused.
   */
  sha256: string;
  /**
   * URL of the model's manifest.json, downloaded by the agents as the model is. Optional; see configMap.manifestKey. Needs manifestSha256.
   */
  manifestUrl?: string;
  /**
   * Hex SHA-256 of the manifest.json at manifestUrl, required with it: the manifest sets the model's threshold and output scale, so a download whose bytes differ is refused (reason DigestMismatch) and the model serving keeps serving.
   */
  manifestSha256?: string;
}

/**
 * A file on a PersistentVolumeClaim in the same namespace, mounted read-only into the agent pods.
 */
export interface ModelDeploymentStatusStableSourcePersistentVolumeClaim {
  /**
   * Name of the PersistentVolumeClaim.
   */
  claimName: string;
  /**
   * Path of the .onnx file inside the volume, relative, without "..".
   */
  path: string;
  /**
   * Path of the model's manifest.json inside the volume, relative, without "..". Optional; see configMap.manifestKey.
   */
  manifestPath?: string;
}

/**
 * The rollout of the target in progress or last finished: kept in status so that an operator restarted mid-rollout resumes where it was.
 */
export interface ModelDeploymentStatusRollout {
  /**
   * Digest of the spec fields the rollout is for (version, source, features, threshold).
   */
  revision: string;
  /**
   * Validating: tried on one agent pod without serving. Progressing: being delivered (a canary step is watched for its analysis window). Complete, Failed, RolledBack, or Halted (a canary step failed and autoRollback is off).
   */
  phase: 'Validating' | 'Progressing' | 'Complete' | 'Failed' | 'RolledBack' | 'Halted';
  /**
   * SHA-256 of the target's bytes, as validation found it.
   */
  sha256?: string;
  /**
   * When this rollout began.
   */
  startedAt?: string;
  /**
   * The canary step reached (1 is the first share of pods).
   */
  step?: number;
  /**
   * When the current canary step's pods all served the target.
   */
  stepStartedAt?: string;
  /**
   * The agent pods of the canary so far.
   */
  canaryPods?: string[];
  /**
   * Share of windows the previous version flagged on the canary pods before the switch.
   */
  baselineRate?: number;
}

/** Where the ModelDeployment kind is served: group, version and resource. */
export const ModelDeploymentResource = {
  group: 'edgewarden.io',
  version: 'v1alpha1',
  plural: 'modeldeployments',
  kind: 'ModelDeployment',
} as const;

/** A list of ModelDeployment objects, as returned by the API server. */
export interface ModelDeploymentList {
  apiVersion: string;
  kind: 'ModelDeploymentList';
  metadata?: { resourceVersion?: string; continue?: string };
  items: ModelDeployment[];
}
