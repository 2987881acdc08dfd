// The demo: real OpenWrt logs as background, realistic attacks injected, every agent analysing
// the lot into the embedded SQLite store, and a report of what was found against what was
// injected. In a folder it writes the log and the store (each run replaces them, so runs are
// repeatable); in memory (demoStorage.ts: no writable folder) it writes nothing at all.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Registry } from 'prom-client';

import { DeviceSeries } from '../pod/deviceSeries.js';
import { agentMetrics, countAnomalies, publishDevices, startAgentSeries } from '../pod/metrics.js';
import { agentNames } from '../agents/registry.js';
import { ruledAgents } from '../rules/ruledAgents.js';
import type { AgentName, Anomaly } from '../agents/types.js';
import { analyzeLines, type AnalyzeSummary } from '../analyze/analyzeLines.js';
import { loadBaselineModels } from '../model/baselines.js';
import { AnomalyStore, type StoredAnomaly } from '../store/anomalyStore.js';
import { injectAttacks, scenarios } from './attacks.js';
import type { DemoStorage } from './demoStorage.js';
import { scoreDetection, type DetectionReport } from './detection.js';

/** The demo's analysis window: the AnalysisAgent default interval. */
const WINDOW_MS = 5 * 60_000;

export const sampleLog = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  // src/demo -> agent-runtime/data, from source (../..) and from dist/ (../../../..)
  import.meta.url.includes('/dist/')
    ? '../../../../agent-runtime/data/openwrt/logread-sample.log'
    : '../../data/openwrt/logread-sample.log',
);

/**
 * The files a run writes in its folder. Only these are replaced by the next run, never anything
 * else there: the folder may be one of the user's own, or a mounted volume.
 */
const DEMO_FILES = ['routers.log', 'anomalies.db', 'anomalies.db-wal', 'anomalies.db-shm'];

export interface DemoResult {
  storage: DemoStorage;
  /** The log analysed and the SQLite store, in the folder; undefined when kept in memory. */
  logFile?: string;
  databaseFile?: string;
  /** The store, still open (the only copy when in memory): the caller closes it. */
  store: AnomalyStore;
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

/** Runs the demo into `storage` (a folder's path, or a DemoStorage). */
export async function runDemo(storage: DemoStorage | string, seed = 1): Promise<DemoResult> {
  const where: DemoStorage =
    typeof storage === 'string' ? { kind: 'folder', dir: storage } : storage;
  const background = (await readFile(sampleLog, 'utf8')).split('\n').filter((l) => l.length > 0);
  const { lines, scenarioLines } = injectAttacks(
    background,
    Date.parse('2023-07-18T02:00:00Z'),
    30 * 60_000,
    seed,
  );
  const { logFile, databaseFile } = await writeLog(where, lines);
  const store = new AnomalyStore(databaseFile ?? ':memory:', {
    cooldownMs: 15 * 60_000,
    retentionMs: 10 * 365 * 86_400_000,
    maxRows: 100_000,
  });
  const found: Anomaly[] = [];
  const { agents } = await ruledAgents(agentNames, { windowMs: WINDOW_MS });
  const models = await loadBaselineModels(agents.map((a) => a.name));
  const registry = new Registry();
  const metrics = agentMetrics(registry);
  for (const a of agents) startAgentSeries(metrics, a.name);
  const started = performance.now();
  try {
    const summary = await analyzeLines([lines.map((l, i) => [i + 1, l] as [number, string])], {
      agents,
      models,
      windowMs: WINDOW_MS,
      defaultHost: 'gw-home',
      onAnomaly: (a) => found.push(a),
      onInference: (seconds, agent) => metrics.inference.observe({ agent }, seconds),
    });
    store.record(found, { source: logFile ?? 'routers.log', value: String(lines.length) });
    const seconds = (performance.now() - started) / 1000;
    publishMetrics(metrics, agents, summary, found, models);
    const report = scoreDetection(found, scenarios, scenarioLines);
    const detections = strongestDetections(found, scenarioLines);
    return {
      storage: where,
      logFile,
      databaseFile,
      store,
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
  } catch (error) {
    store.close();
    throw error;
  } finally {
    for (const m of Object.values(models)) await m.retire();
  }
}

/** In a folder: the run's files replaced, and the log written; in memory: nothing. */
async function writeLog(
  where: DemoStorage,
  lines: string[],
): Promise<{ logFile?: string; databaseFile?: string }> {
  if (where.kind !== 'folder') return {};
  await mkdir(where.dir, { recursive: true });
  for (const file of DEMO_FILES) await rm(path.join(where.dir, file), { force: true });
  const logFile = path.join(where.dir, 'routers.log');
  await writeFile(logFile, lines.join('\n') + '\n');
  return { logFile, databaseFile: path.join(where.dir, 'anomalies.db') };
}

/** Every agent read every line, as `edgewarden analyze --agent all` does, and is ready. */
function publishMetrics(
  metrics: ReturnType<typeof agentMetrics>,
  agents: readonly { name: AgentName }[],
  summary: AnalyzeSummary,
  found: Anomaly[],
  models: Awaited<ReturnType<typeof loadBaselineModels>>,
): void {
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
}

/** Per scenario: the strongest anomaly of its agent and types whose evidence is its lines. */
function strongestDetections(
  found: Anomaly[],
  scenarioLines: Map<string, Set<number>>,
): DemoResult['detections'] {
  return scenarios.map((s) => ({
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
}
