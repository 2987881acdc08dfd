// What the stages of planRollout share: the inputs of a plan, which no stage changes, and the
// draft each stage hands to the next (the rollout, the version serving, history, Events).
import type { ModelDeploymentSpec } from '../../../../api/src/generated/types.js';
import type { RolloutSettings } from './settings.js';
import type {
  Failure,
  ObservedPod,
  ObservedRollout,
  RequestFailure,
  RolloutEvent,
} from './pass.js';
import { recordHistory } from './rollout.js';
import type { HistoryItem, ModelIdentity, Rollout, Stable } from './rollout.js';

/** What a plan reads and never changes. */
export interface PassInputs {
  spec: ModelDeploymentSpec;
  settings: RolloutSettings;
  /** The pass's time, RFC 3339. */
  now: string;
  observed: ObservedRollout;
  /** The pods that run and answered their /status, in name order. */
  reachable: ObservedPod[];
}

/** The rollout as the stages of a plan carry it along. */
export interface Draft {
  rollout: Rollout;
  stable?: Stable;
  history: HistoryItem[];
  lastFailure?: Failure;
  events: RolloutEvent[];
}

/** The target as a pod reports it, once validation gave its bytes' sha256. */
export function targetOf(spec: ModelDeploymentSpec, rollout: Rollout): ModelIdentity | undefined {
  if (rollout.sha256 === undefined) return undefined;
  return {
    version: spec.version,
    sha256: rollout.sha256,
    features: spec.features,
    threshold: spec.threshold,
  };
}

/**
 * The history with the target's entry in front: its outcome, and for a failure its reason
 * (cut to the 1024 characters the CRD allows), trimmed to the spec's limit.
 */
export function historyWith(
  inputs: PassInputs,
  draft: Draft,
  outcome: 'Serving' | 'Refused' | 'RolledBack',
  failure?: RequestFailure,
): HistoryItem[] {
  const { spec, settings, now } = inputs;
  const { sha256 } = draft.rollout;
  return recordHistory(
    draft.history,
    {
      version: spec.version,
      ...(outcome !== 'Refused' && sha256 !== undefined ? { sha256 } : {}),
      ...(outcome === 'Serving' ? { servedFrom: now } : {}),
      outcome,
      ...(failure ? { reason: `${failure.reason}: ${failure.message}`.slice(0, 1024) } : {}),
    },
    settings.historyLimit,
    now,
  );
}
