// The golden sample check of an offered model: the agent's recent windows and an all-zero
// row, each of which must score a finite number. Run by the validator process (validatorProcess.ts).
import { ModelError } from './manifest.js';
import type { LoadedModel } from './model.js';

export interface GoldenResult {
  rows: number;
  flagged: number;
}

/** Scores the golden rows and an all-zero one; every score must be a finite number. */
export async function scoreGolden(
  model: LoadedModel,
  rows: readonly Readonly<Record<string, number>>[],
): Promise<GoldenResult> {
  const sample = [...rows.map((r) => model.row(r)), model.manifest.features.map(() => 0)];
  const scores = await model.score(sample);
  const bad = scores.findIndex((s) => !Number.isFinite(s));
  if (scores.length !== sample.length || bad >= 0)
    throw new ModelError(
      'InvalidModel',
      `model ${model.manifest.version}: no finite score for golden row ${bad >= 0 ? bad : scores.length} of ${sample.length}`,
    );
  return {
    rows: sample.length,
    flagged: scores.filter((s) => s >= model.manifest.threshold).length,
  };
}
