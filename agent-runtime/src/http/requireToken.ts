// The API's token checks as Express middleware (issue 20, H2): decided from the headers alone,
// before the route does any work or reads a byte of a body (refused bodies are discarded
// unread, as boundedBody.ts does for H3).
import type { NextFunction, Request, RequestHandler, Response } from 'express';

import { answerUnread } from './boundedBody.js';
import {
  checkNotReadToken,
  checkReadAccess,
  checkTriageAccess,
  presentedToken,
  readNeedsToken,
  type AccessAnswer,
  type ApiAccess,
} from './tokens.js';

function answer(req: Request, res: Response, next: NextFunction, result: AccessAnswer): void {
  if (result.ok) return next();
  const challenge = result.code === 401 ? { 'www-authenticate': 'Bearer' } : undefined;
  answerUnread(req, res, result.code, result.body, challenge);
}

/**
 * A read route: lets through the read or the control token. An agent opted out
 * (EDGEWARDEN_API_AUTH=none) lets everyone through; /metrics (`metrics`) needs a token only
 * when the agent was told so (EDGEWARDEN_METRICS_AUTH=token).
 */
export function requireReadToken(
  access: ApiAccess,
  options: { metrics?: boolean } = {},
): RequestHandler {
  return (req, res, next) => {
    if (!readNeedsToken(access, options.metrics)) return next();
    answer(req, res, next, checkReadAccess(access, presentedToken(req.headers)));
  };
}

/** The triage route (POST /anomalies/:id/status): the triage or the control token, nothing else. */
export function requireTriageToken(access: ApiAccess): RequestHandler {
  return (req, res, next) =>
    answer(req, res, next, checkTriageAccess(access, presentedToken(req.headers)));
}

/** A control route: refuses the read token; the route checks the control token itself. */
export function refuseReadToken(access: ApiAccess): RequestHandler {
  return (req, res, next) =>
    answer(req, res, next, checkNotReadToken(access, presentedToken(req.headers)));
}

/**
 * The request's token as an Authorization header value, from whichever header carried it: the
 * form the model delivery's own check reads.
 */
export function bearerOf(req: Request): string | undefined {
  const token = presentedToken(req.headers);
  return token === undefined ? undefined : `Bearer ${token}`;
}
