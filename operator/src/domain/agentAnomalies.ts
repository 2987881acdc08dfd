// The operator's read of one page of an agent pod's GET /anomalies (issue 21: the Events of new
// anomalies), with the agent's control token: the anomalies and the next page's cursor, if any.
// Failures name the request, the pod and the address (agentRequest.ts); no body is quoted.
import {
  anomalyNextCursorHeader,
  type AnomalySummary,
} from '../../../agent-runtime/src/contract/anomalies.js';
import { agentPaths } from '../../../agent-runtime/src/contract/index.js';
import { agentRequest, type AgentPod } from './agentPod.js';
import { AgentRequestError, answerJson, requestAgent } from './agentRequest.js';
import { tokenHeaders } from './agentTokens.js';

export interface AnomalyPage {
  anomalies: AnomalySummary[];
  /** The `after` cursor of the next page; none on the last. */
  next?: string;
}

/** GET http://<pod IP>:<port>/anomalies?<query> with `token`. */
export async function fetchAnomalyPage(
  pod: AgentPod,
  fallbackPort: number,
  token: string,
  query: Record<string, string>,
  timeoutMs = 5000,
): Promise<AnomalyPage> {
  const path = `${agentPaths.anomalies}?${new URLSearchParams(query).toString()}`;
  const { request, url } = agentRequest(pod, fallbackPort, 'GET', path);
  const response = await requestAgent(request, url, { headers: tokenHeaders(token) }, timeoutMs);
  if (!response.ok) {
    await response.body?.cancel();
    throw new AgentRequestError(request, `the agent answered HTTP ${response.status}`);
  }
  const next = response.headers.get(anomalyNextCursorHeader) ?? undefined;
  const anomalies = await answerJson<AnomalySummary[]>(request, response, timeoutMs);
  if (!Array.isArray(anomalies))
    throw new AgentRequestError(request, 'the agent answered with something not a list');
  return { anomalies, ...(next ? { next } : {}) };
}
