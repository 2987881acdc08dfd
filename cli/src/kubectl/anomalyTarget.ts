// The agent pod an anomaly ID names, in the namespace of -n: its AnalysisAgent (the pod's
// app.kubernetes.io/instance label, as the operator sets it) and the token to ask it.
import { RESOURCES } from '../../../operator/src/domain/resources.js';
import { ApiError } from '../../../operator/src/runtime/kubeClient.js';
import type { PodTarget } from './agentApi.js';
import { parseAnomalyId, type AnomalyId } from './anomalyId.js';
import { agentTokens, type PodObject, type TokenKind } from './cluster.js';
import { CommandError, type RunContext } from './context.js';

/** The AnalysisAgent whose pod `pod` is. */
async function agentOfPod(c: RunContext, pod: string): Promise<string> {
  let object: PodObject;
  try {
    object = await c.client.get<PodObject>(RESOURCES.pod, c.namespace, pod);
  } catch (error) {
    if (error instanceof ApiError && error.notFound)
      throw new CommandError(`no pod ${pod} in ${c.namespace}; is -n right?`);
    if (error instanceof ApiError && error.status === 403)
      throw new CommandError(`forbidden: you may not get pods in ${c.namespace}`);
    throw error;
  }
  const labels = object.metadata.labels ?? {};
  const agent = labels['app.kubernetes.io/instance'];
  if (!agent || labels['app.kubernetes.io/component'] !== 'agent')
    throw new CommandError(`pod ${pod} in ${c.namespace} is not an edgewarden agent pod`);
  return agent;
}

export async function anomalyTarget(
  c: RunContext,
  kind: TokenKind,
): Promise<{ id: AnomalyId; agent: string; target: PodTarget }> {
  const parsed = parseAnomalyId(c.argument ?? '');
  if (!parsed.ok) throw new CommandError(parsed.error);
  const id = parsed.value;
  const agent = await agentOfPod(c, id.pod);
  const tokens = await agentTokens(c.client, c.namespace, kind).catch((error: Error) => {
    throw new CommandError(error.message);
  });
  const token = tokens.get(agent);
  if (token === undefined)
    throw new CommandError(
      `no ${kind} token for AnalysisAgent ${agent} in ${c.namespace}: the operator adds it to the namespace's Secret`,
    );
  return { id, agent, target: { namespace: c.namespace, pod: id.pod, token } };
}
