// Scores a run of the agents against injected attacks: which scenarios were found, by the right
// agent and type, and what else was reported. Used by the demo and the detection tests.
import type { Anomaly } from '../agents/types.js';
import type { Scenario } from './attacks.js';

export interface DetectionReport {
  /** Scenarios found by the right agent with a right type. */
  found: string[];
  missed: string[];
  /** Anomalies (severity >= 3) that point at injected lines of a scenario they belong to. */
  truePositives: number;
  /** Anomalies (severity >= 3) that point at no injected line and are not real PSK mismatches. */
  falsePositives: Anomaly[];
  precision: number;
  recall: number;
}

export const ALERTING_SEVERITY = 3;

export function scoreDetection(
  anomalies: readonly Anomaly[],
  scenarios: readonly Scenario[],
  scenarioLines: ReadonlyMap<string, ReadonlySet<number>>,
): DetectionReport {
  const hits = (a: Anomaly, s: Scenario): boolean =>
    a.agent === s.agent &&
    s.types.includes(a.type) &&
    a.evidence.some((ref) => scenarioLines.get(s.name)?.has(Number(ref)));
  const injected = (a: Anomaly): boolean =>
    a.evidence.some((ref) => [...scenarioLines.values()].some((lines) => lines.has(Number(ref))));
  const found = scenarios.filter((s) => anomalies.some((a) => hits(a, s))).map((s) => s.name);
  const alerting = anomalies.filter((a) => a.severity >= ALERTING_SEVERITY);
  const truePositives = alerting.filter((a) => scenarios.some((s) => hits(a, s))).length;
  // The real background has genuine wrong-password events: reporting them is right, not noise.
  const falsePositives = alerting.filter((a) => !injected(a) && !a.type.startsWith('psk_mismatch'));
  const judged = truePositives + falsePositives.length;
  return {
    found,
    missed: scenarios.filter((s) => !found.includes(s.name)).map((s) => s.name),
    truePositives,
    falsePositives,
    precision: judged === 0 ? 1 : truePositives / judged,
    recall: scenarios.length === 0 ? 1 : found.length / scenarios.length,
  };
}
