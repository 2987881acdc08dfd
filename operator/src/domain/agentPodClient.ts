// The operator's reads of its pods' own HTTP servers, which main wires into the controllers'
// contexts: an agent pod's GET /status (with the agent's control token), a running export
// pod's GET /progress. Each with a short
// timeout, and failures that name the request, the pod and the address (agentRequest.ts).
import {
  exportDefaults,
  exportPaths,
  type ExportProgress,
} from '../../../agent-runtime/src/contract/export.js';
import { agentPaths } from '../../../agent-runtime/src/contract/index.js';
import { agentRequest, type AgentPod } from './agentPod.js';
import { AgentRequestError, answerJson, requestAgent } from './agentRequest.js';
import { tokenHeaders } from './agentTokens.js';
import type { AgentReport } from './analysisAgent/status.js';

/**
 * GET `path` of `pod` (with `token`, when given), and its JSON answer; anything but a 2xx is an
 * AgentRequestError.
 */
async function getJson<T>(
  pod: AgentPod,
  port: number,
  path: string,
  timeoutMs: number,
  token?: string,
): Promise<T> {
  const { request, url } = agentRequest(pod, port, 'GET', path);
  const init = token === undefined ? {} : { headers: tokenHeaders(token) };
  const response = await requestAgent(request, url, init, timeoutMs);
  if (!response.ok) {
    await response.body?.cancel();
    throw new AgentRequestError(request, `the agent answered HTTP ${response.status}`);
  }
  return answerJson<T>(request, response, timeoutMs);
}

/**
 * GET http://<pod IP>:<http port>/status of an agent pod, named by the pod it came from, with
 * the agent's control token (issue 20, H2: /status needs a token).
 */
export async function fetchAgentStatus(
  pod: AgentPod,
  fallbackPort: number,
  timeoutMs = 2000,
  token?: string,
): Promise<AgentReport> {
  const path = agentPaths.status;
  const body = await getJson<AgentReport>(pod, fallbackPort, path, timeoutMs, token);
  return { ...body, pod: pod.metadata.name };
}

/** GET http://<pod IP>:<http port>/progress of a running export pod. */
export function fetchExportProgress(pod: AgentPod, timeoutMs = 2000): Promise<ExportProgress> {
  return getJson<ExportProgress>(pod, exportDefaults.port, exportPaths.progress, timeoutMs);
}
