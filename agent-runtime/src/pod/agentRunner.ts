// The running agent (`edgewarden agent`, an agent pod's entrypoint), its composition root: it
// builds the parts from the configuration (source, store, the engine with its rules, the
// served model and what is measured of it, notifications, metrics) and wires them together:
// an analysis pass (analysisLoop.ts) every interval (scheduler.ts), the HTTP API (httpApi.ts)
// with model delivery (modelDelivery.ts), and a clean shutdown.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { collectDefaultMetrics, Registry } from 'prom-client';

import { AnalysisEngine } from '../agents/engine.js';
import { builtInAgents } from '../agents/registry.js';
import type { AgentName } from '../agents/types.js';
import { RedisCache } from '../cache/redisCache.js';
import { agentEnv, type AgentStatus, type StoreRecovery } from '../contract/index.js';
import { ensureWritableFolder } from '../files/writableFolder.js';
import { componentLog } from '../log.js';
import type { LoadedModel } from '../model/model.js';
import { ModelWatcher } from '../model/modelWatcher.js';
import { WindowScorer } from '../model/windowScorer.js';
import { AlertmanagerClient } from '../notify/alertmanagerClient.js';
import { AlertmanagerSync } from '../notify/alertmanagerSync.js';
import { Notifier } from '../notify/notifier.js';
import { RuleBook, withRules } from '../rules/withRules.js';
import { PostgresSource } from '../source/postgresSource.js';
import { resolveMapping } from '../source/presets.js';
import type { AnomalyStore } from '../store/anomalyStore.js';
import { openStoreRecovering } from '../store/storeRecovery.js';
import { AnalysisLoop } from './analysisLoop.js';
import type { AgentConfig } from './config.js';
import { restoreEngine } from './cycle.js';
import { CycleOutputs } from './cycleOutputs.js';
import { DeviceSeries } from './deviceSeries.js';
import { DriftTracker } from './driftTracker.js';
import { GoldenSample } from './goldenSample.js';
import { serveAgentApi } from './httpApi.js';
import { agentMetrics, publishDevices, startAgentSeries, type AgentMetrics } from './metrics.js';
import { ModelDelivery } from './modelDelivery.js';
import { ResourceGuard } from './resourceGuard.js';
import { RulesReloader } from './rulesReloader.js';
import { CycleScheduler } from './scheduler.js';
import { ScoredCounts } from './scoredCounts.js';

const log = componentLog('agent');

/** How long stop() lets a running cycle finish before giving it up. */
const STOP_GRACE_MS = 20_000;

/** Stored anomalies kept at most, whatever their age. */
const MAX_STORED_ANOMALIES = 100_000;

function sourceOf({ spec, settings, connection, shard, pod }: AgentConfig): PostgresSource {
  const s = spec.source;
  return new PostgresSource({
    connection,
    mapping: resolveMapping(settings.preset, s.table, s.columns),
    watermark: s.watermark,
    batchSize: settings.batchSize,
    programs: s.programs,
    devices: s.devices,
    shard,
    applicationName: `edgewarden-${spec.agent}-${pod}`.slice(0, 63),
  });
}

function cacheOf({ spec, settings, redisUrl, pod }: AgentConfig): RedisCache | undefined {
  if (!redisUrl) return undefined;
  return new RedisCache({
    url: redisUrl,
    keyPrefix: settings.cacheKeyPrefix,
    agent: spec.agent,
    pod,
  });
}

/** The store; an unreadable one is moved aside (never deleted) and a fresh one started. */
function openStore({ dataDir, settings }: AgentConfig): {
  store: AnomalyStore;
  recovery?: StoreRecovery;
} {
  const opened = openStoreRecovering(path.join(dataDir, 'anomalies.db'), {
    cooldownMs: settings.cooldownMs,
    retentionMs: settings.retentionMs,
    maxRows: MAX_STORED_ANOMALIES,
  });
  const r = opened.recovery;
  if (r)
    log.error(
      `the store could not be read: moved aside to ${r.movedTo}, kept (never deleted), and a fresh store started`,
      r.message,
      { reason: r.reason, dataDir },
    );
  return opened;
}

