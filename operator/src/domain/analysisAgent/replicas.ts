// The pods an AnalysisAgent asks for, in one place: the pod count of its StatefulSet, the shard
// count its pods are told, and what its Ready condition waits for all read it here.
import type { AnalysisAgentSpec } from '../../../../api/src/generated/types.js';
import { withSchemaDefaults } from '../../../../api/src/defaults.js';

/** None while paused; else spec.replicas, or the default its schema declares. */
export function desiredReplicas(spec: AnalysisAgentSpec): number {
  if (spec.paused) return 0;
  return withSchemaDefaults('AnalysisAgent', { replicas: spec.replicas }).replicas!;
}
