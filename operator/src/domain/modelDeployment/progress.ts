// A rollout's progress once its pods have what they should: an AllAtOnce rollout completes when
// every pod that answers serves the target; a canary step, once its analysis window has passed,
// is judged, and then completes the rollout, moves more pods, or rolls back (or halts, with
// autoRollback off).
import type { Failure } from './pass.js';
import { historyWith, targetOf, type Draft, type PassInputs } from './draft.js';
import { canaryCount, judgeCanary, serves, stableOf } from './rollout.js';

/** The rollout completed: the target becomes the stable version, and history says since when. */
export function completed(inputs: PassInputs, draft: Draft): Draft {
  const { spec } = inputs;
  const sha256 = draft.rollout.sha256!;
  return {
    ...draft,
    rollout: { ...draft.rollout, phase: 'Complete' },
    history: historyWith(inputs, draft, 'Serving'),
    stable: stableOf(spec, sha256),
    lastFailure: undefined,
    events: [
      ...draft.events,
      { type: 'Normal', reason: 'RolledOut', message: `every agent pod serves ${spec.version}` },
    ],
  };
}

/** The target failed: back to the stable version, or, for a canary without autoRollback, halted. */
export function rolledBack(inputs: PassInputs, draft: Draft, failure: Failure): Draft {
  const { spec, settings } = inputs;
  const halted = !settings.autoRollback && settings.strategy === 'Canary';
  const back = draft.stable
    ? `${draft.stable.version} serves again`
    : 'the agents run on their rules again';
  return {
    ...draft,
    lastFailure: failure,
    rollout: { ...draft.rollout, phase: halted ? 'Halted' : 'RolledBack' },
    history: historyWith(inputs, draft, 'RolledBack', failure),
    events: [
      ...draft.events,
      {
        type: 'Warning',
        reason: halted ? 'CanaryHalted' : 'RolledBack',
        message: `${spec.version}: ${failure.message}; ${halted ? 'autoRollback is off: the canary pods keep it, edit the spec to go on or back' : back}`,
      },
    ],
  };
}

/** A canary step that passed: the rollout completes, or the next step moves more pods. */
function stepPassed(inputs: PassInputs, draft: Draft, live: string[], verdict: string): Draft {
  const { reachable, settings } = inputs;
  const { rollout } = draft;
  if (reachable.every((p) => live.includes(p.name)))
    return completed(inputs, {
      ...draft,
      events: [
        ...draft.events,
        { type: 'Normal', reason: 'CanaryPassed', message: `step ${rollout.step}: ${verdict}` },
      ],
    });
  const step = (rollout.step ?? 1) + 1;
  const more = reachable
    .slice(0, canaryCount(reachable.length, settings.stepPercent, step))
    .map((p) => p.name);
  const canaryPods = [...new Set([...live, ...more])];
  return {
    ...draft,
    // The new step's window starts once its pods serve the target.
    rollout: { ...rollout, step, canaryPods, stepStartedAt: undefined },
    events: [
      ...draft.events,
      {
        type: 'Normal',
        reason: 'CanaryStep',
        message: `step ${step - 1} passed (${verdict}); step ${step}: ${canaryPods.join(', ')}`,
      },
    ],
  };
}

/**
 * A Progressing rollout, once its pods have what they should. nextCheckInMs: when the step's
 * analysis window ends, or 0 when a step just began (its pods are checked again at once).
 */
export function progressOfStep(
  inputs: PassInputs,
  draft: Draft,
): { draft: Draft; nextCheckInMs?: number } {
  if (draft.rollout.phase !== 'Progressing') return { draft };
  const { spec, settings, now, reachable, observed } = inputs;
  const target = targetOf(spec, draft.rollout)!;
  const modelOf = (pod: string) => reachable.find((p) => p.name === pod)?.model;
  if (settings.strategy !== 'Canary') {
    // Complete once every pod that runs serves it; a pod that starts later is given it then.
    const all = reachable.length > 0 && reachable.every((p) => serves(p.model, target));
    return { draft: all ? completed(inputs, draft) : draft };
  }
  // Canary pods that have since gone (scaled down) are no longer waited for.
  const live = (draft.rollout.canaryPods ?? []).filter((c) =>
    observed.pods.some((p) => p.name === c),
  );
  if (!live.every((pod) => serves(modelOf(pod), target))) return { draft };
  const stepStartedAt = draft.rollout.stepStartedAt ?? now;
  const started = { ...draft, rollout: { ...draft.rollout, stepStartedAt } };
  const elapsed = Date.parse(now) - Date.parse(stepStartedAt);
  if (elapsed < settings.analysisWindowMs)
    return { draft: started, nextCheckInMs: settings.analysisWindowMs - elapsed + 100 };
  const verdict = judgeCanary(
    spec.version,
    live.map((pod) => ({ pod, model: modelOf(pod) })),
    draft.rollout.baselineRate,
    stepStartedAt,
  );
  if (!verdict.pass)
    return {
      draft: rolledBack(inputs, started, {
        reason: verdict.reason,
        message: verdict.message,
        time: now,
      }),
    };
  const next = stepPassed(inputs, started, live, verdict.message);
  return { draft: next, ...(next.rollout.phase === 'Progressing' ? { nextCheckInMs: 0 } : {}) };
}
