// The operator's HTTP requests to an agent pod (GET /status, PUT and DELETE /model), and their
// failures in words that name the request, the pod and the address asked. fetch's own errors
// ("The operation was aborted due to timeout", "fetch failed") say none of it, and they end
// up in a ModelDeployment's status and Events, where a user has to tell which pod did not
// answer and where the operator looked for it. No failure quotes a response body: an agent's
// answer is not the operator's to repeat, and a body that is not JSON is only said to be so.
//
// `describeRequest`, `whyNoAnswer` and the error's wording are pure; `requestAgent` and
// `answerJson` are the thin fetch around them.

/** One request to one agent pod. */
export interface AgentRequest {
  method: 'GET' | 'PUT' | 'DELETE';
  /** The path, e.g. /model. */
  path: string;
  /** The pod's name. */
  pod: string;
  /** host:port asked (an IPv6 host in brackets). */
  address: string;
}

/** "PUT /model to pod dns-agent-0 at 10.42.0.7:8080". */
export function describeRequest(r: AgentRequest): string {
  return `${r.method} ${r.path} to pod ${r.pod} at ${r.address}`;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/** Node's and undici's network error codes, in words. */
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing listens on that port)',
  ECONNRESET: 'the connection was reset',
  EHOSTUNREACH: "no route to the pod's address",
  ENETUNREACH: "no route to the pod's address",
  EHOSTDOWN: "no route to the pod's address",
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no answer (headers timeout)',
  UND_ERR_BODY_TIMEOUT: 'the answer stopped (body timeout)',
  UND_ERR_SOCKET: 'the connection closed before the answer',
  EPIPE: 'the connection closed before the answer',
};

/**
 * Why a request got no usable answer, from what fetch threw: the time waited for a timeout,
 * the network error in words. The error's own message only when nothing better is known (a
 * network library's message: it carries no answer's content).
 */
export function whyNoAnswer(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; code?: string; cause?: unknown };
  if (e?.name === 'TimeoutError') return `no answer within ${seconds(timeoutMs)}`;
  if (e?.name === 'AbortError') return 'the request was aborted';
  const cause = e?.cause as { code?: string; message?: string } | undefined;
  const code = cause?.code ?? e?.code;
  if (code !== undefined && NETWORK_ERRORS[code]) return NETWORK_ERRORS[code];
  return cause?.message ?? e?.message ?? String(error);
}

/** A request to an agent pod that got no usable answer; the message names the request. */
export class AgentRequestError extends Error {
  constructor(
    readonly request: AgentRequest,
    /** Why, e.g. "no answer within 120 s" or "the agent answered HTTP 503". */
    readonly why: string,
  ) {
    super(`${describeRequest(request)}: ${why}`);
    this.name = 'AgentRequestError';
  }

  /** The message without the pod's name, for text that names the pod already. */
  get atAddress(): string {
    return `${this.request.method} ${this.request.path} at ${this.request.address}: ${this.why}`;
  }
}

/** The failure's message, without the pod's name when it is an AgentRequestError. */
export function failureAtAddress(error: unknown): string {
  if (error instanceof AgentRequestError) return error.atAddress;
  return error instanceof Error ? error.message : String(error);
}

/** fetch(url) for `request`, with anything but an HTTP answer thrown as an AgentRequestError. */
export async function requestAgent(
  request: AgentRequest,
  url: string,
  init: Omit<RequestInit, 'method' | 'signal'>,
  timeoutMs: number,
): Promise<Response> {
  try {
    return await fetch(url, {
      ...init,
      method: request.method,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new AgentRequestError(request, whyNoAnswer(error, timeoutMs));
  }
}

/** The answer's JSON body; one that does not arrive in time or is not JSON, as an AgentRequestError. */
export async function answerJson<T>(
  request: AgentRequest,
  response: Response,
  timeoutMs: number,
): Promise<T> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new AgentRequestError(request, whyNoAnswer(error, timeoutMs));
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // JSON.parse's message quotes the body: say only what is wrong with it.
    throw new AgentRequestError(
      request,
      `the agent answered HTTP ${response.status} with a body that is not JSON`,
    );
  }
}
