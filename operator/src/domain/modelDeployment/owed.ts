// What each agent pod is owed in a rollout's current phase: the target, the stable version,
// or (before any version completed) nothing; and the requests that bring it there.
import { targetOf, type Draft, type PassInputs } from './draft.js';
import { requestKey, type ObservedPod, type OfferedModel, type Request } from './pass.js';
import { serves, wantFor, type ModelIdentity, type Stable } from './rollout.js';

function offered(model: ModelIdentity, source: Stable['source']): OfferedModel {
  return {
    version: model.version,
    features: model.features,
    ...(model.threshold !== undefined ? { threshold: model.threshold } : {}),
    sha256: model.sha256,
    source,
  };
}

/** The request that brings a pod to what its phase says it should serve, if it needs one. */
function owedTo(inputs: PassInputs, draft: Draft, pod: ObservedPod): Request | undefined {
  const want = wantFor(pod.name, draft.rollout, inputs.settings.strategy);
  const target = targetOf(inputs.spec, draft.rollout);
  const expected = want === 'target' ? target : draft.stable;
  if (serves(pod.model, expected)) return undefined;
  if (expected)
    return {
      kind: 'offer',
      pod: pod.name,
      model: offered(expected, want === 'target' ? inputs.spec.source : draft.stable!.source),
      ofTarget: want === 'target',
    };
  // No stable version (a first rollout): only a pod serving the failed target is emptied;
  // what else a pod serves is left alone until a version completes.
  return target && serves(pod.model, target) ? { kind: 'unload', pod: pod.name } : undefined;
}

/** The requests still owed to the pods that answer: none asked twice in a pass. */
export function deliveriesOwed(inputs: PassInputs, draft: Draft): Request[] {
  return inputs.reachable
    .map((pod) => owedTo(inputs, draft, pod))
    .filter((r): r is Request => r !== undefined)
    .filter((r) => !inputs.observed.asked.includes(requestKey(r)));
}
