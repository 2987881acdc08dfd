// GET /anomalies/:id and POST /anomalies/:id/status (issue 21): one anomaly, and changing its
// status as the lifecycle allows (store/anomalyStatus.ts). The token is checked before these
// run (requireToken.ts); the body is read only up to MAX_STATUS_BODY_BYTES and checked before
// the store is touched. Refusals are {reason, message}.
import type { Request, RequestHandler, Response } from 'express';

import type { StoredAnomaly } from '../store/anomalyQuery.js';
import type { StatusChange, StatusChangeResult } from '../store/anomalyTriage.js';
import { anomalyIdOf, MAX_STATUS_BODY_BYTES, parseStatusChange } from './anomalyStatusBody.js';
import { answerUnread, readJsonBody } from './boundedBody.js';

export interface AnomalyReader {
  get(id: number): StoredAnomaly | undefined;
}

export interface AnomalyTriage extends AnomalyReader {
  setStatus(id: number, change: StatusChange): StatusChangeResult;
}

const notFound = (id: string) => ({ reason: 'NotFound', message: `no anomaly ${id}` });

/** GET /anomalies/:id: the anomaly, or 404. */
export function serveAnomaly(store: AnomalyReader): RequestHandler {
  return (req: Request, res: Response): void => {
    const text = String(req.params.id);
    const id = anomalyIdOf(text);
    const anomaly = id === undefined ? undefined : store.get(id);
    if (anomaly === undefined) return void res.status(404).json(notFound(text));
    res.json(anomaly);
  };
}

/** POST /anomalies/:id/status: 200 with the updated anomaly; 400, 404, 409 or 413 otherwise. */
export function serveStatusChange(store: AnomalyTriage): RequestHandler {
  return async (req: Request, res: Response): Promise<void> => {
    const text = String(req.params.id);
    const id = anomalyIdOf(text);
    if (id === undefined) return answerUnread(req, res, 404, notFound(text));
    const body = await readJsonBody(req, MAX_STATUS_BODY_BYTES);
    if (!body.ok) {
      const reason = body.code === 400 ? 'InvalidBody' : body.reason;
      return answerUnread(req, res, body.code, { reason, message: body.message });
    }
    const parsed = parseStatusChange(body.value);
    if (!parsed.ok)
      return void res.status(400).json({ reason: 'InvalidBody', message: parsed.message });
    const result = store.setStatus(id, parsed.change);
    if (!result.ok)
      return void res.status(result.code).json({ reason: result.reason, message: result.message });
    res.json(result.anomaly);
  };
}
