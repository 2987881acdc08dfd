// planRollout: from what a pass sees of a ModelDeployment's world (pass.ts) to what comes
// next: the rollout and the version serving, the history, the offers and unloads to make of
// agent pods, and the Events. Pure: the same inputs give the same plan, whoever the leader.
//
// The stages run in the order a rollout goes: a new target; its validation (a dry run on one
// pod); a canary's first step; the answers to the deliveries made so far this pass; the
// deliveries still owed; then, once every pod has what it should, the rollout's progress
// (completion, a canary step judged, passed or rolled back). A plan stops at requests whose
// answers decide what follows; the pass plans again with them.
import { rolloutSettings, type RolloutSettings } from './settings.js';
import {
  canaryCount,
  flaggedRate,
  revisionOf,
  TRANSIENT_REASONS,
  type StoredModelDeployment,
} from './rollout.js';
import {
  requestKey,
  type Answer,
  type Failure,
  type ObservedPod,
  type ObservedRollout,
  type Request,
  type RequestFailure,
  type RolloutPlan,
} from './pass.js';
import { historyWith, type Draft, type PassInputs } from './draft.js';
import { deliveriesOwed } from './owed.js';
import { progressOfStep, rolledBack } from './progress.js';

const sameFailure = (a: Partial<Failure> | undefined, b: RequestFailure): boolean =>
  a?.reason === b.reason && a.message === b.message;

/** The draft as the status left it, or a new rollout when the spec names another revision. */
function fromStatus(inputs: PassInputs): Draft {
  const { spec, settings, now } = inputs;
  const kept = inputs.observed.kept;
  const draft: Draft = {
    rollout: kept.rollout ?? { revision: '', phase: 'Validating' },
    stable: kept.stable,
    history: kept.history ?? [],
    lastFailure: kept.lastFailure as Failure | undefined,
    events: [],
  };
  const revision = revisionOf(spec);
  if (draft.rollout.revision === revision) return draft;
  const { stable } = draft;
  // Back to the version serving everywhere: nothing to validate or move.
  if (stable && revisionOf(stable) === revision)
    return {
      ...draft,
      rollout: { revision, phase: 'Complete', sha256: stable.sha256, startedAt: now },
      lastFailure: undefined,
      events: [
        {
          type: 'Normal',
          reason: 'RolledOut',
          message: `back to ${stable.version}, which every agent serves`,
        },
      ],
    };
  return {
    ...draft,
    rollout: { revision, phase: 'Validating', startedAt: now },
    lastFailure: undefined,
    events: [
      {
        type: 'Normal',
        reason: 'RolloutStarted',
        message: `rolling out ${spec.version} (${settings.strategy})`,
      },
    ],
  };
}

/** The dry run's success: the rollout moves on with the bytes' sha256 the agent computed. */
function validated(
  inputs: PassInputs,
  draft: Draft,
  pod: string,
  served: NonNullable<Answer['served']>,
): Draft {
  const { spec } = inputs;
  const golden = served.golden ?? { rows: 0, flagged: 0 };
  return {
    ...draft,
    rollout: { ...draft.rollout, phase: 'Progressing', sha256: served.sha256, step: 0 },
    lastFailure: undefined,
    events: [
      ...draft.events,
      {
        type: 'Normal',
        reason: 'Validated',
        message: `${spec.version} (sha256 ${served.sha256.slice(0, 12)}) loaded on ${pod} and scored ${golden.rows} golden windows (${golden.flagged} flagged)`,
      },
    ],
  };
}

/**
 * Dry runs that failed in a way a retry may cure or may not: the agent's validator process
 * went past its memory or time limit, or died (ValidationExceededLimits; a busy node can make
 * a good model slow). Retried, but a revision that fails so VALIDATION_ATTEMPTS times is
 * refused for good (issue 20, M2): a model that takes its validator down is not offered for
 * ever. The count is kept at the end of lastFailure's message, "(validation attempt 2 of 3)":
 * the status has no field for it, and a new revision starts a new rollout with no lastFailure.
 */
