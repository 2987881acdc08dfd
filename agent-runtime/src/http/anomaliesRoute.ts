// GET /anomalies, as every server of it answers (a running agent, `edgewarden demo --serve`):
// the query checked, at most ANOMALY_PAGE_LIMIT anomalies, the order served and, when the page
// is full, the cursor of the next page in headers. The JSON array is written a slice at a time,
// each slice when the client has taken the previous one, not built as one string.
import type { Request, RequestHandler, Response } from 'express';

import type { AnomalyFilter, StoredAnomaly } from '../store/anomalyQuery.js';
import {
  ANOMALY_NEXT_HEADER,
  ANOMALY_ORDER_HEADER,
  anomalyCursor,
  parseAnomalyQuery,
} from './anomalyQuery.js';

/** Bytes of JSON written at once. */
const SLICE_BYTES = 64 * 1024;

export interface AnomalyLister {
  list(filter: AnomalyFilter): StoredAnomaly[];
}

export function serveAnomalies(store: AnomalyLister): RequestHandler {
  return (req: Request, res: Response): void => {
    const q = parseAnomalyQuery(req.query);
    if (!q.ok) return void res.status(400).json({ error: q.error });
    const rows = store.list(q);
    res.set(ANOMALY_ORDER_HEADER, q.order);
    if (rows.length === q.limit) res.set(ANOMALY_NEXT_HEADER, anomalyCursor(rows.at(-1)!));
    void writeJsonArray(res, rows);
  };
}

/** `rows` as one JSON array, a slice at a time, waiting for the client between slices. */
async function writeJsonArray(res: Response, rows: unknown[]): Promise<void> {
  res.status(200).type('application/json');
  let slice = '[';
  for (let i = 0; i < rows.length; i++) {
    slice += (i ? ',' : '') + JSON.stringify(rows[i]);
    if (slice.length < SLICE_BYTES) continue;
    if (!res.write(slice) && !(await drained(res))) return;
    slice = '';
  }
  res.end(`${slice}]`);
}

/** Whether the client took what was written (false: it went away). */
function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => (): void => {
      res.off('drain', onDrain).off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain).once('close', onClose);
  });
}
