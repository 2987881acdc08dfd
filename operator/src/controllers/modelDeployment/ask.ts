// Carrying out a plan's requests: each is one HTTP request to an agent pod (a dry run, an offer
// or an unload), all at once; each answer, a success or the reason it failed, goes back to the
// plan. A refusal is the agent's OfferRefused; anything else is an unreachable agent.
import type { Answer, Request, RequestFailure } from '../../domain/modelDeployment/pass.js';
import { offerOf, type StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import { refusalText } from '../../domain/modelDeployment/refusalText.js';
import type { ModelContext } from './context.js';
import { modelSource } from './modelSource.js';
import type { PodHandle } from './observe.js';
import { OfferRefused } from './offerRefused.js';
import { logFailure, logRecovery } from './requestLog.js';

function failureOf(error: unknown): RequestFailure {
  // An agent's refusal (an HTTP status) is recorded without quoted text: see refusalText.ts.
  if (error instanceof OfferRefused)
    return {
      reason: error.reason,
      message: error.httpStatus === 0 ? error.message : refusalText(error.message),
    };
  return { reason: 'AgentUnreachable', message: (error as Error).message };
}

async function askOne(
  ctx: ModelContext,
  md: StoredModelDeployment,
  { pod, token }: PodHandle,
  request: Request,
): Promise<Answer> {
  try {
    if (request.kind === 'unload') {
      await ctx.unload(pod, token);
      logRecovery(ctx, md, request.pod, 'unload');
      return { request };
    }
    const where = await modelSource(ctx.client, md.metadata.namespace, request.model.source);
    const dryRun = request.kind === 'validate';
    const result = await ctx.offer(
      pod,
      token,
      offerOf(md.spec.agent, request.model, where, dryRun),
    );
    logRecovery(ctx, md, request.pod, request.kind);
    return {
      request,
      served: { version: result.version, sha256: result.sha256, golden: result.golden },
    };
  } catch (error) {
    const failure = failureOf(error);
    const version = request.kind === 'unload' ? undefined : request.model.version;
    logFailure(ctx, md, request.pod, request.kind, failure, version);
    return { request, failure };
  }
}

/** Makes the requests, each of the pod it names; the answers in the requests' order. */
export function ask(
  ctx: ModelContext,
  md: StoredModelDeployment,
  handles: Map<string, PodHandle>,
  requests: Request[],
): Promise<Answer[]> {
  return Promise.all(requests.map((r) => askOne(ctx, md, handles.get(r.pod)!, r)));
}
