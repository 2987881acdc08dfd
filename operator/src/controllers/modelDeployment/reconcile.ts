// The ModelDeployment reconcile: rolls a model version out to the agent pods of the
// AnalysisAgents that reference it, and back. Validation runs in an agent (a dry-run offer
// to one pod: the operator never loads a model, so its memory stays small, and the model is
// checked against the real feature extractor and the pod's real recent windows). Delivery is
// an offer to each pod's PUT /model; each agent checks the bytes' sha256 again, loads the
// model beside the one serving and swaps it in, without a restart.
//
// The decisions are domain/modelDeployment/plan.ts's; this file does the I/O around them:
// observe (the pods, their /status, the status earlier passes kept, which lets an operator
// restarted mid-rollout resume), plan, make the plan's requests and plan again with their
// answers until nothing more is asked, then write the status and, after it, the Events.
import type { ReconcileResult } from '../../runtime/controller.js';
import type { KubeObject } from '../../runtime/kubeClient.js';
import { writeStatusIfChanged } from '../../runtime/statusWrite.js';
import { RESOURCES } from '../../domain/resources.js';
import {
  afterAnswers,
  requestsOf,
  type ObservedRollout,
  type RolloutEvent,
  type RolloutPlan,
} from '../../domain/modelDeployment/pass.js';
import { planRollout } from '../../domain/modelDeployment/plan.js';
import type { StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import { modelDeploymentStatus } from '../../domain/modelDeployment/status.js';
import type { ModelDeploymentStatus } from '../../../../api/src/generated/types.js';
import { ask } from './ask.js';
import type { ModelContext } from './context.js';
import { observe, type PodHandle } from './observe.js';

interface PassOutcome {
  observed: ObservedRollout;
  plan: RolloutPlan;
  events: RolloutEvent[];
  /** When a canary step's analysis window ends, if it does before the next poll. */
  nextCheckInMs: number;
}

/**
 * Plans, asks the pods what the plan asks, and plans again with their answers, until a plan
 * asks nothing new (each request is made at most once a pass, so this ends).
 */
async function planAndAsk(
  ctx: ModelContext,
  md: StoredModelDeployment,
  handles: Map<string, PodHandle>,
  observed: ObservedRollout,
  now: Date,
): Promise<PassOutcome> {
  let seen = observed;
  let plan = planRollout(md, seen, now);
  const events = [...plan.events];
  let nextCheckInMs = plan.nextCheckInMs ?? Infinity;
  for (let requests = requestsOf(plan); requests.length > 0; requests = requestsOf(plan)) {
    seen = afterAnswers(seen, plan, await ask(ctx, md, handles, requests));
    plan = planRollout(md, seen, now);
    events.push(...plan.events);
    nextCheckInMs = Math.min(nextCheckInMs, plan.nextCheckInMs ?? Infinity);
  }
  return { observed: seen, plan, events, nextCheckInMs };
}

/** Writes the status if it changed, then records the Events that describe it. */
async function writeStatus(
  ctx: ModelContext,
  md: StoredModelDeployment & KubeObject,
  status: ModelDeploymentStatus,
  events: RolloutEvent[],
): Promise<void> {
  if (!(await writeStatusIfChanged(ctx.client, RESOURCES.modelDeployment, md, status))) return;
  for (const { type, reason, message } of events)
    await ctx.events.record(md, type, reason, message);
}

export async function reconcileModelDeployment(
  ctx: ModelContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const md = ctx.models.get(namespace, name);
  if (!md || md.metadata.deletionTimestamp) return {};
  const now = ctx.now();
  const { observed, handles } = await observe(ctx, md);
  const pass = await planAndAsk(ctx, md, handles, observed, now);
  await writeStatus(ctx, md, modelDeploymentStatus(md, pass.observed, pass.plan, now), pass.events);
  // Agents' reports change without Kubernetes events: poll while there are pods to serve.
  if (pass.observed.pods.length === 0) return {};
  return { requeueAfterMs: Math.min(ctx.pollMs, pass.nextCheckInMs) };
}
