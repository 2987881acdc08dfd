// The local anomaly store of an agent pod (or of `edgewarden demo`): one SQLite file in WAL
// mode, with the design's anomalies table, schema migrations, de-duplication (a repeat of the
// same agent, device and type within the cooldown raises a count on the open anomaly instead
// of adding a row), retention by age and by count, and watermarks saved in the same
// transaction as the anomalies they produced, so a restart neither repeats nor skips a line.
import Database from 'better-sqlite3';

import type { Anomaly } from '../agents/types.js';
import type { SourceStart } from '../contract/index.js';

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
];

export interface StoreOptions {
  /** Repeats of an open anomaly within this many ms are counted on it, not stored anew. */
  cooldownMs: number;
  /** Anomalies older than this are deleted by prune(). */
  retentionMs: number;
  /** At most this many rows are kept; prune() deletes the oldest beyond it. */
  maxRows: number;
}

export interface StoredAnomaly extends Anomaly {
  id: number;
  /** The anomaly's time in the store (its first window's end): what list() orders and pages by. */
  timestamp: string;
  occurrences: number;
  lastSeen: string;
  status: string;
}

interface Row {
  id: number;
  timestamp: string;
  agent_name: string;
  device_id: string;
  anomaly_type: string;
  severity: number;
  confidence: number;
  score: number;
  description: string;
  features: string;
  evidence: string;
  window_start: string;
  window_end: string;
  occurrences: number;
  last_seen: string;
  status: string;
  rule: string | null;
  remediation: string | null;
}

const EVIDENCE_KEPT = 100;

export interface AnomalyFilter {
  /** Inclusive lower bound of the anomaly's timestamp (RFC 3339 UTC, as stored). */
  since?: string;
  /** Exclusive upper bound. */
  until?: string;
  minSeverity?: number;
  limit?: number;
  /** Newest first (the default) or oldest first. */
  order?: 'asc' | 'desc';
  /** Continue after this anomaly (in the chosen order). */
  after?: { timestamp: string; id: number };
}

export class AnomalyStore {
  private readonly db: Database.Database;
  private readonly findOpen: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly bump: Database.Statement;
  private readonly saveWatermark: Database.Statement;

