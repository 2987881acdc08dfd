// The read tokens an export pod presents to the agents whose anomalies it reads (issue 20,
// H2): derived from the operator's control key and each agent's uid, kept in a Secret the
// ExportJob owns, made once just before its Job (like the Job, never taken over: an object of
// its name the export does not control is a ChildConflictError).
import type { ExportPlan } from '../../../../agent-runtime/src/contract/export.js';
import { readToken } from '../../domain/agentTokens.js';
import { exportTokenSecret, type StoredExportJob } from '../../domain/exportJob/desired.js';
import { RESOURCES } from '../../domain/resources.js';
import { ApiError, type KubeObject } from '../../runtime/kubeClient.js';
import { ChildConflictError, inTheWay } from '../../runtime/ownership.js';
import type { ExportContext } from './context.js';

/** Agent name -> read token, for each agent of the plan that is still there. */
export function planReadTokens(
  ctx: ExportContext,
  job: StoredExportJob,
  plan: ExportPlan,
): Record<string, string> {
  const key = ctx.settings.controlKey;
  if (!key) return {};
  const tokens: Record<string, string> = {};
  for (const { agent } of plan.anomalies ?? []) {
    const uid = ctx.agents.get(job.metadata.namespace, agent)?.metadata.uid;
    if (uid) tokens[agent] = readToken(key, uid);
  }
  return tokens;
}

/** Makes the token Secret of an export that reads anomalies (before its Job: the pod mounts it). */
export async function ensureTokenSecret(
  ctx: ExportContext,
  job: StoredExportJob,
  plan: ExportPlan,
): Promise<void> {
  if (!plan.anomalies?.length) return;
  const secret = exportTokenSecret(job, planReadTokens(ctx, job, plan)) as KubeObject;
  try {
    await ctx.client.create(RESOURCES.secret, secret);
  } catch (error) {
    if (!(error instanceof ApiError && error.conflict)) throw error;
    let other;
    try {
      other = await inTheWay(ctx.client, job.metadata.uid, {
        resource: RESOURCES.secret,
        child: secret,
      });
    } catch (check) {
      // A cluster-wide install reads no Secrets (docs/security.md, Lows — Secrets): the owner
      // check's GET is refused. The Secret is most likely a pass before's whose Job was not
      // made; nothing is written to it (nothing adopted), the pod only mounts it.
      if (check instanceof ApiError && check.status === 403) return;
      throw check;
    }
    if (other) throw new ChildConflictError([other], 'ExportJob');
  }
}
