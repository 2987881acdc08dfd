// main's model delivery: an agent pod's PUT and DELETE /model over HTTP, with the agent's
// control token. A refusal (4xx with { reason, message }) becomes OfferRefused; anything
// else (a timeout, a 5xx) is an Error the rollout retries.
import {
  agentPaths,
  type ModelOfferRefusal,
  type ModelOfferRequest,
  type ModelOfferResult,
} from '../../../../agent-runtime/src/contract/index.js';
import { agentUrl, type AgentPod } from '../analysisAgent/reconcile.js';
import { OfferRefused } from './reconcile.js';

async function refusal(response: Response): Promise<OfferRefused> {
  const body = (await response.json().catch(() => ({}))) as Partial<ModelOfferRefusal>;
  return new OfferRefused(
    body.reason ?? `HTTP${response.status}`,
    body.message ?? `the agent answered ${response.status}`,
    response.status,
  );
}

export async function offerModel(
  pod: AgentPod,
  fallbackPort: number,
  token: string,
  offer: ModelOfferRequest,
  timeoutMs = 120_000,
): Promise<ModelOfferResult> {
  const response = await fetch(agentUrl(pod, fallbackPort, agentPaths.model), {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(offer),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.ok) return (await response.json()) as ModelOfferResult;
  if (response.status >= 400 && response.status < 500) throw await refusal(response);
  throw new Error(`PUT ${agentPaths.model} on ${pod.metadata.name} answered ${response.status}`);
}

export async function unloadModel(
  pod: AgentPod,
  fallbackPort: number,
  token: string,
  timeoutMs = 10_000,
): Promise<void> {
  const response = await fetch(agentUrl(pod, fallbackPort, agentPaths.model), {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (response.status >= 400 && response.status < 500) throw await refusal(response);
  await response.body?.cancel();
  if (!response.ok)
    throw new Error(
      `DELETE ${agentPaths.model} on ${pod.metadata.name} answered ${response.status}`,
    );
}