  constructor(
    readonly path: string,
    private readonly options: StoreOptions,
  ) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across process crashes
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.findOpen = this.db.prepare(
      `SELECT id, severity, evidence, features FROM anomalies
       WHERE agent_name = ? AND device_id = ? AND anomaly_type = ? AND status = 'open' AND last_seen >= ?
       ORDER BY last_seen DESC LIMIT 1`,
    );
    this.insert = this.db.prepare(
      `INSERT INTO anomalies (agent_name, device_id, timestamp, anomaly_type, severity, confidence, score,
         description, features, evidence, window_start, window_end, last_seen, created_at, updated_at,
         rule, remediation)
       VALUES (@agent, @device, @timestamp, @type, @severity, @confidence, @score, @description, @features,
         @evidence, @windowStart, @windowEnd, @timestamp, @now, @now, @rule, @remediation)`,
    );
    this.bump = this.db.prepare(
      `UPDATE anomalies SET occurrences = occurrences + 1, last_seen = @timestamp, window_end = @windowEnd,
         severity = MAX(severity, @severity), confidence = MAX(confidence, @confidence), score = MAX(score, @score),
         description = @description, features = @features, evidence = @evidence, updated_at = @now, synced = 0,
         rule = COALESCE(@rule, rule), remediation = COALESCE(@remediation, remediation)
       WHERE id = @id`,
    );
    this.saveWatermark = this.db.prepare(
      `INSERT INTO watermarks (source, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length)
      throw new Error(
        `${this.path} has schema version ${version}, newer than this edgewarden knows (${MIGRATIONS.length})`,
      );
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  /**
   * Stores one cycle's anomalies and, in the same transaction, the watermark of the source
   * lines they came from. Returns how many rows were added and how many repeats were counted.
   */
  record(
    anomalies: readonly Anomaly[],
    watermark?: { source: string; value: string },
    cycle?: { startedAt: string; lines: number },
    engineState?: unknown,
    /** The newest line read from each device in this cycle (ms since the epoch). */
    devices?: ReadonlyMap<string, number>,
  ): { added: number; repeated: number } {
    const now = new Date().toISOString();
    let added = 0;
    let repeated = 0;
    this.db.transaction(() => {
      for (const a of anomalies) {
        // The anomaly's own time is the end of its window: replaying old logs de-duplicates by log time.
        const timestamp = a.windowEnd;
        const since = new Date(Date.parse(timestamp) - this.options.cooldownMs).toISOString();
        const open = this.findOpen.get(a.agent, a.device, a.type, since) as
          { id: number; evidence: string } | undefined;
        const fields = {
          timestamp,
          severity: a.severity,
          confidence: a.confidence,
          score: a.score,
          description: a.description,
          features: JSON.stringify(a.features),
          windowEnd: a.windowEnd,
          now,
          rule: a.rule ?? null,
          remediation: a.remediation ?? null,
        };
        if (open) {
          const evidence = [...(JSON.parse(open.evidence) as unknown[]), ...a.evidence].slice(
            0,
            EVIDENCE_KEPT,
          );
          this.bump.run({ ...fields, evidence: JSON.stringify(evidence), id: open.id });
          repeated++;
        } else {
          this.insert.run({
            ...fields,
            agent: a.agent,
            device: a.device,
            type: a.type,
            evidence: JSON.stringify(a.evidence.slice(0, EVIDENCE_KEPT)),
            windowStart: a.windowStart,
          });
          added++;
        }
      }
      if (watermark) this.saveWatermark.run(watermark.source, watermark.value, now);
      if (watermark && cycle)
        this.db
          .prepare(
            'INSERT INTO cycles (source, started_at, finished_at, lines, anomalies, watermark) VALUES (?, ?, ?, ?, ?, ?)',
          )
          .run(
            watermark.source,
            cycle.startedAt,
            now,
            cycle.lines,
            anomalies.length,
            watermark.value,
          );
      if (watermark && engineState !== undefined)
        this.db
          .prepare(
            `INSERT INTO engine_state (source, state, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (source) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
          )
          .run(watermark.source, JSON.stringify(engineState), now);
      if (watermark && devices?.size) {
        const upsert = this.db.prepare(
          `INSERT INTO devices (source, device, last_line_ms) VALUES (?, ?, ?)
           ON CONFLICT (source, device) DO UPDATE SET last_line_ms = MAX(last_line_ms, excluded.last_line_ms)`,
        );
        for (const [device, ms] of devices) upsert.run(watermark.source, device, ms);
      }
    })();
    return { added, repeated };
  }

  /** Lines analysed over all committed cycles of a source, and how many cycles. */
  cycleTotals(source: string): { cycles: number; lines: number } {
    const row = this.db
      .prepare(
        'SELECT COUNT(*) AS cycles, COALESCE(SUM(lines), 0) AS lines FROM cycles WHERE source = ?',
      )
      .get(source) as {
      cycles: number;
      lines: number;
    };
    return row;
  }

  /** The engine state saved with the source's last cycle, parsed; undefined if none. */
  engineState(source: string): unknown {
    const row = this.db.prepare('SELECT state FROM engine_state WHERE source = ?').get(source) as
      { state: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.state) as unknown);
  }

  /** The newest line read from each device of a source (ms since the epoch), by device. */
  devices(source: string): Map<string, number> {
    const rows = this.db
      .prepare('SELECT device, last_line_ms FROM devices WHERE source = ?')
      .all(source) as { device: string; last_line_ms: number }[];
    return new Map(rows.map((r) => [r.device, r.last_line_ms]));
  }

  /** Records where reading `source` began (its first start); replaced only by another first start. */
  recordStart(source: string, start: SourceStart): void {
    this.db
      .prepare(
        `INSERT INTO source_start (source, start) VALUES (?, ?)
         ON CONFLICT (source) DO UPDATE SET start = excluded.start`,
      )
      .run(source, JSON.stringify(start));
  }

  /** Where reading `source` began; undefined for a store made before this was kept. */
  sourceStart(source: string): SourceStart | undefined {
    const row = this.db.prepare('SELECT start FROM source_start WHERE source = ?').get(source) as
      { start: string } | undefined;
    return row === undefined ? undefined : (JSON.parse(row.start) as SourceStart);
  }

  watermark(source: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM watermarks WHERE source = ?').get(source) as
      { value: string } | undefined;
    return row?.value;
  }

  /**
   * Anomalies with timestamp in [since, until), at least minSeverity; newest first, or oldest
   * first with order 'asc'. `after` is a keyset cursor (the timestamp and id of the last
   * anomaly of the previous page): the page continues strictly after it in the chosen order,
   * so paging neither skips nor repeats a row while new ones are added.
   */
  list(filter: AnomalyFilter = {}): StoredAnomaly[] {
    const asc = filter.order === 'asc';
    const where = ['timestamp >= @since', 'severity >= @minSeverity'];
    const params: Record<string, string | number> = {
      since: filter.since ?? '',
      minSeverity: filter.minSeverity ?? 1,
      limit: filter.limit ?? 1000,
    };
    if (filter.until !== undefined) {
      where.push('timestamp < @until');
      params.until = filter.until;
    }
    if (filter.after !== undefined) {
      where.push(
        asc
          ? '(timestamp > @afterTime OR (timestamp = @afterTime AND id > @afterId))'
          : '(timestamp < @afterTime OR (timestamp = @afterTime AND id < @afterId))',
      );
      params.afterTime = filter.after.timestamp;
      params.afterId = filter.after.id;
    }
    const dir = asc ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(
        `SELECT * FROM anomalies WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, id ${dir} LIMIT @limit`,
      )
      .all(params) as Row[];
    return rows.map((r) => ({
      id: r.id,
      timestamp: r.timestamp,
      agent: r.agent_name as Anomaly['agent'],
      device: r.device_id,
      type: r.anomaly_type,
      severity: r.severity as Anomaly['severity'],
      confidence: r.confidence,
      score: r.score,
      description: r.description,
      features: JSON.parse(r.features) as Record<string, number>,
      evidence: JSON.parse(r.evidence) as (number | string)[],
      windowStart: r.window_start,
      windowEnd: r.window_end,
      occurrences: r.occurrences,
      lastSeen: r.last_seen,
      status: r.status,
      ...(r.rule === null ? {} : { rule: r.rule }),
      ...(r.remediation === null ? {} : { remediation: r.remediation }),
    }));
  }

  /** The rules behind most anomalies of the 24 hours before `now`, most first. */
  topRules(now = new Date(), limit = 5): { rule: string; anomalies: number }[] {
    const since = new Date(now.getTime() - 86_400_000).toISOString();
    return this.db
      .prepare(
        `SELECT rule, COUNT(*) AS anomalies FROM anomalies WHERE rule IS NOT NULL AND timestamp >= ?
         GROUP BY rule ORDER BY anomalies DESC, rule LIMIT ?`,
      )
      .all(since, limit) as { rule: string; anomalies: number }[];
  }

  /** Total anomalies, and those whose time is within the 24 hours before `now`. */
  counts(now = new Date()): { total: number; last24h: number } {
    const since = new Date(now.getTime() - 86_400_000).toISOString();
    const row = this.db
      .prepare(
        'SELECT COUNT(*) AS total, SUM(CASE WHEN timestamp >= ? THEN 1 ELSE 0 END) AS last24h FROM anomalies',
      )
      .get(since) as { total: number; last24h: number | null };
    return { total: row.total, last24h: row.last24h ?? 0 };
  }

  /** Deletes anomalies past the retention age, then the oldest beyond the row limit. */
  prune(now = new Date()): number {
    const cutoff = new Date(now.getTime() - this.options.retentionMs).toISOString();
    const old = this.db.prepare('DELETE FROM anomalies WHERE timestamp < ?').run(cutoff).changes;
    const extra = this.db
      .prepare(
        `DELETE FROM anomalies WHERE id IN (
           SELECT id FROM anomalies ORDER BY timestamp DESC, id DESC LIMIT -1 OFFSET ?)`,
      )
      .run(this.options.maxRows).changes;
    // A device silent for longer than the retention is forgotten (it was removed, or renamed).
    this.db.prepare('DELETE FROM devices WHERE last_line_ms < ?').run(Date.parse(cutoff));
    return old + extra;
  }

  close(): void {
    this.db.close();
  }
}
