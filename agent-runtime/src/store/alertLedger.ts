// What the store remembers of Alertmanager (issue 21): which anomalies still need an alert sent
// (firing or resolved), what was last sent for each, and the silences that suppress them.
import type Database from 'better-sqlite3';

import { storedAnomalyOf, type Row, type StoredAnomaly } from './anomalyQuery.js';

/**
 * Anomalies at or above `minSeverity` that are open or acknowledged (their alert fires), or
 * whose alert was last sent firing (it must be resolved), oldest first. With `seenSince`, an
 * open or acknowledged one last seen before it is left out unless its alert fires: it went
 * stale (resolveAfter) and was resolved once, and must not crowd newer ones out of `limit`.
 */
export function alertableAnomalies(
  db: Database.Database,
  minSeverity: number,
  limit: number,
  seenSince = '',
): StoredAnomaly[] {
  const rows = db
    .prepare(
      `SELECT * FROM anomalies WHERE severity >= ?
         AND (alert_state = 'firing' OR (status IN ('open', 'acknowledged') AND last_seen >= ?))
       ORDER BY timestamp ASC, id ASC LIMIT ?`,
    )
    .all(minSeverity, seenSince, limit) as Row[];
  return rows.map(storedAnomalyOf);
}

/** Records that alerts for `ids` were sent as `state`, ending at `endsAt`, in one transaction. */
export function markAlertsSent(
  db: Database.Database,
  ids: readonly number[],
  state: 'firing' | 'resolved',
  endsAt: string,
): void {
  const update = db.prepare('UPDATE anomalies SET alert_state = ?, alert_ends_at = ? WHERE id = ?');
  db.transaction(() => {
    for (const id of ids) update.run(state, endsAt, id);
  })();
}

/**
 * An Alertmanager silence matches anomaly `id`'s alert: it becomes suppressed, saying by which
 * silences. Only an open or acknowledged anomaly is; any other status is the user's and stays.
 */
export function markAnomalySilenced(
  db: Database.Database,
  id: number,
  silenceIds: readonly string[],
  now: Date,
): void {
  const at = now.toISOString();
  db.prepare(
    `UPDATE anomalies SET status = 'suppressed', resolution_notes = ?, status_by = 'alertmanager',
       status_at = ?, updated_at = ? WHERE id = ? AND status IN ('open', 'acknowledged')`,
  ).run(`silenced in Alertmanager by ${silenceIds.join(', ')}`, at, at, id);
}
