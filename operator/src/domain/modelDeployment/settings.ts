// How a ModelDeployment rolls out, with the CRD's defaults where its spec leaves a field out.
// The API server fills the defaults in before the operator sees an object, but a spec from
// elsewhere (a test, an object stored before a default was added) may lack them, so they come
// from the CRD's own schema (withSchemaDefaults), never from a second literal here.
import { parseDuration } from '../../../../api/src/duration.js';
import { withSchemaDefaults } from '../../../../api/src/defaults.js';
import type { ModelDeploymentSpec } from '../../../../api/src/generated/types.js';

export interface RolloutSettings {
  strategy: 'AllAtOnce' | 'Canary';
  /** The share of the pods a canary step moves, in percent. */
  stepPercent: number;
  /** How long a canary step is watched before it is judged. */
  analysisWindowMs: number;
  autoRollback: boolean;
  /** How many entries status.history keeps. */
  historyLimit: number;
}

/**
 * The settings of a spec. spec.rollout.canary has no default object of its own, so an empty
 * one is given for its fields' defaults to fill (a Canary strategy whose spec names none of
 * them). The analysis window's pattern and CEL rule let only durations through.
 */
export function rolloutSettings(spec: ModelDeploymentSpec): RolloutSettings {
  const filled = withSchemaDefaults('ModelDeployment', {
    ...spec,
    rollout: { ...spec.rollout, canary: { ...spec.rollout?.canary } },
  });
  const { strategy, canary, autoRollback } = filled.rollout;
  return {
    strategy: strategy!,
    stepPercent: canary.stepPercent!,
    analysisWindowMs: parseDuration(canary.analysisWindow!)!,
    autoRollback: autoRollback!,
    historyLimit: filled.revisionHistoryLimit!,
  };
}
