// Keeps a namespace's edgewarden-viewer-tokens and edgewarden-triager-tokens Secrets (issue 21)
// in step with its AnalysisAgents: read each (the operator caches no Secrets), let the pure core
// (domain/analysisAgent/tokenSecrets.ts) say what it should be, write only a change. Two agents'
// reconciles may race on one Secret: a write refused for its stale resourceVersion is read and
// planned again, once. The tokens go only into the Secrets: never into logs, status or Events.
import { readToken, triageToken } from '../../domain/agentTokens.js';
import {
  TRIAGER_TOKENS_SECRET,
  VIEWER_TOKENS_SECRET,
  tokenSecretPlan,
  type AgentToken,
  type TokenSecret,
} from '../../domain/analysisAgent/tokenSecrets.js';
import { RESOURCES } from '../../domain/resources.js';
import { ApiError, resourcePath, type KubeObject } from '../../runtime/kubeClient.js';
import type { AgentContext } from './context.js';

type Derive = (key: Uint8Array, uid: string) => string;

const SECRETS: { name: string; token: Derive }[] = [
  { name: VIEWER_TOKENS_SECRET, token: readToken },
  { name: TRIAGER_TOKENS_SECRET, token: triageToken },
];

/** One pass at one Secret; whether it must be tried again (a write lost a race). */
async function syncOnce(
  ctx: AgentContext,
  namespace: string,
  name: string,
  agents: AgentToken[],
): Promise<'done' | 'conflict' | 'foreign'> {
  const existing = await ctx.client.find<TokenSecret & KubeObject>(
    RESOURCES.secret,
    namespace,
    name,
  );
  const plan = tokenSecretPlan(name, namespace, existing, agents);
  if (plan.action === 'none') return 'done';
  if (plan.action === 'foreign') return 'foreign';
  try {
    if (plan.action === 'create')
      await ctx.client.create(RESOURCES.secret, plan.secret as KubeObject);
    else
      await ctx.client.request('PUT', resourcePath(RESOURCES.secret, namespace, name), {
        body: plan.secret,
      });
    ctx.log.info('wrote the token secret', { namespace, secret: name, agents: agents.length });
    return 'done';
  } catch (error) {
    if (error instanceof ApiError && error.status === 409) return 'conflict';
    throw error;
  }
}

/**
 * Brings both token Secrets of `namespace` in step with its AnalysisAgents (none without the
 * operator's control key: there are no tokens). `about` is the agent whose reconcile runs: a
 * Secret of the name that the operator did not make is said in a Warning Event on it.
 */
export async function syncTokenSecrets(
  ctx: AgentContext,
  namespace: string,
  about?: KubeObject,
): Promise<void> {
  const key = ctx.settings.controlKey;
  if (!key) return;
  const present = ctx.agents.list(namespace).filter((a) => !a.metadata.deletionTimestamp);
  for (const secret of SECRETS) {
    const agents = present.map((a) => ({
      name: a.metadata.name,
      uid: a.metadata.uid,
      token: secret.token(key, a.metadata.uid),
    }));
    let outcome;
    try {
      outcome = await syncOnce(ctx, namespace, secret.name, agents);
      if (outcome === 'conflict') outcome = await syncOnce(ctx, namespace, secret.name, agents);
    } catch (error) {
      // RBAC of a chart from before issue 21: the agents run all the same, without the Secrets.
      if (!(error instanceof ApiError && error.status === 403)) throw error;
      ctx.log.error('may not keep the token secret', error, { namespace, secret: secret.name });
      continue;
    }
    if (outcome === 'conflict')
      throw new Error(`Secret ${namespace}/${secret.name} kept changing while it was written`);
    if (outcome === 'foreign' && about)
      await ctx.events.record(
        about,
        'Warning',
        'TokenSecretConflict',
        `Secret "${secret.name}" already exists without the label ` +
          `app.kubernetes.io/managed-by=edgewarden: the operator leaves it alone, so ` +
          `kubectl edgewarden finds no tokens in it; delete or rename it`,
      );
  }
}
