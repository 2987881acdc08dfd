// Reading one anomaly and changing its status (issue 21): what GET /anomalies/:id and
// POST /anomalies/:id/status do to the store, and the per-rule counts the metrics publish.
import type Database from 'better-sqlite3';

import { storedAnomalyOf, type Row, type StoredAnomaly } from './anomalyQuery.js';
import { allowedTargets, transitionAllowed, type AnomalyStatus } from './anomalyStatus.js';

export interface StatusChange {
  status: AnomalyStatus;
  /** Replaces the note; a change to another status without one clears it (it explained the old). */
  note?: string;
  /** Who made the change. */
  by?: string;
}

export type StatusChangeResult =
  | { ok: true; anomaly: StoredAnomaly }
  | {
      ok: false;
      code: 404 | 409;
      reason: 'NotFound' | 'InvalidTransition';
      message: string;
    };

export function getAnomaly(db: Database.Database, id: number): StoredAnomaly | undefined {
  const row = db.prepare('SELECT * FROM anomalies WHERE id = ?').get(id) as Row | undefined;
  return row === undefined ? undefined : storedAnomalyOf(row);
}

/**
 * Sets anomaly `id`'s status, note, who and when, if the lifecycle allows it (anomalyStatus.ts).
 * Setting the status it already has changes nothing but the note, when one is given.
 */
export function setAnomalyStatus(
  db: Database.Database,
  id: number,
  change: StatusChange,
  now: Date,
): StatusChangeResult {
  return db.transaction((): StatusChangeResult => {
    const current = getAnomaly(db, id);
    if (current === undefined)
      return { ok: false, code: 404, reason: 'NotFound', message: `no anomaly ${id}` };
    const at = now.toISOString();
    if (current.status === change.status) {
      if (change.note !== undefined)
        db.prepare('UPDATE anomalies SET resolution_notes = ?, updated_at = ? WHERE id = ?').run(
          change.note,
          at,
          id,
        );
      return { ok: true, anomaly: getAnomaly(db, id)! };
    }
    if (!transitionAllowed(current.status, change.status)) {
      const allowed = allowedTargets(current.status).join(', ');
      return {
        ok: false,
        code: 409,
        reason: 'InvalidTransition',
        message: `anomaly ${id} is ${current.status}: it can become ${allowed}, not ${change.status}`,
      };
    }
    db.prepare(
      `UPDATE anomalies SET status = @status, resolution_notes = @note, status_by = @by,
         status_at = @at, updated_at = @at WHERE id = @id`,
    ).run({ status: change.status, note: change.note ?? null, by: change.by ?? null, at, id });
    return { ok: true, anomaly: getAnomaly(db, id)! };
  })();
}

/** Anomalies of each rule and status whose time is at or after `since` (rule-less ones left out). */
export function triageCountsOf(
  db: Database.Database,
  since: Date,
): { rule: string; status: string; anomalies: number }[] {
  return db
    .prepare(
      `SELECT rule, status, COUNT(*) AS anomalies FROM anomalies
       WHERE rule IS NOT NULL AND timestamp >= ? GROUP BY rule, status ORDER BY rule, status`,
    )
    .all(since.toISOString()) as { rule: string; status: string; anomalies: number }[];
}
