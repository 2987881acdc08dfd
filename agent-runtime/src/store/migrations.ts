// The anomaly store's schema, one migration a version, applied at open.
import type Database from 'better-sqlite3';

/** Each entry upgrades the schema by one version (PRAGMA user_version). Never edit a shipped one. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE anomalies (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     agent_name TEXT NOT NULL,
     device_id TEXT NOT NULL,
     timestamp TEXT NOT NULL,
     anomaly_type TEXT NOT NULL,
     severity INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 5),
     confidence REAL NOT NULL,
     score REAL NOT NULL,
     description TEXT NOT NULL,
     features TEXT NOT NULL,
     evidence TEXT NOT NULL,
     window_start TEXT NOT NULL,
     window_end TEXT NOT NULL,
     occurrences INTEGER NOT NULL DEFAULT 1,
     last_seen TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'open',
     synced INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     resolution_status TEXT,
     resolution_notes TEXT
   );
   CREATE INDEX anomalies_open ON anomalies (agent_name, device_id, anomaly_type, status, last_seen);
   CREATE INDEX anomalies_time ON anomalies (timestamp);
   CREATE TABLE watermarks (
     source TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
  // One row per committed analysis cycle, written with its anomalies and watermark: the sum of
  // lines over cycles is what was analysed, each line once.
  `CREATE TABLE cycles (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     source TEXT NOT NULL,
     started_at TEXT NOT NULL,
     finished_at TEXT NOT NULL,
     lines INTEGER NOT NULL,
     anomalies INTEGER NOT NULL,
     watermark TEXT NOT NULL
   );`,
  // What the analysis engine has learned (baselines, sources seen, templates), as JSON, saved
  // with the watermark so a restarted agent neither forgets nor relearns.
  `CREATE TABLE engine_state (
     source TEXT PRIMARY KEY,
     state TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );`,
  // The newest line read from each device, saved with the watermark: a restarted agent still
  // knows (and reports) which devices have gone silent, and since when.
  `CREATE TABLE devices (
     source TEXT NOT NULL,
     device TEXT NOT NULL,
     last_line_ms INTEGER NOT NULL,
     PRIMARY KEY (source, device)
   );`,
  // Where the agent began reading a source on its first start, and the rows it left behind
  // (contract SourceStart, as JSON): /status reports it for as long as the store lives.
  `CREATE TABLE source_start (
     source TEXT PRIMARY KEY,
     start TEXT NOT NULL
   );`,
  // The detection rule behind an anomaly and what to do about it (docs/rules.md); null for
  // findings of an agent's own code and for rows stored before rules existed.
  `ALTER TABLE anomalies ADD COLUMN rule TEXT;
   ALTER TABLE anomalies ADD COLUMN remediation TEXT`,
  // The anomaly's lifecycle (issue 21): who set its status and when (the note goes in the
  // resolution_notes column version 1 made), the rule's captures as JSON, and what was last sent
  // to Alertmanager for it. Existing rows stay 'open', with none of these.
  `ALTER TABLE anomalies ADD COLUMN status_by TEXT;
   ALTER TABLE anomalies ADD COLUMN status_at TEXT;
   ALTER TABLE anomalies ADD COLUMN captures TEXT;
   ALTER TABLE anomalies ADD COLUMN alert_state TEXT;
   ALTER TABLE anomalies ADD COLUMN alert_ends_at TEXT;
   CREATE INDEX anomalies_status ON anomalies (status, severity)`,
];

/** The store was written by a newer edgewarden: this one cannot read it, and must not overwrite it. */
export class NewerSchemaError extends Error {
  readonly code = 'NEWER_SCHEMA';
  constructor(
    readonly path: string,
    readonly version: number,
    readonly known: number,
  ) {
    super(`${path} has schema version ${version}, newer than this edgewarden knows (${known})`);
    this.name = 'NewerSchemaError';
  }
}

/** SQLite found the store damaged (its pages, not its schema): what SQLite itself would say. */
export class CorruptStoreError extends Error {
  readonly code = 'SQLITE_CORRUPT';
  constructor(path: string, problem: string) {
    super(`${path}: database disk image is malformed (${problem})`);
    this.name = 'CorruptStoreError';
  }
}

/**
 * SQLite's quick check of every page (a second or so for the largest store): a damaged store
 * is found at the start, not by a cycle that fails for ever on the page it needs.
 */
export function checkIntegrity(db: Database.Database, path: string): void {
  const result = db.pragma('quick_check(1)', { simple: true }) as string;
  if (result !== 'ok') throw new CorruptStoreError(path, result);
}

/**
 * Brings the store at `path` up to the newest schema, one version a transaction; refuses a
 * store written by a newer edgewarden.
 */
export function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) throw new NewerSchemaError(path, version, MIGRATIONS.length);
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
