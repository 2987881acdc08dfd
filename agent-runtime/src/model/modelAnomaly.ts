// A model's verdict on a window, as an anomaly: the window's feature vector scored at or
// above the model's threshold.
import type { WindowFeatures } from '../agents/engine.js';
import type { Anomaly } from '../agents/types.js';
import type { LoadedModel } from './model.js';

export function modelAnomaly(
  window: WindowFeatures,
  model: LoadedModel,
  score: number,
): Anomaly | undefined {
  const { threshold, version, features } = model.manifest;
  if (!(score >= threshold)) return undefined;
  // Past the threshold, the upper half of what is left is high severity.
  const severity = score >= (1 + threshold) / 2 ? 4 : 3;
  return {
    agent: window.agent,
    device: window.device,
    type: 'model_score',
    severity,
    confidence: Number(score.toFixed(3)),
    score: Number(score.toFixed(4)),
    windowStart: window.windowStart,
    windowEnd: window.windowEnd,
    description: `model ${version} scored this window ${score.toFixed(2)} (threshold ${threshold})`,
    features: Object.fromEntries(features.map((f) => [f, window.features[f] ?? 0])),
    evidence: window.evidence,
  };
}
