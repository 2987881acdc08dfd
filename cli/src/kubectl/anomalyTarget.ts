// The agent pod an anomaly ID names, in the namespace of -n, with the token to ask it.
import { agentTokens, type TokenKind } from './cluster.js';
import { parseAnomalyId, type AnomalyId } from './anomalyId.js';
import { CommandError, type RunContext } from './context.js';
import type { PodTarget } from './agentApi.js';

export async function anomalyTarget(
  c: RunContext,
  kind: TokenKind,
): Promise<{ id: AnomalyId; target: PodTarget }> {
  const parsed = parseAnomalyId(c.argument ?? '');
  if (!parsed.ok) throw new CommandError(parsed.error);
  const id = parsed.value;
  const tokens = await agentTokens(c.client, c.namespace, kind).catch((error: Error) => {
    throw new CommandError(error.message);
  });
  const token = tokens.get(id.agent);
  if (token === undefined)
    throw new CommandError(
      `no AnalysisAgent ${id.agent} in ${c.namespace} (no ${kind} token for it); is -n right?`,
    );
  return { id, target: { namespace: c.namespace, pod: id.pod, token } };
}
