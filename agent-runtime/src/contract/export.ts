// The export Job's published contract: what `edgewarden export` (an ExportJob's pod) is
// started with, what it serves while it runs, and what it leaves when it ends. The operator
// imports this (and nothing else of the exporter) to build the Job and read its progress.
import type { AnalysisAgentSpec, ExportJobSpec } from '../../../api/src/generated/types.js';

/** Environment variables the exporter reads (PostgreSQL ones are the agent's: agentEnv.pgUrl, PG*, pgCaFile). */
export const exportEnv = {
  /** Path of the export plan (JSON, ExportPlan). */
  plan: 'EDGEWARDEN_EXPORT_PLAN',
  /** The folder the files go to: the claim's mount joined with spec.destination.path. */
  dir: 'EDGEWARDEN_EXPORT_DIR',
  /** The HMAC key for transform.hashAddresses, from the Secret of hashKeySecretRef. */
  hashKey: 'EDGEWARDEN_EXPORT_HASH_KEY',
  /** Port of GET /progress and /healthz. */
  port: 'EDGEWARDEN_HTTP_PORT',
} as const;

export const exportDefaults = {
  plan: '/etc/edgewarden/export/plan.json',
  /** Where the destination claim is mounted. */
  volume: '/export',
  /** Not the agents' 8080: an export pod may share a node's network with an agent (hostNetwork, tests). */
  port: 8090,
  /** Kubernetes' default terminationMessagePath. */
  terminationMessage: '/dev/termination-log',
  /**
   * Where the read tokens of the agents an export reads are mounted, one file per agent named
   * after it (a Secret the operator makes for the ExportJob; issue 20, H2).
   */
  agentTokens: '/etc/edgewarden/agent-tokens',
} as const;

export const exportPaths = {
  progress: '/progress',
  health: '/healthz',
} as const;

/** Exit codes. The Job's pod failure policy fails the Job at once on badSpec (no retry). */
export const exportExit = {
  ok: 0,
  /** Anything else (a lost database, a full volume): the Job retries, resuming. */
  failed: 1,
  /** The plan cannot work (an unknown column, a missing table, a bad time range). */
  badSpec: 3,
} as const;

/** What the operator writes for the exporter (a ConfigMap key), fixed when the Job is made. */
export interface ExportPlan {
  /** The ExportJob's name, namespace and uid (files are named after the name). */
  name: string;
  namespace: string;
  uid: string;
  spec: ExportJobSpec;
  /** The time window, resolved once (timeRange.last against the creation time) so a retry exports the same rows. */
  from: string;
  to: string;
  /** Where the logs are: the referenced AnalysisAgent's source (its Secret reaches the pod as env). */
  logs?: { source: AnalysisAgentSpec['source'] };
  /** Agent pods whose anomaly stores are read, through GET /anomalies. */
  anomalies?: { agent: string; kind: string; pod: string; url: string }[];
}

/** One file written: its name relative to the export folder. */
export interface ExportFile {
  name: string;
  records: number;
  bytes: number;
  sha256: string;
}

export interface ExportValidation {
  rows: number;
  /** Share of records (0 to 1) with each field empty, by field name. */
  nullRates: Record<string, number>;
  /** Records identical to an earlier record. */
  duplicates: number;
  /** Records skipped, and why (reason → count). */
  rejectedRows: number;
  rejected: Record<string, number>;
  /** Records whose time is outside [from, to) (counted, and skipped). */
  outOfRange: number;
}

/** GET /progress while running; the last one is also the termination message (trimmed to 4 KiB). */
export interface ExportProgress {
  state: 'starting' | 'counting' | 'running' | 'succeeded' | 'failed';
  recordsDone: number;
  recordsTotal?: number;
  /** Bytes written so far, after compression. */
  bytes: number;
  files: ExportFile[];
  /** Files left out of `files` to fit the termination message (all are in the manifest). */
  filesOmitted?: number;
  /** The manifest file's name (relative to the export folder), once written. */
  manifest?: string;
  validation?: ExportValidation;
  /** Why it failed: { reason (CamelCase), message }. */
  error?: { reason: string; message: string };
  startedAt?: string;
  /** Set when the run resumed from a checkpoint. */
  resumedAt?: number;
}
