// A bound on the requests one route serves at once (issue 20, H3): each one in flight holds its
// body or its answer in memory until its client has read it, so slow clients in numbers could
// take the agent past its memory limit. Beyond the bound: 503 with Retry-After, body unread.
import type { NextFunction, Request, RequestHandler, Response } from 'express';

import { answerUnread } from './boundedBody.js';

/** Most requests one expensive route (GET /anomalies, PUT /model) serves at once. */
export const MAX_REQUESTS_IN_FLIGHT = 4;

/** Seconds a client refused for being one too many is told to wait. */
const RETRY_AFTER_SECONDS = 1;

/** Middleware letting at most `max` requests through at once; each counts until its answer ends. */
export function inFlightLimit(max = MAX_REQUESTS_IN_FLIGHT): RequestHandler {
  let inFlight = 0;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (inFlight >= max) {
      answerUnread(
        req,
        res,
        503,
        { reason: 'Busy', message: `at most ${max} such requests at once; retry` },
        { 'retry-after': String(RETRY_AFTER_SECONDS) },
      );
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    next();
  };
}
