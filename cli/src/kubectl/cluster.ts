// What the plugin reads of the cluster: the AnalysisAgents (one namespace or all), their
// running pods (the StatefulSet `<agent>`'s, by the labels the operator gives them), the
// tokens the operator keeps for users in each namespace's Secrets, and who the user is.
import {
  ApiError,
  type KubeClient,
  type KubeObject,
} from '../../../operator/src/runtime/kubeClient.js';
import { RESOURCES } from '../../../operator/src/domain/resources.js';
import { AGENT_PODS } from '../../../operator/src/domain/selectors.js';
import type { AnalysisAgent } from '../../../api/src/generated/types.js';

export type AgentObject = AnalysisAgent & KubeObject;

export interface PodObject extends KubeObject {
  status?: { phase?: string; podIP?: string };
}

/** The Secrets of users' tokens: key = AnalysisAgent name (docs/operating.md). */
export const TOKEN_SECRETS = {
  viewer: 'edgewarden-viewer-tokens',
  triager: 'edgewarden-triager-tokens',
} as const;
export type TokenKind = keyof typeof TOKEN_SECRETS;

/** The AnalysisAgents of `namespace`, or of every namespace (undefined). */
export async function listAgents(client: KubeClient, namespace?: string): Promise<AgentObject[]> {
  const list = await client.list<AgentObject>(RESOURCES.analysisAgent, namespace);
  return list.items;
}

/** The running agent pods of a namespace, by AnalysisAgent name, in ordinal order. */
export async function runningAgentPods(
  client: KubeClient,
  namespace: string,
): Promise<Map<string, string[]>> {
  const list = await client.list<PodObject>(RESOURCES.pod, namespace, AGENT_PODS);
  const byAgent = new Map<string, string[]>();
  for (const pod of list.items) {
    const agent = pod.metadata.labels?.['app.kubernetes.io/instance'];
    if (!agent || pod.status?.phase !== 'Running') continue;
    byAgent.set(agent, [...(byAgent.get(agent) ?? []), pod.metadata.name]);
  }
  const ordinal = (p: string): number => Number(/-(\d+)$/.exec(p)?.[1] ?? 0);
  for (const pods of byAgent.values()) pods.sort((a, b) => ordinal(a) - ordinal(b));
  return byAgent;
}

/** What stops the plugin reading a namespace's tokens, in words for the user. */
export class TokenError extends Error {
  readonly code = 'EW_TOKEN';
}

/** The tokens of `kind` of a namespace's agents, by agent name. */
export async function agentTokens(
  client: KubeClient,
  namespace: string,
  kind: TokenKind,
): Promise<Map<string, string>> {
  const name = TOKEN_SECRETS[kind];
  let secret: KubeObject & { data?: Record<string, string> };
  try {
    secret = await client.get(RESOURCES.secret, namespace, name);
  } catch (error) {
    if (error instanceof ApiError && error.status === 403)
      throw new TokenError(`forbidden: you may not read secret ${name} in ${namespace}`);
    if (error instanceof ApiError && error.notFound)
      throw new TokenError(
        `no Secret ${name} in ${namespace}: the operator keeps it for the namespace's AnalysisAgents (is it running?)`,
      );
    throw error;
  }
  const tokens = new Map<string, string>();
  for (const [key, value] of Object.entries(secret.data ?? {}))
    tokens.set(key, Buffer.from(value, 'base64').toString('utf8').trim());
  return tokens;
}

/** The user's name, from a SelfSubjectReview; "unknown" when the server does not say. */
export async function userName(client: KubeClient): Promise<string> {
  try {
    const review = await client.request<{ status?: { userInfo?: { username?: string } } }>(
      'POST',
      '/apis/authentication.k8s.io/v1/selfsubjectreviews',
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } },
    );
    return review.status?.userInfo?.username || 'unknown';
  } catch {
    return 'unknown';
  }
}
