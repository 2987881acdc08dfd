// Every injected attack is found by the right agent, and the real background stays quiet.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { agentNames } from '../agents/registry.js';
import type { Anomaly } from '../agents/types.js';
import { analyzeLines } from '../analyze/analyzeLines.js';
import { ruledAgents } from '../rules/ruledAgents.js';
import { injectAttacks, scenarios } from './attacks.js';
import { scoreDetection } from './detection.js';

const background = readFileSync(
  path.resolve(
    path.dirname(fileURLToPath(import.meta.url)),
    '../../data/openwrt/logread-sample.log',
  ),
  'utf8',
)
  .split('\n')
  .filter((l) => l.length > 0);
// The agents as every program runs them: their own code and all the built-in rule packs.
const { agents } = await ruledAgents(agentNames, { windowMs: 300_000 });

async function analyze(lines: string[]): Promise<Anomaly[]> {
  const found: Anomaly[] = [];
  await analyzeLines([lines.map((l, i) => [i + 1, l] as [number, string])], {
    agents,
    windowMs: 300_000,
    defaultHost: 'gw-home',
    onAnomaly: (a) => found.push(a),
  });
  return found;
}

test('the real background alone raises nothing above severity 2 but its real PSK mismatches', async () => {
  const anomalies = await analyze(background);
  const loud = anomalies.filter((a) => a.severity > 2);
  expect(loud.length).toBeGreaterThan(0);
  expect(loud.filter((a) => !a.type.startsWith('psk_mismatch'))).toEqual([]);
  // Every PSK finding points at real AP-STA-POSSIBLE-PSK-MISMATCH lines.
  for (const a of loud)
    for (const ref of a.evidence)
      expect(background[Number(ref) - 1]).toContain('AP-STA-POSSIBLE-PSK-MISMATCH');
});

describe.each([1, 2, 3])('attacks injected into the real background (seed %i)', (seed) => {
  let anomalies: Anomaly[];
  let injected: ReturnType<typeof injectAttacks>;

  beforeAll(async () => {
    injected = injectAttacks(background, Date.parse('2023-07-18T02:00:00Z'), 30 * 60_000, seed);
    anomalies = await analyze(injected.lines);
  });

  test.each(scenarios.map((s) => [s.name, s] as const))(
    '%s is found by the right agent',
    (_name, scenario) => {
      const lines = injected.scenarioLines.get(scenario.name)!;
      const match = anomalies.filter(
        (a) =>
          a.agent === scenario.agent &&
          scenario.types.includes(a.type) &&
          a.evidence.some((r) => lines.has(Number(r))),
      );
      expect(match.length).toBeGreaterThan(0);
      expect(match.some((a) => a.severity >= 3)).toBe(true);
    },
  );

  test('no false alarms: precision and recall are 1', () => {
    const report = scoreDetection(anomalies, scenarios, injected.scenarioLines);
    expect(report.missed).toEqual([]);
    expect(report.falsePositives).toEqual([]);
    expect(report.recall).toBe(1);
    expect(report.precision).toBe(1);
  });
});
