// Asking every agent pod of a set of AnalysisAgents the same question: their running pods,
// found once per namespace, each pod asked with its agent's token from the namespace's Secret
// (read once per namespace). A pod (or a namespace) that cannot be asked is a warning naming
// it; the others' answers still count.
import type { KubeClient } from '../../../operator/src/runtime/kubeClient.js';
import type { PodTarget } from './agentApi.js';
import { agentTokens, runningAgentPods, type AgentObject, type TokenKind } from './cluster.js';

export interface AgentPods {
  namespace: string;
  agent: AgentObject;
  pods: string[];
}

export interface PodAnswer<T> {
  namespace: string;
  /** The AnalysisAgent's name. */
  agent: string;
  pod: string;
  value: T;
}

const message = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);

/** The running pods of each agent (namespaces listed once each). */
export async function podsOfAgents(
  client: KubeClient,
  agents: readonly AgentObject[],
): Promise<AgentPods[]> {
  const namespaces = [...new Set(agents.map((a) => a.metadata.namespace ?? 'default'))];
  const pods = new Map<string, Map<string, string[]>>();
  for (const ns of namespaces) pods.set(ns, await runningAgentPods(client, ns));
  return agents.map((agent) => {
    const namespace = agent.metadata.namespace ?? 'default';
    return { namespace, agent, pods: pods.get(namespace)?.get(agent.metadata.name) ?? [] };
  });
}

/** `ask` of each pod, with the agent's token of `kind`; failures as warnings. */
export async function askEachPod<T>(
  client: KubeClient,
  agents: readonly AgentPods[],
  kind: TokenKind,
  ask: (target: PodTarget) => Promise<T>,
): Promise<{ answers: PodAnswer<T>[]; warnings: string[] }> {
  const answers: PodAnswer<T>[] = [];
  const warnings: string[] = [];
  const tokens = new Map<string, Promise<Map<string, string>>>();
  for (const { namespace, agent, pods } of agents) {
    if (pods.length === 0) continue;
    if (!tokens.has(namespace)) tokens.set(namespace, agentTokens(client, namespace, kind));
    let token: string | undefined;
    try {
      token = (await tokens.get(namespace)!).get(agent.metadata.name);
    } catch (error) {
      const text = message(error);
      if (!warnings.includes(text)) warnings.push(text);
      continue;
    }
    if (token === undefined) {
      warnings.push(
        `no ${kind} token for AnalysisAgent ${agent.metadata.name} in ${namespace}: the operator adds it to the namespace's Secret`,
      );
      continue;
    }
    const settled = await Promise.allSettled(pods.map((pod) => ask({ namespace, pod, token })));
    settled.forEach((s, i) => {
      const pod = pods[i]!;
      if (s.status === 'fulfilled')
        answers.push({ namespace, agent: agent.metadata.name, pod, value: s.value });
      else
        warnings.push(
          `pod ${pod} in ${namespace}: ${message(s.reason).replace(`pod ${pod} in ${namespace}: `, '')}`,
        );
    });
  }
  return { answers, warnings };
}