/** The Alertmanager step, when the spec or the operator names an Alertmanager. */
function alertmanagerOf(config: AgentConfig, store: AnomalyStore): AlertmanagerSync | undefined {
  const { alertmanagerUrl: url, settings } = config;
  if (!url) return undefined;
  return new AlertmanagerSync(store, new AlertmanagerClient({ url }), {
    namespace: config.namespace,
    agentName: config.name,
    pod: config.pod,
    intervalMs: settings.intervalMs,
    resolveAfterMs: settings.alertmanager.resolveAfterMs,
    runbookBaseUrl: settings.alertmanager.runbookBaseUrl,
    minSeverity: settings.alertSeverity,
  });
}

function metricsOf(registry: Registry, agent: AgentName): AgentMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'edgewarden_' });
  const metrics = agentMetrics(registry);
  startAgentSeries(metrics, agent);
  return metrics;
}

export class AgentRunner {
  private readonly agent: AgentName;
  private readonly registry = new Registry();
  private readonly metrics: AgentMetrics;
  private readonly source: PostgresSource;
  private readonly store: AnomalyStore;
  /** The store found unreadable at the start, moved aside, and replaced by a fresh one. */
  private readonly storeRecovery: StoreRecovery | undefined;
  private readonly models: ModelWatcher | undefined;
  private readonly cache: RedisCache | undefined;
  private readonly notifier: Notifier;
  private readonly rules: RulesReloader;
  private readonly scored = new ScoredCounts();
  private readonly golden = new GoldenSample();
  private readonly drift: DriftTracker;
  private readonly guard = new ResourceGuard();
  private readonly loop: AnalysisLoop;
  private readonly scheduler: CycleScheduler;
  private readonly delivery: ModelDelivery;
  private server: Server | undefined;

  private constructor(private readonly config: AgentConfig) {
    const { spec, settings } = config;
    this.agent = spec.agent;
    this.metrics = metricsOf(this.registry, this.agent);
    this.source = sourceOf(config);
    ({ store: this.store, recovery: this.storeRecovery } = openStore(config));
    this.models =
      spec.model && existsSync(config.modelDir) ? new ModelWatcher(config.modelDir) : undefined;
    this.cache = cacheOf(config);
    this.notifier = new Notifier({
      agentName: config.name,
      ...config.notifications,
      minSeverity: settings.alertSeverity,
      cooldownMs: settings.cooldownMs,
    });
    this.drift = new DriftTracker(this.agent, () => this.models?.current());
    const book = RuleBook.empty(settings.intervalMs);
    const outputs = new CycleOutputs();
    const scorer = this.scorer(outputs);
    const engine = new AnalysisEngine([withRules(builtInAgents[this.agent], book)], {
      windowMs: settings.intervalMs,
      onWindow: (window) => {
        scorer.collect(window);
        outputs.window(window);
      },
    });
    this.rules = new RulesReloader(book, config.configFile, config.rulesDir, () =>
      engine.reroute(),
    );
    restoreEngine(engine, this.store, settings.sourceKey);
    this.loop = this.analysisLoop({ engine, scorer, outputs, book });
    this.scheduler = new CycleScheduler(settings.intervalMs, () => this.loop.pass());
    this.delivery = this.modelDelivery();
  }

  static async start(config: AgentConfig): Promise<AgentRunner> {
    await ensureWritableFolder(config.dataDir, {
      what: "the agent's SQLite anomaly store (anomalies.db)",
      setting: agentEnv.dataDir,
    });
    const runner = new AgentRunner(config);
    // Rules that do not compile at start stop nothing: the agent runs without them and says why.
    if ((await runner.rules.refresh()) === 'replaced') runner.loop.startRuleSeries();
    runner.cache?.connect();
    await runner.models?.start();
    runner.server = await serveAgentApi(
      {
        wedged: () => runner.scheduler.wedged(),
        readiness: () => runner.loop.readiness(),
        status: () => runner.status(),
        registry: runner.registry,
        delivery: runner.delivery,
        store: runner.store,
        access: config.access,
      },
      config.port,
    );
    runner.scheduler.start();
    return runner;
  }

