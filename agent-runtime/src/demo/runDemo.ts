// The demo: real OpenWrt logs as background, realistic attacks injected, every agent analysing
// the lot into the embedded SQLite store, and a report of what was found against what was
// injected. Writes its files under `dataDir` (recreated on every run, so runs are repeatable).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Registry } from 'prom-client';

import { DeviceSeries } from '../agent/deviceSeries.js';
import {
  agentMetrics,
  countAnomalies,
  publishDevices,
  startAgentSeries,
} from '../agent/metrics.js';
import { builtInAgents } from '../agents/registry.js';
import type { Anomaly } from '../agents/types.js';
import { analyzeLines, type AnalyzeSummary } from '../analyze/analyzeLines.js';
import { loadBaselineModels } from '../model/baselines.js';
import { AnomalyStore, type StoredAnomaly } from '../store/anomalyStore.js';
import { injectAttacks, scenarios } from './attacks.js';
import { scoreDetection, type DetectionReport } from './detection.js';

export const sampleLog = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  // src/demo -> agent-runtime/data, from source (../..) and from dist/ (../../../..)
  import.meta.url.includes('/dist/')
    ? '../../../../agent-runtime/data/openwrt/logread-sample.log'
    : '../../data/openwrt/logread-sample.log',
);

export interface DemoResult {
  logFile: string;
  databaseFile: string;
  backgroundLines: number;
  injectedLines: number;
  summary: AnalyzeSummary;
  seconds: number;
  stored: StoredAnomaly[];
  report: DetectionReport;
  /** Per scenario: the strongest anomaly that found it. */
  detections: { scenario: string; anomaly?: Anomaly }[];
  /** The shipped models that scored the windows, by agent: their versions. */
  models: Partial<Record<string, string>>;
  /**
   * What the analysis did, in the metric families a running agent exports (one agent label
   * per built-in agent): lines read, anomalies by type and severity and by device, the
   * devices' newest lines, the models served and their inference times.
   */
  metrics: Registry;
}

export async function runDemo(dataDir: string, seed = 1): Promise<DemoResult> {
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const background = (await readFile(sampleLog, 'utf8')).split('\n').filter((l) => l.length > 0);
  const { lines, scenarioLines } = injectAttacks(
    background,
    Date.parse('2023-07-18T02:00:00Z'),
    30 * 60_000,
    seed,
  );
  const logFile = path.join(dataDir, 'routers.log');
  await writeFile(logFile, lines.join('\n') + '\n');

  const databaseFile = path.join(dataDir, 'anomalies.db');
  const store = new AnomalyStore(databaseFile, {
    cooldownMs: 15 * 60_000,
    retentionMs: 10 * 365 * 86_400_000,
    maxRows: 100_000,
  });
  const found: Anomaly[] = [];
  const agents = Object.values(builtInAgents);
  const models = await loadBaselineModels(agents.map((a) => a.name));
  const registry = new Registry();
  const metrics = agentMetrics(registry);
  for (const a of agents) startAgentSeries(metrics, a.name);
  const started = performance.now();
  try {
    const summary = await analyzeLines([lines.map((l, i) => [i + 1, l] as [number, string])], {
      agents,
      models,
      windowMs: 5 * 60_000,
      defaultHost: 'gw-home',
      onAnomaly: (a) => found.push(a),
      onInference: (seconds, agent) => metrics.inference.observe({ agent }, seconds),
    });
    store.record(found, { source: logFile, value: String(lines.length) });
    const seconds = (performance.now() - started) / 1000;
    // Every agent read every line, as `edgewarden analyze --agent all` does, and is ready.
    for (const a of agents) {
      const labels = { agent: a.name };
      metrics.lines.inc(labels, summary.lines - summary.unreadable);
      metrics.unparsed.inc(labels, summary.unreadable);
      metrics.ready.set(labels, 1);
      const devices = new DeviceSeries();
      publishDevices(metrics, a.name, devices, summary.newestByDevice);
      countAnomalies(
        metrics,
        devices,
        found.filter((f) => f.agent === a.name),
      );
      const model = models[a.name];
      if (model) metrics.model.set({ ...labels, version: model.manifest.version }, 1);
    }
    const report = scoreDetection(found, scenarios, scenarioLines);
    const detections = scenarios.map((s) => ({
      scenario: s.name,
      anomaly: found
        .filter(
          (a) =>
            a.agent === s.agent &&
            s.types.includes(a.type) &&
            a.evidence.some((r) => scenarioLines.get(s.name)!.has(Number(r))),
        )
        .sort((a, b) => b.severity - a.severity)[0],
    }));
    return {
      logFile,
      databaseFile,
      backgroundLines: background.length,
      injectedLines: lines.length - background.length,
      summary,
      seconds,
      stored: store.list({ limit: 10_000 }).reverse(),
      report,
      detections,
      models: Object.fromEntries(
        Object.entries(models).map(([agent, m]) => [agent, m.manifest.version]),
      ),
      metrics: registry,
    };
  } finally {
    store.close();
    for (const m of Object.values(models)) await m.retire();
  }
}