export const VALIDATION_ATTEMPTS = 3;
const COUNTED_REASONS = new Set(['ValidationExceededLimits']);
const ATTEMPT = / \(validation attempt (\d+) of \d+\)$/;

/** The dry runs of this revision that failed so far, as lastFailure counts them. */
function attemptsOf(failure: Partial<Failure> | undefined): number {
  if (!failure?.reason || !COUNTED_REASONS.has(failure.reason)) return 0;
  return Number(ATTEMPT.exec(failure.message ?? '')?.[1] ?? 0);
}

/** A counted failure of the dry run: retried, then, at the last attempt, refused for good. */
function attemptFailed(inputs: PassInputs, draft: Draft, failure: RequestFailure): Draft {
  const { spec, now } = inputs;
  const attempt = attemptsOf(draft.lastFailure) + 1;
  const last = attempt >= VALIDATION_ATTEMPTS;
  const kept = {
    reason: failure.reason,
    message: `${failure.message.replace(ATTEMPT, '')} (validation attempt ${attempt} of ${VALIDATION_ATTEMPTS})`,
    time: now,
  };
  const serving = draft.stable
    ? `${draft.stable.version} keeps serving`
    : 'the agents keep running on their rules';
  return {
    ...draft,
    lastFailure: kept,
    rollout: last ? { ...draft.rollout, phase: 'Failed' } : draft.rollout,
    history: last ? historyWith(inputs, draft, 'Refused', kept) : draft.history,
    events: [
      ...draft.events,
      {
        type: 'Warning',
        reason: kept.reason,
        message: `${spec.version} ${last ? `refused for good after ${attempt} failed validations` : 'not validated yet (retried every poll)'}: ${kept.message}; ${serving}`,
      },
    ],
  };
}

/**
 * The dry run's failure: a refusal ends the rollout (Failed); a failure a later pass may cure
 * is retried every poll, a counted one (attemptFailed) only so many times. The same failure
 * again keeps its first time and is no new Event.
 */
function notValidated(inputs: PassInputs, draft: Draft, failure: RequestFailure): Draft {
  if (COUNTED_REASONS.has(failure.reason)) return attemptFailed(inputs, draft, failure);
  const { spec, now } = inputs;
  const wasSame = sameFailure(draft.lastFailure, failure);
  const kept = wasSame ? draft.lastFailure! : { ...failure, time: now };
  const retried = TRANSIENT_REASONS.has(kept.reason);
  const serving = draft.stable
    ? `${draft.stable.version} keeps serving`
    : 'the agents keep running on their rules';
  return {
    ...draft,
    lastFailure: kept,
    rollout: retried ? draft.rollout : { ...draft.rollout, phase: 'Failed' },
    history: retried ? draft.history : historyWith(inputs, draft, 'Refused', kept),
    events: wasSame
      ? draft.events
      : [
          ...draft.events,
          {
            type: 'Warning',
            reason: kept.reason,
            message: `${spec.version} ${retried ? 'not validated yet (retried every poll)' : 'refused'}: ${kept.message}; ${serving}`,
          },
        ],
  };
}

/** Validation: a dry-run offer to the first pod that answers, which loads and tries the model. */
function validation(
  inputs: PassInputs,
  draft: Draft,
): { draft: Draft; request?: Extract<Request, { kind: 'validate' }> } {
  const { spec, reachable, observed } = inputs;
  if (draft.rollout.phase !== 'Validating' || reachable.length === 0) return { draft };
  const answer = observed.answers.find((a) => a.request.kind === 'validate');
  if (answer?.served) return { draft: validated(inputs, draft, answer.request.pod, answer.served) };
  if (answer?.failure) return { draft: notValidated(inputs, draft, answer.failure) };
  const request = {
    kind: 'validate' as const,
    pod: reachable[0]!.name,
    model: {
      version: spec.version,
      features: spec.features,
      ...(spec.threshold !== undefined ? { threshold: spec.threshold } : {}),
      ...(spec.source.http?.sha256 ? { sha256: spec.source.http.sha256 } : {}),
      source: spec.source,
    },
  };
  return observed.asked.includes(requestKey(request)) ? { draft } : { draft, request };
}

