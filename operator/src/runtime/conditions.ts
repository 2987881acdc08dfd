// Conditions as Kubernetes API conventions have them: one entry per type, status True, False
// or Unknown, a CamelCase reason, a message for people, the generation it was computed from,
// and a lastTransitionTime that moves only when the status flips.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type DesiredCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * The new list of conditions: `desired` in its order, each keeping its old transition time
 * when its status did not change. Conditions not in `desired` are dropped.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  desired: readonly DesiredCondition[],
  generation: number | undefined,
  now: string,
): Condition[] {
  return desired.map((d) => {
    const old = previous?.find((c) => c.type === d.type);
    return {
      ...d,
      observedGeneration: generation,
      lastTransitionTime: old && old.status === d.status ? old.lastTransitionTime : now,
    };
  });
}

export function conditionOf(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
