// Who may use the agent's HTTP API (issue 20, H2; issue 21). Three tokens, all derived by the
// operator from its control key and the agent's uid; the pod is given only their SHA-256
// digests: the control token (every route: the operator's GET /status, PUT and DELETE /model),
// the read token (GET /status and GET /anomalies[/:id] only: export pods, users) and the triage
// token (the read routes and POST /anomalies/:id/status: users who triage). A token travels as
// `Authorization: Bearer <token>` or in X-Edgewarden-Token, which the API server's pod and
// service proxy passes on (it strips Authorization). Decided from the headers alone, before
// any work. Digests are compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

import { agentEnv } from '../contract/index.js';

/** The header a token may travel in besides Authorization (lower case, as Node gives headers). */
export const TOKEN_HEADER = 'x-edgewarden-token';

/** The API's protection, as the agent was started with it. */
export interface ApiAccess {
  /** Hex SHA-256 of the control token; unset: no request is the operator's. */
  controlSha256?: string;
  /** Hex SHA-256 of the read token. */
  readSha256?: string;
  /** Hex SHA-256 of the triage token (issue 21). */
  triageSha256?: string;
  /**
   * The read routes (and /metrics) need no token: the explicit opt-out of a hand-run agent
   * (EDGEWARDEN_API_AUTH=none). Mutating routes need the control token all the same.
   */
  open?: boolean;
  /** /metrics needs the read or the control token (EDGEWARDEN_METRICS_AUTH=token). */
  metricsNeedToken?: boolean;
}

export type AccessAnswer =
  { ok: true } | { ok: false; code: 401 | 403; body: { reason: string; message: string } };

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** The token a request presents: its bearer token, else its X-Edgewarden-Token. */
export function presentedToken(headers: Headers): string | undefined {
  const single = (v: string | string[] | undefined): string | undefined =>
    Array.isArray(v) ? v[0] : v;
  const bearer = /^Bearer (\S+)$/.exec(single(headers.authorization) ?? '')?.[1];
  if (bearer !== undefined) return bearer;
  const header = single(headers[TOKEN_HEADER])?.trim();
  return header ? header : undefined;
}

/** The hex SHA-256 of a token: what the pod's environment holds instead of the token. */
function digestOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Whether `token` is the one whose hex SHA-256 is `expectedSha256`, in constant time. */
export function tokenMatches(
  token: string | undefined,
  expectedSha256: string | undefined,
): boolean {
  if (token === undefined || !expectedSha256) return false;
  const given = digestOf(token);
  const expected = Buffer.from(expectedSha256, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Whether an Authorization header carries the token whose digest is `expectedSha256`. */
export function authorized(header: string | undefined, expectedSha256: string): boolean {
  return tokenMatches(presentedToken({ authorization: header }), expectedSha256);
}

const unconfigured = `this agent was started without ${agentEnv.controlTokenSha256} or ${agentEnv.readTokenSha256}`;

/** The answer to a request without a token. */
function missingToken(configured: boolean): AccessAnswer {
  return refusal(
    401,
    'Unauthorized',
    configured
      ? `a token is required (Authorization: Bearer, or ${TOKEN_HEADER})`
      : `a token is required, and ${unconfigured}`,
  );
}

/**
 * Whether a request presenting `token` may use a read route (GET /status, /anomalies; /metrics
 * when it needs a token): 401 without a token, 403 with one that is neither the read, the
 * triage nor the control token. An agent with no digest configured refuses every token (fails
 * closed) and says why.
 */
export function checkReadAccess(access: ApiAccess, token: string | undefined): AccessAnswer {
  const configured = Boolean(access.controlSha256 || access.readSha256 || access.triageSha256);
  if (token === undefined) return missingToken(configured);
  if (
    tokenMatches(token, access.controlSha256) ||
    tokenMatches(token, access.readSha256) ||
    tokenMatches(token, access.triageSha256)
  )
    return { ok: true };
  return refusal(403, 'Forbidden', configured ? 'the token is not valid here' : unconfigured);
}

/**
 * Whether a request presenting `token` may change an anomaly's status (POST
 * /anomalies/:id/status): the triage or the control token; 401 without a token, 403 with the
 * read token or any other. Needed even by an agent opted out of read tokens (API_AUTH=none).
 */
export function checkTriageAccess(access: ApiAccess, token: string | undefined): AccessAnswer {
  const configured = Boolean(access.controlSha256 || access.triageSha256);
  if (token === undefined) return missingToken(configured);
  if (tokenMatches(token, access.controlSha256) || tokenMatches(token, access.triageSha256))
    return { ok: true };
  if (tokenMatches(token, access.readSha256))
    return refusal(403, 'Forbidden', 'the read token does not open this route');
  return refusal(
    403,
    'Forbidden',
    configured
      ? 'the token is not valid here'
      : `this agent was started without ${agentEnv.triageTokenSha256} or ${agentEnv.controlTokenSha256}`,
  );
}

/**
 * Whether a request presenting `token` may go on to a route that needs the control token
 * (PUT and DELETE /model): the read and triage tokens are refused 403 here; any other goes on to the
 * route's own check, which answers 401 unless it is the control token (model/delivery.ts).
 */
export function checkNotReadToken(access: ApiAccess, token: string | undefined): AccessAnswer {
  if (tokenMatches(token, access.controlSha256)) return { ok: true };
  if (tokenMatches(token, access.readSha256))
    return refusal(403, 'Forbidden', 'the read token does not open this route');
  if (tokenMatches(token, access.triageSha256))
    return refusal(403, 'Forbidden', 'the triage token does not open this route');
  return { ok: true };
}

function refusal(code: 401 | 403, reason: string, message: string): AccessAnswer {
  return { ok: false, code, body: { reason, message } };
}

/** Whether a read route (GET /status, /anomalies; /metrics when `metrics`) needs a token at all. */
export function readNeedsToken(access: ApiAccess, metrics = false): boolean {
  if (access.open) return false;
  return metrics ? Boolean(access.metricsNeedToken) : true;
}