/** A canary's first step: which pods, and the old model's rate on them before the switch. */
function firstCanaryStep(inputs: PassInputs, draft: Draft): Draft {
  const { rollout } = draft;
  if (rollout.phase !== 'Progressing' || inputs.settings.strategy !== 'Canary') return draft;
  if ((rollout.step ?? 0) !== 0) return draft;
  // Canaries are taken from the pods that run and answer, in name order.
  const { reachable, settings, spec } = inputs;
  const canaries = reachable.slice(0, canaryCount(reachable.length, settings.stepPercent, 1));
  const canaryPods = canaries.map((p) => p.name);
  const baselineRate = draft.stable ? flaggedRate(canaries.map((p) => p.model)) : undefined;
  return {
    ...draft,
    rollout: {
      ...rollout,
      step: 1,
      canaryPods,
      ...(baselineRate !== undefined ? { baselineRate } : {}),
    },
    events: [
      ...draft.events,
      {
        type: 'Normal',
        reason: 'CanaryStep',
        message: `step 1: ${canaryPods.join(', ')} move to ${spec.version}`,
      },
    ],
  };
}

/**
 * The answers to this pass's deliveries. The target refused for good ends the rollout; any
 * other failure is tried again next pass, and shown (the first in pod order, so the failure
 * recorded does not flip between two failing pods from one pass to the next).
 */
function deliveryAnswers(inputs: PassInputs, draft: Draft): Draft {
  const failed = inputs.observed.answers
    .filter((a) => a.failure && a.request.kind !== 'validate')
    .sort((a, b) => a.request.pod.localeCompare(b.request.pod));
  const ends = (a: (typeof failed)[number]): boolean =>
    a.request.kind === 'offer' && a.request.ofTarget && !TRANSIENT_REASONS.has(a.failure!.reason);
  const other = failed.find((a) => !ends(a));
  let next = draft;
  if (other && !sameFailure(draft.lastFailure, other.failure!)) {
    const what =
      other.request.kind === 'offer'
        ? `${other.request.model.version} not delivered`
        : 'the model not unloaded';
    next = {
      ...draft,
      lastFailure: { ...other.failure!, time: inputs.now },
      events: [
        ...draft.events,
        {
          type: 'Warning',
          reason: other.failure!.reason,
          message: `${what} yet (retried every poll): ${other.failure!.message}`,
        },
      ],
    };
  }
  const ending = failed.find(ends);
  if (!ending || next.rollout.phase !== 'Progressing') return next;
  return rolledBack(inputs, next, { ...ending.failure!, time: inputs.now });
}

function planOf(draft: Draft, requests: Request[], nextCheckInMs?: number): RolloutPlan {
  const { events, ...state } = draft;
  return {
    ...state,
    ...(requests[0]?.kind === 'validate' ? { validation: requests[0] } : {}),
    offers: requests.filter((r) => r.kind === 'offer'),
    unloads: requests.filter((r) => r.kind === 'unload'),
    events,
    ...(nextCheckInMs !== undefined ? { nextCheckInMs } : {}),
  };
}

/** The plan for a ModelDeployment, from what this pass observed, at `now`. */
export function planRollout(
  md: StoredModelDeployment,
  observed: ObservedRollout,
  now: Date,
): RolloutPlan {
  const settings: RolloutSettings = rolloutSettings(md.spec);
  const reachable: ObservedPod[] = observed.pods.filter((p) => p.answered);
  const inputs: PassInputs = {
    spec: md.spec,
    settings,
    now: now.toISOString(),
    observed,
    reachable,
  };
  const validating = validation(inputs, fromStatus(inputs));
  if (validating.request) return planOf(validating.draft, [validating.request]);
  const delivered = deliveryAnswers(inputs, firstCanaryStep(inputs, validating.draft));
  const owed = deliveriesOwed(inputs, delivered);
  if (owed.length > 0) return planOf(delivered, owed);
  const progress = progressOfStep(inputs, delivered);
  return planOf(progress.draft, deliveriesOwed(inputs, progress.draft), progress.nextCheckInMs);
}
