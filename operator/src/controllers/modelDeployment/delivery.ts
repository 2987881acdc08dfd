// main's model delivery: an agent pod's PUT and DELETE /model over HTTP, with the agent's
// control token. A refusal (4xx with { reason, message }) becomes OfferRefused; anything
// else (a timeout, a refused connection, a 5xx) is an AgentRequestError naming the request,
// the pod and its address, which the rollout retries.
import {
  agentPaths,
  type ModelOfferRefusal,
  type ModelOfferRequest,
  type ModelOfferResult,
} from '../../../../agent-runtime/src/contract/index.js';
import {
  AgentRequestError,
  answerJson,
  describeRequest,
  requestAgent,
  type AgentRequest,
} from '../../domain/agentRequest.js';
import { agentRequest, type AgentPod } from '../../domain/agentPod.js';
import { OfferRefused } from './offerRefused.js';

/** How long an offer may take: the agent downloads, checks, loads and trial-scores the model. */
export const OFFER_TIMEOUT_MS = 120_000;
export const UNLOAD_TIMEOUT_MS = 10_000;

async function refusal(
  request: AgentRequest,
  response: Response,
  timeoutMs: number,
): Promise<OfferRefused> {
  let body: Partial<ModelOfferRefusal> = {};
  try {
    body = await answerJson<Partial<ModelOfferRefusal>>(request, response, timeoutMs);
  } catch {
    // No reason given: the status code says what there is to say.
  }
  return new OfferRefused(
    typeof body.reason === 'string' && /^[A-Za-z0-9]{1,64}$/.test(body.reason)
      ? body.reason
      : `HTTP${response.status}`,
    typeof body.message === 'string'
      ? body.message
      : `${describeRequest(request)}: the agent answered HTTP ${response.status} without a reason`,
    response.status,
  );
}

/** Anything but a 2xx or a 4xx: the agent failed (a 5xx), and the rollout retries. */
async function failed(request: AgentRequest, response: Response): Promise<AgentRequestError> {
  await response.body?.cancel();
  return new AgentRequestError(request, `the agent answered HTTP ${response.status}`);
}

export async function offerModel(
  pod: AgentPod,
  fallbackPort: number,
  token: string,
  offer: ModelOfferRequest,
  timeoutMs = OFFER_TIMEOUT_MS,
): Promise<ModelOfferResult> {
  const { request, url } = agentRequest(pod, fallbackPort, 'PUT', agentPaths.model);
  const response = await requestAgent(
    request,
    url,
    {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(offer),
    },
    timeoutMs,
  );
  if (response.ok) return answerJson<ModelOfferResult>(request, response, timeoutMs);
  if (response.status >= 400 && response.status < 500)
    throw await refusal(request, response, timeoutMs);
  throw await failed(request, response);
}

export async function unloadModel(
  pod: AgentPod,
  fallbackPort: number,
  token: string,
  timeoutMs = UNLOAD_TIMEOUT_MS,
): Promise<void> {
  const { request, url } = agentRequest(pod, fallbackPort, 'DELETE', agentPaths.model);
  const response = await requestAgent(
    request,
    url,
    { headers: { authorization: `Bearer ${token}` } },
    timeoutMs,
  );
  if (response.status >= 400 && response.status < 500)
    throw await refusal(request, response, timeoutMs);
  if (!response.ok) throw await failed(request, response);
  await response.body?.cancel();
}
