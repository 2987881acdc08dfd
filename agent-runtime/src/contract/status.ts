// The body of an agent pod's GET /status: what the pod serves and the operator reads into the
// AnalysisAgent's status. One type for both sides; the shapes it is built from (drift, the
// resource guard, the rules in force) are defined here so the contract imports nothing else.

/** What /status says of the served model. */
export interface ServedModel {
  version?: string;
  sha256?: string;
  features?: string[];
  threshold?: number;
  loadedAt?: string;
  lastFailure?: { reason: string; message: string; time: string };
  /** Since this model was loaded: windows scored, windows at or over the threshold, failed batches. */
  scored?: { windows: number; flagged: number; inferenceErrors: number };
}

/**
 * Where an agent began reading its source, on its first start (no position stored yet), and
 * what it left behind: what /status reports as `start`, so that a table of old rows that an
 * agent never reads (it starts at the end) is seen for what it is, not as a quiet network.
 */
export interface SourceStart {
  /** When the agent took that position (RFC 3339). */
  time: string;
  /**
   * end: the end of the table (only rows that arrive later); backfill: spec.source.backfill's
   * period before then; beginning: before every row.
   */
  from: 'end' | 'backfill' | 'beginning';
  /** spec.source.backfill, as the spec gives it, when set. */
  backfill?: string;
  /**
   * Rows before that position, of those this pod reads (its programs, devices and shard): never
   * analysed. Counted up to SKIPPED_ROWS_COUNTED; absent when they could not be counted.
   */
  rowsBefore?: number;
  /** There were more than rowsBefore. */
  rowsBeforeCapped?: boolean;
  /** The times of the newest of those rows and, when all were counted, the oldest (RFC 3339). */
  newestBefore?: string;
  oldestBefore?: string;
}

/** CPU and memory in use, each as a share of what the pod's cgroup (or the machine) allows. */
export interface Pressure {
  /** CPU used over the last period, as a share of what the cgroup (or machine) allows. */
  cpu: number;
  /** Memory in use, as a share of the limit. */
  memory: number;
}

/** How much the resource guard stretches the cycle interval, and why. */
export interface GuardState {
  stretch: number;
  reason?: string;
}

export interface FeatureDrift {
  /** The KS distance: the largest gap between the live and the training CDF, 0 to 1. */
  distance: number;
  pValue: number;
  drifted: boolean;
}

export interface DriftReport {
  /** Live windows the test saw. */
  windows: number;
  /** False until there are minWindows live windows. */
  judged: boolean;
  detected: boolean;
  drifted: string[];
  features: Record<string, FeatureDrift>;
}

export interface RulesState {
  /** Rules running now, and the packs they came from. */
  rules: number;
  packs: string[];
  /** How many times the rules have been replaced since the start. */
  reloads: number;
  /** Why the latest change was refused; unset once a change is accepted. */
  error?: string;
  /** spec.rules.suppressions in force now, and those past their expiry (ignored). */
  suppressions?: { active: number; expired: number };
}

/**
 * The store could not be read at the start (not a database, damaged, or written by a newer
 * edgewarden): it was moved aside, kept next to the new one, and a fresh store started.
 */
export interface StoreRecovery {
  /** When it was moved (RFC 3339). */
  recoveredAt: string;
  /** Corrupt: not a database, or damaged; NewerSchema: written by a newer edgewarden. */
  reason: 'Corrupt' | 'NewerSchema';
  /** What SQLite (or the schema check) said. */
  message: string;
  /** The moved file's name, in the data folder (its -wal and -shm, if any, beside it). */
  movedTo: string;
}

export interface AgentStatus {
  /** The analysis agent it runs (auth, dns, wifi, ...). */
  agent: string;
  /** The AnalysisAgent's name. */
  name: string;
  pod: string;
  ready: boolean;
  sourceReachable: boolean;
  sourceError?: string;
  paused: boolean;
  model?: ServedModel;
  cache?: { available: boolean; lastError?: string };
  /** The resource guard: pressure seen after the last cycle, and how much the interval is stretched. */
  resources: Pressure & GuardState;
  lastCycleTime?: string;
  linesAnalyzed: number;
  /** Where reading began on the first start, and the older rows left unread (not in older stores). */
  start?: SourceStart;
  anomalies: { total: number; last24h: number };
  /** Live features against the served model's training summary (when it has one). */
  drift?: DriftReport & { modelVersion: string };
  /** The detection rules in force, why the latest change to them was refused (if it was), and
   * the rules behind most anomalies of the last 24 hours. */
  rules: RulesState & { top: { rule: string; anomalies: number }[] };
  /** Set when this pod's start found the store unreadable and moved it aside. */
  store?: StoreRecovery;
}
