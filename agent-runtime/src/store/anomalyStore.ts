// The local anomaly store of an agent pod (or of `edgewarden demo`): one SQLite file in WAL
// mode, with the design's anomalies table, schema migrations, de-duplication (a repeat of the
// same agent, device and type within the cooldown raises a count on the open or acknowledged
// anomaly instead of adding a row), the anomaly lifecycle (anomalyTriage.ts, alertLedger.ts), retention by age and by count, and watermarks saved in the same
// transaction as the anomalies they produced, so a restart neither repeats nor skips a line.
import Database from 'better-sqlite3';

import type { Anomaly } from '../agents/types.js';
import type { SourceStart } from '../contract/index.js';
import {
  pageQuery,
  storedAnomalyOf,
  type AnomalyFilter,
  type Row,
  type StoredAnomaly,
} from './anomalyQuery.js';
import { alertableAnomalies, markAlertsSent, markAnomalySilenced } from './alertLedger.js';
import {
  getAnomaly,
  setAnomalyStatus,
  triageCountsOf,
  type StatusChange,
  type StatusChangeResult,
} from './anomalyTriage.js';
import { checkIntegrity, migrate } from './migrations.js';

export type { AnomalyFilter, StoredAnomaly } from './anomalyQuery.js';
export type { StatusChange, StatusChangeResult } from './anomalyTriage.js';

export interface StoreOptions {
  /** Repeats of an open or acknowledged anomaly within this many ms are counted on it, not stored anew. */
  cooldownMs: number;
  /** Anomalies older than this are deleted by prune(). */
  retentionMs: number;
  /** At most this many rows are kept; prune() deletes the oldest beyond it. */
  maxRows: number;
}

const EVIDENCE_KEPT = 100;

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
    try {
      this.db.pragma('journal_mode = WAL'); // a file that is not a database fails here
      this.db.pragma('synchronous = NORMAL'); // WAL + NORMAL: durable across process crashes
      this.db.pragma('busy_timeout = 5000');
      checkIntegrity(this.db, path);
      migrate(this.db, path);
    } catch (error) {
      this.db.close(); // a store that cannot be opened is not held open (it may be moved aside)
      throw error;
    }
    this.findOpen = this.db.prepare(
      `SELECT id, severity, evidence, features FROM anomalies
       WHERE agent_name = ? AND device_id = ? AND anomaly_type = ?
         AND status IN ('open', 'acknowledged') AND last_seen >= ?
       ORDER BY last_seen DESC LIMIT 1`,
    );
    this.insert = this.db.prepare(
      `INSERT INTO anomalies (agent_name, device_id, timestamp, anomaly_type, severity, confidence, score,
         description, features, evidence, window_start, window_end, last_seen, created_at, updated_at,
         rule, remediation, captures)
       VALUES (@agent, @device, @timestamp, @type, @severity, @confidence, @score, @description, @features,
         @evidence, @windowStart, @windowEnd, @timestamp, @now, @now, @rule, @remediation, @captures)`,
    );
    this.bump = this.db.prepare(
      `UPDATE anomalies SET occurrences = occurrences + 1, last_seen = @timestamp, window_end = @windowEnd,
         severity = MAX(severity, @severity), confidence = MAX(confidence, @confidence), score = MAX(score, @score),
         description = @description, features = @features, evidence = @evidence, updated_at = @now, synced = 0,
         rule = COALESCE(@rule, rule), remediation = COALESCE(@remediation, remediation),
         captures = COALESCE(@captures, captures)
       WHERE id = @id`,
    );
    this.saveWatermark = this.db.prepare(
      `INSERT INTO watermarks (source, value, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    );
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
          captures: a.captures ? JSON.stringify(a.captures) : null,
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
      if (watermark)
        this.saveSourceState(watermark, now, anomalies.length, cycle, engineState, devices);
    })();
    return { added, repeated };
  }

  /**
   * What goes with a cycle's watermark, in its transaction: the watermark, the cycle's line
   * count, the engine's state, and the newest line of each device.
   */
  private saveSourceState(
    watermark: { source: string; value: string },
    now: string,
    anomalies: number,
    cycle: { startedAt: string; lines: number } | undefined,
    engineState: unknown,
    devices: ReadonlyMap<string, number> | undefined,
  ): void {
    this.saveWatermark.run(watermark.source, watermark.value, now);
    if (cycle)
      this.db
        .prepare(
          'INSERT INTO cycles (source, started_at, finished_at, lines, anomalies, watermark) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(watermark.source, cycle.startedAt, now, cycle.lines, anomalies, watermark.value);
    if (engineState !== undefined)
      this.db
        .prepare(
          `INSERT INTO engine_state (source, state, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (source) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
        )
        .run(watermark.source, JSON.stringify(engineState), now);
    if (devices?.size) {
      const upsert = this.db.prepare(
        `INSERT INTO devices (source, device, last_line_ms) VALUES (?, ?, ?)
         ON CONFLICT (source, device) DO UPDATE SET last_line_ms = MAX(last_line_ms, excluded.last_line_ms)`,
      );
      for (const [device, ms] of devices) upsert.run(watermark.source, device, ms);
    }
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
    const { sql, params } = pageQuery(filter);
    return (this.db.prepare(sql).all(params) as Row[]).map(storedAnomalyOf);
  }

  /** One anomaly by id; undefined when there is none (never was, or pruned). */
  get(id: number): StoredAnomaly | undefined {
    return getAnomaly(this.db, id);
  }

  /** Changes an anomaly's status as the lifecycle allows (404 unknown id, 409 not allowed). */
  setStatus(id: number, change: StatusChange, now = new Date()): StatusChangeResult {
    return setAnomalyStatus(this.db, id, change, now);
  }

  /** Anomalies since `since` by rule and status (for edgewarden_rule_anomalies). */
  triageCounts(since: Date): { rule: string; status: string; anomalies: number }[] {
    return triageCountsOf(this.db, since);
  }

  /**
   * Anomalies to send to Alertmanager: open or acknowledged (seen since `seenSince`, when
   * given), or last sent firing; oldest first.
   */
  alertable(minSeverity: number, limit = 500, seenSince?: string): StoredAnomaly[] {
    return alertableAnomalies(this.db, minSeverity, limit, seenSince);
  }

  /** Records what was sent to Alertmanager for `ids` (one transaction). */
  markAlerts(ids: number[], state: 'firing' | 'resolved', endsAt: string): void {
    markAlertsSent(this.db, ids, state, endsAt);
  }

  /** An Alertmanager silence matches the anomaly: open or acknowledged becomes suppressed. */
  markSilenced(id: number, silenceIds: string[], now = new Date()): void {
    markAnomalySilenced(this.db, id, silenceIds, now);
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