  /** Scores the windows of this agent's model; its batches join the cycle's outputs. */
  private scorer(outputs: CycleOutputs): WindowScorer {
    return new WindowScorer(
      () => {
        const model = this.models?.current();
        return model && model.manifest.agent === this.agent ? { [this.agent]: model } : {};
      },
      (seconds) => this.metrics.inference.observe({ agent: this.agent }, seconds),
      (model, outcome) =>
        'error' in outcome
          ? this.inferenceFailed(model, outcome.error)
          : outputs.scored({ model, ...outcome }),
    );
  }

  /** A failed batch counts at once: no cycle can take it back. */
  private inferenceFailed(model: LoadedModel, error: Error): void {
    this.scored.failed(model);
    this.metrics.inferenceErrors.inc({ agent: this.agent });
    log.error('inference failed, batch skipped', error, { model: model.manifest.version });
  }

  private analysisLoop(
    parts: Pick<
      ConstructorParameters<typeof AnalysisLoop>[0],
      'engine' | 'scorer' | 'outputs' | 'book'
    >,
  ): AnalysisLoop {
    const devices = new DeviceSeries();
    // Devices heard before a restart stay visible, so one that fell silent meanwhile still alerts.
    publishDevices(
      this.metrics,
      this.agent,
      devices,
      this.store.devices(this.config.settings.sourceKey),
    );
    return new AnalysisLoop({
      ...parts,
      agent: this.agent,
      settings: this.config.settings,
      modelConfigured: this.config.spec.model !== undefined,
      source: this.source,
      store: this.store,
      rules: this.rules,
      models: this.models,
      golden: this.golden,
      drift: this.drift,
      scored: this.scored,
      metrics: this.metrics,
      devices,
      notifier: this.notifier,
      alertmanager: alertmanagerOf(this.config, this.store),
      guard: this.guard,
      cache: this.cache,
    });
  }

  private modelDelivery(): ModelDelivery {
    const { config } = this;
    return new ModelDelivery({
      agent: this.agent,
      controlTokenSha256: config.controlTokenSha256,
      modelDir: config.modelDir,
      modelSourceDir: config.modelSourceDir,
      modelAddresses: config.modelAddresses,
      models: this.models,
      golden: () => this.golden.rows(),
      // Neither the ModelDeployment nor the model's manifest sets one: thresholds.score.
      defaultThreshold: config.settings.scoreThreshold,
      onServed: () => this.loop.reportModel(),
    });
  }

  status(): AgentStatus {
    const model = this.models?.status();
    const { health } = this.loop;
    const { sourceKey } = this.config.settings;
    return {
      agent: this.agent,
      name: this.config.name,
      pod: this.config.pod,
      ready: this.loop.readiness().ready,
      sourceReachable: health.reachable,
      sourceError: health.reachable ? undefined : health.error,
      paused: this.config.settings.paused,
      model: model
        ? { ...model, scored: this.scored.forServed(this.models?.current()) }
        : undefined,
      cache: this.cache?.state(),
      resources: { ...this.guard.pressure, ...this.guard.state },
      lastCycleTime: health.lastCycleTime,
      linesAnalyzed: this.store.cycleTotals(sourceKey).lines,
      start: this.store.sourceStart(sourceKey),
      anomalies: this.store.counts(),
      drift: this.drift.report(),
      rules: { ...this.rules.state, top: this.store.topRules() },
      store: this.storeRecovery,
    };
  }

  /** The port actually bound (useful when configured as 0). */
  port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.config.port;
  }

  /** Stops taking new cycles, lets a running one finish (or gives it up after 20 s), and closes everything. */
  async stop(): Promise<void> {
    await this.scheduler.stop(STOP_GRACE_MS);
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    await this.models?.stop();
    await this.cache?.close();
    this.notifier.close();
    await this.source.close().catch(() => undefined);
    this.store.close();
  }
}
