// An agent pod's API, reached through the API server's pod proxy with the user's credentials
// (RBAC: get pods/proxy to read, create pods/proxy to POST) and the agent's token from the
// namespace's Secret (X-Edgewarden-Token): GET /anomalies a page at a time, GET
// /anomalies/:id, POST /anomalies/:id/status, GET /status. Refusals are said as kubectl would:
// the API server's (a Status object) apart from the agent's own ({"error": ...}).
import {
  agentDefaults,
  agentPaths,
  agentTokenHeader,
} from '../../../agent-runtime/src/contract/index.js';
import {
  ANOMALY_NEXT_HEADER,
  ANOMALY_PAGE_LIMIT,
} from '../../../agent-runtime/src/http/anomalyQuery.js';
import type { KubeClient } from '../../../operator/src/runtime/kubeClient.js';
import type { WireAnomaly } from './wire.js';

export interface PodTarget {
  namespace: string;
  pod: string;
  token: string;
}

/** Pages read of one pod at most: the newest MAX_PAGES x 500 anomalies. */
export const MAX_PAGES = 10;

export class AgentApiError extends Error {
  readonly code = 'EW_AGENT_API';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const proxyPath = (t: PodTarget, path: string): string =>
  `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}:${agentDefaults.port}/proxy${path}`;

/** Why an answer is not a success, in the user's words: who refused what, and why. */
export function refusal(t: PodTarget, method: string, status: number, text: string): string {
  let body: { kind?: string; message?: string; error?: string; reason?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // not JSON: said by status alone
  }
  const verb = method === 'GET' ? 'read' : 'create';
  if (body.kind === 'Status') {
    if (status === 403) return `forbidden: you may not ${verb} pods/proxy in ${t.namespace}`;
    return `pod ${t.pod} in ${t.namespace}: the API server answered ${status}: ${body.message ?? body.reason ?? ''}`;
  }
  // The agent's refusals are {reason, message} (older ones {error}).
  const said =
    [body.reason, body.message ?? body.error].filter(Boolean).join(': ') ||
    (text && !text.startsWith('<') ? text.slice(0, 200) : '');
  if (status === 401 || status === 403)
    return `pod ${t.pod} in ${t.namespace} refused the token (${status}${said ? `: ${said}` : ''}): the operator may not have updated the namespace's token Secrets yet`;
  return `pod ${t.pod} in ${t.namespace}: HTTP ${status}${said ? `: ${said}` : ''}`;
}

async function call<T>(
  client: KubeClient,
  t: PodTarget,
  method: 'GET' | 'POST',
  path: string,
  options: { query?: Record<string, string>; body?: unknown } = {},
): Promise<{ value: T; headers: Record<string, string | string[] | undefined> }> {
  const answer = await client.send(method, proxyPath(t, path), {
    query: options.query,
    headers: { [agentTokenHeader]: t.token },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  if (answer.status < 200 || answer.status >= 300)
    throw new AgentApiError(answer.status, refusal(t, method, answer.status, answer.text));
  try {
    return { value: JSON.parse(answer.text) as T, headers: answer.headers };
  } catch {
    throw new AgentApiError(
      answer.status,
      `pod ${t.pod} in ${t.namespace}: the answer is not JSON`,
    );
  }
}

/** The pod's anomalies matching `query`, newest first; `truncated` when more were left. */
export async function podAnomalies(
  client: KubeClient,
  t: PodTarget,
  query: Record<string, string>,
): Promise<{ anomalies: WireAnomaly[]; truncated: boolean }> {
  const anomalies: WireAnomaly[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { value, headers } = await call<WireAnomaly[]>(client, t, 'GET', agentPaths.anomalies, {
      query: { ...query, limit: String(ANOMALY_PAGE_LIMIT), ...(after ? { after } : {}) },
    });
    anomalies.push(...value);
    const next = headers[ANOMALY_NEXT_HEADER.toLowerCase()];
    after = Array.isArray(next) ? next[0] : next;
    if (!after) return { anomalies, truncated: false };
  }
  return { anomalies, truncated: true };
}

export async function podAnomaly(
  client: KubeClient,
  t: PodTarget,
  id: number,
): Promise<WireAnomaly> {
  return (await call<WireAnomaly>(client, t, 'GET', `${agentPaths.anomalies}/${id}`)).value;
}

export async function setAnomalyStatus(
  client: KubeClient,
  t: PodTarget,
  id: number,
  change: { status: string; note?: string; by: string },
): Promise<WireAnomaly> {
  const path = `${agentPaths.anomalies}/${id}/status`;
  return (await call<WireAnomaly>(client, t, 'POST', path, { body: change })).value;
}

/** The parts of a pod's GET /status the plugin shows. */
export interface PodStatus {
  linesAnalyzed: number;
  start?: { time: string };
  model?: { version?: string };
}

export async function podStatus(client: KubeClient, t: PodTarget): Promise<PodStatus> {
  return (await call<PodStatus>(client, t, 'GET', agentPaths.status)).value;
}
