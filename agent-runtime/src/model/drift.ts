// Feature drift: are the windows a model scores now drawn from the distribution it was trained
// on? Per feature, a two-sample Kolmogorov–Smirnov test between the live values of a sliding
// window of recent windows and the training values, the latter as the manifest keeps them
// (101 quantiles: an empirical CDF to 1% resolution). A feature drifts when the test rejects
// at `alpha` and the distance D is at least `minDistance`: with thousands of training rows a
// tiny, harmless shift is already "significant", so the size of the shift has to matter too.
import type { DriftReport, FeatureDrift } from '../contract/status.js';
import type { FeatureSummary } from './manifest.js';

export interface DriftOptions {
  /** Live windows kept per feature (default 288: a day of 5-minute windows). */
  window: number;
  /** Fewer live windows than this are not judged (default 30). */
  minWindows: number;
  /** Significance level of each feature's test (default 0.001). */
  alpha: number;
  /** Smallest KS distance that counts as drift (default 0.2). */
  minDistance: number;
}

// The report is part of the agent's /status body, so its shape is the contract's.
export type { DriftReport, FeatureDrift } from '../contract/status.js';

const DEFAULTS: DriftOptions = { window: 288, minWindows: 30, alpha: 0.001, minDistance: 0.2 };

/** P(K > λ) for the Kolmogorov distribution (the asymptotic KS p-value). */
export function kolmogorovQ(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * lambda * lambda);
    sum += (k % 2 === 1 ? 1 : -1) * term;
    if (term < 1e-12) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

/** The training CDF at x, from the summary's quantiles: the largest i/(q-1) with q_i <= x. */
function referenceCdf(quantiles: readonly number[], x: number): number {
  let lo = 0;
  let hi = quantiles.length; // first index with q > x
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (quantiles[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? 0 : (lo - 1) / (quantiles.length - 1);
}

/**
 * Two-sample KS between live values and a quantile summary of `referenceCount` training values.
 * Both CDFs are right-continuous steps, so the largest gap is at one of their jump points.
 */
export function ksAgainstSummary(
  live: readonly number[],
  summary: Pick<FeatureSummary, 'quantiles' | 'count'>,
): { distance: number; pValue: number } {
  const m = live.length;
  if (m === 0) return { distance: 0, pValue: 1 };
  const sorted = [...live].sort((a, b) => a - b);
  const points = [...new Set([...sorted, ...summary.quantiles])].sort((a, b) => a - b);
  let distance = 0;
  let j = 0;
  for (const x of points) {
    while (j < m && sorted[j]! <= x) j++;
    distance = Math.max(distance, Math.abs(j / m - referenceCdf(summary.quantiles, x)));
  }
  const n = summary.count;
  const ne = (n * m) / (n + m);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * distance;
  return { distance, pValue: kolmogorovQ(lambda) };
}

export class DriftMonitor {
  private readonly options: DriftOptions;
  private readonly values = new Map<string, number[]>();
  private seen = 0;

  constructor(
    private readonly summary: Readonly<Record<string, FeatureSummary>>,
    options: Partial<DriftOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    for (const name of Object.keys(summary)) this.values.set(name, []);
  }

  /** One closed window's features (features the summary lacks are ignored). */
  observe(features: Readonly<Record<string, number>>): void {
    this.seen++;
    for (const [name, values] of this.values) {
      values.push(features[name] ?? 0);
      if (values.length > this.options.window) values.shift();
    }
  }

  report(): DriftReport {
    const windows = Math.min(this.seen, this.options.window);
    const judged = windows >= this.options.minWindows;
    const features: Record<string, FeatureDrift> = {};
    for (const [name, values] of this.values) {
      const { distance, pValue } = ksAgainstSummary(values, this.summary[name]!);
      features[name] = {
        distance: Number(distance.toFixed(4)),
        pValue: Number(pValue.toPrecision(4)),
        drifted: judged && pValue < this.options.alpha && distance >= this.options.minDistance,
      };
    }
    const drifted = Object.keys(features).filter((f) => features[f]!.drifted);
    return { windows, judged, detected: drifted.length > 0, drifted, features };
  }
}
