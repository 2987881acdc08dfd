// The drift test's statistics, against exact values and against the exact two-sample KS on
// raw data, and the monitor's verdicts on unchanged and shifted feature streams.
import { seededRandom } from '../demo/attacks.js';
import { summarise } from '../trainer/train.js';
import { DriftMonitor, kolmogorovQ, ksAgainstSummary } from './drift.js';

const normal = (r: () => number): number =>
  Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
/** Poisson counts, like most window features (lines, failures, stations). */
const poisson = (r: () => number, mean: number): number => {
  let k = 0;
  for (let p = Math.exp(-mean), s = p, u = r(); u > s; s += p *= mean / ++k);
  return k;
};

function exactKs(a: number[], b: number[]): number {
  const xs = [...new Set([...a, ...b])].sort((x, y) => x - y);
  const cdf = (v: number[], x: number): number => v.filter((y) => y <= x).length / v.length;
  return Math.max(...xs.map((x) => Math.abs(cdf(a, x) - cdf(b, x))));
}

const summaryOf = (values: number[]) =>
  summarise({ features: ['f'], rows: values.map((v) => [v]), keys: [] }).f!;

test('the Kolmogorov distribution at its usual critical values', () => {
  expect(kolmogorovQ(1.358)).toBeCloseTo(0.05, 3);
  expect(kolmogorovQ(1.628)).toBeCloseTo(0.01, 3);
  expect(kolmogorovQ(0)).toBe(1);
  expect(kolmogorovQ(5)).toBeLessThan(1e-20);
});

test('the distance from a quantile summary is the exact two-sample distance to within 1%', () => {
  const r = seededRandom(5);
  for (const shift of [0, 0.3, 1]) {
    const train = Array.from({ length: 5000 }, () => normal(r));
    const live = Array.from({ length: 300 }, () => normal(r) + shift);
    const { distance } = ksAgainstSummary(live, summaryOf(train));
    expect(Math.abs(distance - exactKs(live, train))).toBeLessThanOrEqual(0.011);
  }
  // Counts, with their many ties.
  const train = Array.from({ length: 5000 }, () => poisson(r, 3));
  const live = Array.from({ length: 300 }, () => poisson(r, 4));
  const { distance } = ksAgainstSummary(live, summaryOf(train));
  expect(Math.abs(distance - exactKs(live, train))).toBeLessThanOrEqual(0.011);
});

describe('DriftMonitor', () => {
  const r = seededRandom(9);
  const training = Array.from({ length: 4000 }, () => [poisson(r, 5), normal(r) * 3 + 20]);
  const summary = summarise({ features: ['lines', 'stations'], rows: training, keys: [] });

  test('the training distribution itself does not drift', () => {
    const monitor = new DriftMonitor(summary);
    for (let i = 0; i < 600; i++)
      monitor.observe({ lines: poisson(r, 5), stations: normal(r) * 3 + 20 });
    const report = monitor.report();
    expect(report).toMatchObject({ windows: 288, judged: true, detected: false, drifted: [] });
    expect(report.features.lines!.distance).toBeLessThan(0.1);
  });

  test('a shifted feature drifts, and is named; the others do not', () => {
    const monitor = new DriftMonitor(summary);
    for (let i = 0; i < 300; i++)
      monitor.observe({ lines: poisson(r, 12), stations: normal(r) * 3 + 20 });
    const report = monitor.report();
    expect(report.detected).toBe(true);
    expect(report.drifted).toEqual(['lines']);
    expect(report.features.lines!.pValue).toBeLessThan(1e-6);
    expect(report.features.lines!.distance).toBeGreaterThan(0.5);
  });

  test('too few live windows are not judged, however odd they look', () => {
    const monitor = new DriftMonitor(summary, { minWindows: 30 });
    for (let i = 0; i < 29; i++) monitor.observe({ lines: 500, stations: 0 });
    expect(monitor.report()).toMatchObject({ judged: false, detected: false });
    monitor.observe({ lines: 500, stations: 0 });
    expect(monitor.report()).toMatchObject({
      judged: true,
      detected: true,
      drifted: ['lines', 'stations'],
    });
  });

  test('the sliding window forgets: drift that stops goes away', () => {
    const monitor = new DriftMonitor(summary, { window: 100 });
    for (let i = 0; i < 100; i++) monitor.observe({ lines: 50, stations: 20 });
    expect(monitor.report().detected).toBe(true);
    for (let i = 0; i < 100; i++)
      monitor.observe({ lines: poisson(r, 5), stations: normal(r) * 3 + 20 });
    expect(monitor.report().detected).toBe(false);
  });
});
