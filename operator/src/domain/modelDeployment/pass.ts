// What one reconcile pass of a ModelDeployment sees and decides, as plain data: the observed
// world going into planRollout (plan.ts), the plan coming out, the requests the plan makes of
// agent pods and their answers, and how those answers fold into what the next plan sees.
//
// A pass plans, makes the plan's requests, folds the answers in, and plans again, until a plan
// asks for nothing new: each request is made at most once a pass, so a pass ends.
import type { ServedModel } from '../../../../agent-runtime/src/contract/index.js';
import type { ModelDeploymentStatus } from '../../../../api/src/generated/types.js';
import type { Condition } from '../../runtime/conditions.js';
import type { HistoryItem, Rollout, Stable } from './rollout.js';

export type EventType = 'Normal' | 'Warning';
export interface RolloutEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Why a request to a pod failed: an agent's refusal, or no usable answer at all. */
export interface RequestFailure {
  reason: string;
  message: string;
}
/** The failure the status shows, with when it was first seen. */
export type Failure = RequestFailure & { time: string };

/** An agent pod of the agents this deployment serves. */
export interface ObservedPod {
  name: string;
  /** Whether it runs and its /status answered: only such a pod is asked anything. */
  answered: boolean;
  /** The model it reports serving. */
  model?: ServedModel;
  /** Why its /status could not be read, when it runs but did not answer. */
  statusError?: string;
}

/**
 * What earlier passes kept in status. The rollout's progress must survive a restart of the
 * operator, so it lives there; a plan reads it as one more input, never from memory.
 */
export type KeptStatus = Pick<ModelDeploymentStatus, 'rollout' | 'stable' | 'history'> & {
  lastFailure?: Partial<Failure>;
  conditions?: Condition[];
};

/** A model offered to a pod (for real, or as a dry run): the offer's fields and its bytes. */
export interface OfferedModel {
  version: string;
  features: readonly string[];
  threshold?: number;
  sha256?: string;
  source: Stable['source'];
}

export type Request =
  | { kind: 'validate'; pod: string; model: OfferedModel }
  /** ofTarget: the target's refusal ends the rollout; a refusal of the stable one is retried. */
  | { kind: 'offer'; pod: string; model: OfferedModel; ofTarget: boolean }
  | { kind: 'unload'; pod: string };

/** A pod's answer to a request: what it now serves (or validated), or why not. */
export interface Answer {
  request: Request;
  served?: { version: string; sha256: string; golden?: { rows: number; flagged: number } };
  failure?: RequestFailure;
}

export interface ObservedRollout {
  /** The pods of the selected agents, in name order, running or not. */
  pods: ObservedPod[];
  /** AnalysisAgents that reference this deployment but run another kind of agent. */
  wrongKind: string[];
  kept: KeptStatus;
  /** The answers to the previous plan's requests, in this pass. */
  answers: Answer[];
  /** The requests made earlier in this pass (requestKey), never made twice. */
  asked: string[];
}

export interface RolloutPlan {
  rollout: Rollout;
  stable?: Stable;
  history: HistoryItem[];
  lastFailure?: Failure;
  /** The dry run to ask of one pod: alone, since its answer decides everything after it. */
  validation?: Extract<Request, { kind: 'validate' }>;
  offers: Extract<Request, { kind: 'offer' }>[];
  /** Pods to empty (DELETE /model): they serve a target that failed, with nothing before it. */
  unloads: Extract<Request, { kind: 'unload' }>[];
  /** Events to record once the status they describe is written. */
  events: RolloutEvent[];
  /** When a canary step's analysis window ends, if sooner than the next poll. */
  nextCheckInMs?: number;
}

/** The identity of a request within a pass. */
export function requestKey(request: Request): string {
  if (request.kind === 'unload') return `unload ${request.pod}`;
  return `${request.kind} ${request.pod} ${request.model.version} ${request.model.sha256 ?? ''}`;
}

export function requestsOf(plan: RolloutPlan): Request[] {
  return plan.validation ? [plan.validation] : [...plan.offers, ...plan.unloads];
}

/** What a pod serves after an answer: the model it took, or none once unloaded. */
function servedAfter(pod: ObservedPod, answer: Answer | undefined): ObservedPod {
  if (!answer || answer.failure || answer.request.kind === 'validate') return pod;
  if (answer.request.kind === 'unload') return { ...pod, model: undefined };
  const { model } = answer.request;
  return {
    ...pod,
    model: {
      version: answer.served!.version,
      sha256: answer.served!.sha256,
      features: [...model.features],
      threshold: model.threshold,
      scored: { windows: 0, flagged: 0, inferenceErrors: 0 },
    },
  };
}

/** What the next plan of this pass sees: the plan's state as kept, and the pods' answers. */
export function afterAnswers(
  observed: ObservedRollout,
  plan: RolloutPlan,
  answers: Answer[],
): ObservedRollout {
  const { rollout, stable, history, lastFailure } = plan;
  return {
    ...observed,
    pods: observed.pods.map((p) =>
      servedAfter(
        p,
        answers.find((a) => a.request.pod === p.name),
      ),
    ),
    kept: { ...observed.kept, rollout, stable, history, lastFailure },
    answers,
    asked: [...observed.asked, ...requestsOf(plan).map(requestKey)],
  };
}
