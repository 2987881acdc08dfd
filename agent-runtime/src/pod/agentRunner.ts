// The running agent (`edgewarden agent`, an agent pod's entrypoint): an analysis cycle every
// interval, HTTP endpoints for probes, Prometheus and the operator, and a clean shutdown.
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import express from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';

import { AnalysisEngine } from '../agents/engine.js';
import { builtInAgents } from '../agents/registry.js';
import { RuleBook, withRules } from '../rules/withRules.js';
import type { AgentName } from '../agents/types.js';
import { parseDuration } from '../../../api/src/duration.js';
import { RedisCache } from '../cache/redisCache.js';
import {
  agentEnv,
  agentPaths,
  type ModelOfferRefusal,
  type ModelOfferResult,
  type AgentStatus,
  type GuardState,
  type Pressure,
  type ServedModel,
} from '../contract/index.js';
import { ensureWritableFolder } from '../files/writableFolder.js';
import { ANOMALY_ORDER_HEADER, parseAnomalyQuery, severityRank } from '../http/anomalyQuery.js';
import { authorized, offerBytes, offerManifest, parseOffer } from '../model/delivery.js';
import { installModel, uninstallModel } from '../model/install.js';
import { ModelError } from '../model/manifest.js';
import { ModelWatcher } from '../model/modelWatcher.js';
import { Notifier } from '../notify/notifier.js';
import { WindowScorer } from '../model/windowScorer.js';
import { PostgresSource, SourceError } from '../source/postgresSource.js';
import { resolveMapping } from '../source/presets.js';
import { AnomalyStore } from '../store/anomalyStore.js';
import { DriftMonitor } from '../model/drift.js';
import type { LoadedModel } from '../model/model.js';
import type { AgentConfig } from './config.js';
import { restoreEngine, runCycle, type CycleResult } from './cycle.js';
import { describeStart } from './sourceStart.js';
import { DeviceSeries } from './deviceSeries.js';
import {
  agentMetrics,
  countAnomalies,
  publishDevices,
  startAgentSeries,
  type AgentMetrics,
} from './metrics.js';

/** spec.thresholds.score's default (api/schema/analysisagent.yaml). */
const DEFAULT_SCORE_THRESHOLD = 0.8;
import { nextStretch, PressureSampler } from './resourceGuard.js';
import { RulesReloader } from './rulesReloader.js';

/** How many recent windows make the golden sample an offered model is tried on. */
const GOLDEN_ROWS = 32;

export class AgentRunner {
  private readonly agentName: AgentName;
  private readonly registry = new Registry();
  private readonly source: PostgresSource;
  private readonly store: AnomalyStore;
  private readonly engine: AnalysisEngine;
  private readonly rules: RulesReloader;
  private readonly book: RuleBook;
  private readonly scorer: WindowScorer;
  private readonly models: ModelWatcher | undefined;
  private readonly cache: RedisCache | undefined;
  private readonly notifier: Notifier;
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private cycle: Promise<void> | undefined;
  private stopping = false;
  private failures = 0;
  private sourceReachable = false;
  private sourceError: string | undefined = 'no cycle has run yet';
  private lastCycleTime: string | undefined;
  private lastTick = Date.now();
  private newestLineTime: number | undefined;
  private readonly devices = new DeviceSeries();
  private readonly sampler = new PressureSampler();
  private pressure: Pressure = { cpu: 0, memory: 0 };
  private guard: GuardState = { stretch: 1 };
  private readonly metrics: AgentMetrics;
  /** Drift of the features of the model now serving, reset when another model is swapped in. */
  private drift: { model: LoadedModel; monitor: DriftMonitor } | undefined;
  /** What the model now serving has scored since it was loaded (canary analysis reads it). */
  private scored:
    { model: LoadedModel; windows: number; flagged: number; inferenceErrors: number } | undefined;
  /** The latest windows' features: the golden sample an offered model is tried on. */
  private readonly recentWindows: Record<string, number>[] = [];
  /**
   * Windows the running cycle closed, and what the model scored of them: drift, the golden
   * sample and the scored counts take them once the cycle commits. A failed cycle's are
   * dropped, as its lines are read again by the next one.
   */
  private uncommitted: {
    windows: Record<string, number>[];
    scored: { model: LoadedModel; windows: number; flagged: number }[];
  } = { windows: [], scored: [] };
  /** Offers are installed one at a time. */
  private installing: Promise<unknown> = Promise.resolve();

  private constructor(private readonly config: AgentConfig) {
    const spec = config.spec;
    this.agentName = spec.agent;
    const s = spec.source;
    this.source = new PostgresSource({
      connection: config.connection,
      mapping: resolveMapping(s.preset ?? 'log_entries', s.table, s.columns),
      watermark: s.watermark,
      batchSize: s.batchSize ?? 5000,
      programs: s.programs,
      devices: s.devices,
      shard: config.shard,
      applicationName: `edgewarden-${spec.agent}-${config.pod}`.slice(0, 63),
    });
    this.store = new AnomalyStore(path.join(config.dataDir, 'anomalies.db'), {
      cooldownMs: parseDuration(spec.notifications?.cooldown ?? '15m')!,
      retentionMs: parseDuration(spec.storage?.retention ?? '720h')!,
      maxRows: 100_000,
    });
    this.models =
      spec.model && existsSync(config.modelDir) ? new ModelWatcher(config.modelDir) : undefined;
    this.scorer = new WindowScorer(
      () => {
        const model = this.models?.current();
        return model && model.manifest.agent === this.agentName ? { [this.agentName]: model } : {};
      },
      (seconds) => this.metrics.inference.observe({ agent: this.agentName }, seconds),
      (model, outcome) => {
        // Windows scored count when their cycle commits; a failed batch at once.
        if (!('error' in outcome)) return void this.uncommitted.scored.push({ model, ...outcome });
        if (this.scored?.model !== model)
          this.scored = { model, windows: 0, flagged: 0, inferenceErrors: 0 };
        this.scored.inferenceErrors++;
        this.metrics.inferenceErrors.inc({ agent: this.agentName });
        console.error(
          `edgewarden agent: model ${model.manifest.version}: inference failed, batch skipped: ${outcome.error.message}`,
        );
      },
    );
    const book = (this.book = RuleBook.empty(config.intervalMs));
    this.engine = new AnalysisEngine([withRules(builtInAgents[this.agentName], book)], {
      windowMs: config.intervalMs,
      onWindow: (window) => {
        this.scorer.collect(window);
        this.uncommitted.windows.push(window.features);
      },
    });
    this.rules = new RulesReloader(book, config.configFile, config.rulesDir, () =>
      this.engine.reroute(),
    );
    restoreEngine(this.engine, this.store, this.sourceKey());
    this.cache = config.redisUrl
      ? new RedisCache({
          url: config.redisUrl,
          keyPrefix: spec.cache?.keyPrefix ?? 'edgewarden:',
          agent: spec.agent,
          pod: config.pod,
        })
      : undefined;
    this.notifier = new Notifier({
      agentName: config.name,
      ...config.notifications,
      minSeverity: severityRank(spec.thresholds?.alertSeverity ?? 'high'),
      cooldownMs: parseDuration(spec.notifications?.cooldown ?? '15m')!,
    });
    this.metrics = this.makeMetrics();
    // Devices heard before a restart stay visible, so one that fell silent meanwhile still alerts.
    this.publishDevices(this.store.devices(this.sourceKey()));
  }

  static async start(config: AgentConfig): Promise<AgentRunner> {
    await ensureWritableFolder(config.dataDir, {
      what: "the agent's SQLite anomaly store (anomalies.db)",
      setting: agentEnv.dataDir,
    });
    const runner = new AgentRunner(config);
    // Rules that do not compile at start stop nothing: the agent runs without them and says why.
    if ((await runner.rules.refresh()) === 'replaced') runner.startRuleSeries();
    runner.cache?.connect();
    await runner.models?.start();
    await runner.listen();
    runner.schedule(0);
    return runner;
  }

  /** Each rule's anomaly counter from 0, so a rate or increase() sees its first anomaly. */
  private startRuleSeries(): void {
    for (const rule of this.book.current.byAgent.get(this.agentName)?.rules ?? [])
      this.metrics.ruleAnomalies.inc({ agent: this.agentName, rule: rule.id }, 0);
  }

  private makeMetrics(): AgentMetrics {
    collectDefaultMetrics({ register: this.registry, prefix: 'edgewarden_' });
    const metrics = agentMetrics(this.registry);
    startAgentSeries(metrics, this.agentName);
    return metrics;
  }

  /** Ready: the source answered the last cycle, and a configured model is loaded. */
  private readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.sourceReachable) reasons.push(`source: ${this.sourceError ?? 'unreachable'}`);
    if (this.config.spec.model && !this.models?.current()) reasons.push('model: not loaded');
    return { ready: reasons.length === 0, reasons };
  }

  status(): AgentStatus {
    const model = this.models?.status();
    return {
      agent: this.agentName,
      name: this.config.name,
      pod: this.config.pod,
      ready: this.readiness().ready,
      sourceReachable: this.sourceReachable,
      sourceError: this.sourceReachable ? undefined : this.sourceError,
      paused: this.config.spec.paused ?? false,
      model: model ? { ...model, scored: this.scoredNow() } : undefined,
      cache: this.cache?.state(),
      resources: { ...this.pressure, ...this.guard },
      lastCycleTime: this.lastCycleTime,
      linesAnalyzed: this.store.cycleTotals(this.sourceKey()).lines,
      start: this.store.sourceStart(this.sourceKey()),
      anomalies: this.store.counts(),
      drift: this.driftReport(),
      rules: { ...this.rules.state, top: this.store.topRules() },
    };
  }

  /** edgewarden_model_info: the version served now. */
  private reportModel(): void {
    const model = this.models?.status();
    this.metrics.model.reset();
    if (model?.version)
      this.metrics.model.set({ agent: this.agentName, version: model.version }, 1);
  }

  private scoredNow(): ServedModel['scored'] {
    const current = this.models?.current();
    if (!current) return undefined;
    if (this.scored?.model !== current) return { windows: 0, flagged: 0, inferenceErrors: 0 };
    const { windows, flagged, inferenceErrors } = this.scored;
    return { windows, flagged, inferenceErrors };
  }

  /**
   * PUT /model: the operator's offer. Checked (token, body), its bytes fetched, validated by
   * installModel against this agent's features and recent windows, and (unless a dry run)
   * swapped in. Answers 200 with the result, or 4xx with { reason, message }.
   */
  private async offer(
    authorization: string | undefined,
    body: unknown,
  ): Promise<{ code: number; body: ModelOfferResult | ModelOfferRefusal }> {
    const refused = (code: number, reason: string, message: string) => ({
      code,
      body: { reason, message },
    });
    if (!this.config.controlTokenSha256)
      return refused(403, 'DeliveryDisabled', 'this agent was started without a control token');
    if (!authorized(authorization, this.config.controlTokenSha256))
      return refused(401, 'Unauthorized', 'a valid bearer token is required');
    if (!this.models)
      return refused(409, 'NoModelConfigured', 'this agent has no spec.model and no model folder');
    const request = parseOffer(body);
    if (typeof request === 'string') return refused(400, 'BadRequest', request);
    const models = this.models;
    const run = async () => {
      try {
        const bytes = await offerBytes(request, this.config.modelSourceDir);
        const manifest = await offerManifest(request, this.config.modelSourceDir);
        const result = await installModel(
          this.config.modelDir,
          { ...request, bytes, manifest },
          {
            agent: this.agentName,
            available: builtInAgents[this.agentName].features,
            golden: this.recentWindows,
            dryRun: request.dryRun,
            // Neither the ModelDeployment nor the model's manifest sets one: thresholds.score.
            defaultThreshold: this.config.spec.thresholds?.score ?? DEFAULT_SCORE_THRESHOLD,
          },
        );
        if (result.model) {
          await models.adopt(result.model);
          // /metrics names the new version at once, as /status does (not at the next cycle).
          this.reportModel();
        }
        console.log(
          `edgewarden agent: model ${request.version} (sha256 ${result.sha256.slice(0, 12)}) ${request.dryRun ? 'validated' : 'installed'}; golden sample ${result.golden.flagged}/${result.golden.rows} flagged`,
        );
        const answer: ModelOfferResult = {
          version: request.version,
          sha256: result.sha256,
          dryRun: request.dryRun ?? false,
          golden: result.golden,
        };
        return { code: 200, body: answer };
      } catch (error) {
        const e =
          error instanceof ModelError ? error : new ModelError('InvalidModel', String(error));
        if (!request.dryRun) models.refused(e);
        console.error(`edgewarden agent: model ${request.version} refused: ${e.message}`);
        return refused(422, e.reason, e.message);
      }
    };
    const done = this.installing.then(run);
    this.installing = done.catch(() => undefined);
    return done;
  }

  /** DELETE /model: serve no model (rules only), for a rollback to before the first version. */
  private async unload(
    authorization: string | undefined,
  ): Promise<{ code: number; body: Record<string, string> }> {
    if (
      !this.config.controlTokenSha256 ||
      !authorized(authorization, this.config.controlTokenSha256)
    )
      return {
        code: 401,
        body: { reason: 'Unauthorized', message: 'a valid bearer token is required' },
      };
    const models = this.models;
    if (!models) return { code: 204, body: {} };
    const done = this.installing.then(async () => {
      await uninstallModel(this.config.modelDir);
      await models.unload();
      console.log('edgewarden agent: model unloaded; rules only');
      return { code: 204, body: {} };
    });
    this.installing = done.catch(() => undefined);
    return done;
  }

  /** The committed cycle's windows and scores: into the golden sample, drift and the counts. */
  private takeCommitted(): void {
    const { windows, scored } = this.uncommitted;
    this.uncommitted = { windows: [], scored: [] };
    for (const features of windows) {
      this.recentWindows.push(features);
      if (this.recentWindows.length > GOLDEN_ROWS) this.recentWindows.shift();
      this.observeDrift(features);
    }
    for (const { model, windows: n, flagged } of scored) {
      if (this.scored?.model !== model)
        this.scored = { model, windows: 0, flagged: 0, inferenceErrors: 0 };
      this.scored.windows += n;
      this.scored.flagged += flagged;
    }
  }

  private observeDrift(features: Readonly<Record<string, number>>): void {
    const model = this.models?.current();
    if (!model?.manifest.summary || model.manifest.agent !== this.agentName) {
      this.drift = undefined;
      return;
    }
    if (this.drift?.model !== model)
      this.drift = { model, monitor: new DriftMonitor(model.manifest.summary) };
    this.drift.monitor.observe(features);
  }

  private driftReport(): AgentStatus['drift'] {
    if (!this.drift || this.drift.model !== this.models?.current()) return undefined;
    return { ...this.drift.monitor.report(), modelVersion: this.drift.model.manifest.version };
  }

  private publishDrift(): void {
    const report = this.driftReport();
    const labels = { agent: this.agentName };
    this.metrics.featureDrift.reset();
    if (!report) {
      this.metrics.modelDrift.set(labels, 0);
      return;
    }
    for (const [feature, d] of Object.entries(report.features))
      this.metrics.featureDrift.set({ ...labels, feature }, d.distance);
    this.metrics.modelDrift.set(labels, report.detected ? 1 : 0);
  }

  /** Moves each device's last-line gauge (a new device also starts its anomaly count at 0). */
  private publishDevices(newest: ReadonlyMap<string, number>): void {
    publishDevices(this.metrics, this.agentName, this.devices, newest);
  }

  private sourceKey(): string {
    return `${this.config.spec.source.preset ?? 'log_entries'}:${this.config.spec.source.table ?? ''}`;
  }

  private schedule(delayMs: number): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.cycle = this.runOnce().finally(() => (this.cycle = undefined));
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    this.lastTick = Date.now();
    if (this.config.spec.paused) return this.schedule(this.config.intervalMs);
    const end = this.metrics.cycles.startTimer({ agent: this.agentName });
    this.uncommitted = { windows: [], scored: [] };
    // An edit of spec.rules or of a rule ConfigMap applies from this cycle on.
    const rules = await this.rules.refresh();
    if (rules === 'refused') this.metrics.rulesRefused.inc({ agent: this.agentName });
    if (rules === 'replaced') this.startRuleSeries();
    this.metrics.rules.set({ agent: this.agentName }, this.rules.state.rules);
    try {
      const result = await runCycle({
        source: this.source,
        store: this.store,
        engine: this.engine,
        scorer: this.scorer,
        sourceKey: this.sourceKey(),
        startAt: 'end',
        backfillMs: parseDuration(this.config.spec.source.backfill ?? '') ?? undefined,
        backfill: this.config.spec.source.backfill,
        storeSeverity: severityRank(this.config.spec.thresholds?.storeSeverity ?? 'low'),
      });
      this.takeCommitted();
      if (result.start) console.log(`edgewarden agent: ${describeStart(result.start)}`);
      this.sourceReachable = true;
      this.sourceError = undefined;
      this.failures = 0;
      this.lastCycleTime = new Date().toISOString();
      this.metrics.lines.inc({ agent: this.agentName }, result.lines);
      this.metrics.unparsed.inc({ agent: this.agentName }, result.unreadable);
      this.publishDevices(result.newestByDevice);
      countAnomalies(this.metrics, this.devices, result.anomalies);
      if (result.newestLineTime !== undefined) this.newestLineTime = result.newestLineTime;
      if (this.newestLineTime !== undefined)
        this.metrics.lag.set(
          { agent: this.agentName },
          Math.max(0, (Date.now() - this.newestLineTime) / 1000),
        );
      await this.alert(result.anomalies);
      this.publishDrift();
      this.store.prune();
      // Under CPU or memory pressure, wait longer rather than pile up work.
      this.pressure = await this.sampler.sample();
      const guard = nextStretch(this.guard.stretch, this.pressure);
      if (guard.stretch !== this.guard.stretch)
        console.log(
          `edgewarden agent: cycle interval x${guard.stretch}${guard.reason ? ` (${guard.reason})` : ''}`,
        );
      this.guard = guard;
      this.metrics.stretch.set({ agent: this.agentName }, guard.stretch);
      // Not caught up (a big backlog) and no pressure: go on at once rather than wait an interval.
      this.schedule(
        result.caughtUp || guard.stretch > 1 ? this.config.intervalMs * guard.stretch : 0,
      );
    } catch (error) {
      this.failures++;
      if (error instanceof SourceError) {
        this.sourceReachable = false;
        this.sourceError = error.message;
        this.metrics.sourceErrors.inc({ agent: this.agentName });
      }
      console.error(`edgewarden agent: cycle failed: ${(error as Error).message}`);
      // Retry sooner than an interval, backing off: 1 s, 2 s, 4 s ... up to the interval.
      this.schedule(Math.min(this.config.intervalMs, 1000 * 2 ** Math.min(this.failures - 1, 10)));
    } finally {
      end();
      this.reportModel();
      this.metrics.ready.set({ agent: this.agentName }, this.readiness().ready ? 1 : 0);
      if (this.cache) {
        const { ready, reasons } = this.readiness();
        await this.cache.publishStatus(
          {
            status: this.config.spec.paused ? 'paused' : 'analysing',
            health: ready ? 'ok' : 'degraded',
            error: reasons.join('; '),
            lastCheck: new Date(),
          },
          Math.ceil((3 * this.config.intervalMs) / 1000),
        );
      }
    }
  }

  /** Sends alerts; a failing channel is counted and logged (without its URL), never fatal. */
  private async alert(anomalies: CycleResult['anomalies']): Promise<void> {
    const report = await this.notifier.notify(anomalies);
    for (const channel of this.notifier.channels()) {
      const failed = report.failures.filter((f) => f.channel === channel).length;
      if (report.sent - failed > 0)
        this.metrics.notifications.inc(
          { agent: this.agentName, channel, outcome: 'sent' },
          report.sent - failed,
        );
      if (failed > 0)
        this.metrics.notifications.inc(
          { agent: this.agentName, channel, outcome: 'failed' },
          failed,
        );
    }
    for (const f of report.failures)
      console.error(`edgewarden agent: ${f.channel} notification failed: ${f.error}`);
  }

  private async listen(): Promise<void> {
    const app = express();
    app.disable('x-powered-by');
    app.get(agentPaths.health, (_req, res) => {
      // Alive unless the loop has stopped ticking (a wedged cycle).
      const wedged =
        Date.now() - this.lastTick > 3 * this.config.intervalMs + 60_000 &&
        this.cycle !== undefined;
      res.status(wedged ? 500 : 200).json({ status: wedged ? 'wedged' : 'ok' });
    });
    app.get(agentPaths.ready, (_req, res) => {
      const { ready, reasons } = this.readiness();
      res.status(ready ? 200 : 503).json({ ready, reasons });
    });
    app.get(agentPaths.metrics, async (_req, res) => {
      res.type(this.registry.contentType).send(await this.registry.metrics());
    });
    app.get(agentPaths.status, (_req, res) => {
      res.json(this.status());
    });
    app.put(agentPaths.model, express.json({ limit: '48mb' }), async (req, res) => {
      const answer = await this.offer(req.get('authorization'), req.body);
      res.status(answer.code).json(answer.body);
    });
    app.delete(agentPaths.model, async (req, res) => {
      const answer = await this.unload(req.get('authorization'));
      res.status(answer.code).json(answer.body);
    });
    app.get(agentPaths.anomalies, (req, res) => {
      const q = parseAnomalyQuery(req.query);
      if (!q.ok) return void res.status(400).json({ error: q.error });
      res.set(ANOMALY_ORDER_HEADER, q.order);
      res.json(this.store.list(q));
    });
    await new Promise<void>((resolve, reject) => {
      this.server = app.listen(this.config.port, () => resolve());
      this.server.once('error', reject);
    });
  }

  /** The port actually bound (useful when configured as 0). */
  port(): number {
    const address = this.server?.address();
    return typeof address === 'object' && address ? address.port : this.config.port;
  }

  /** Stops taking new cycles, lets a running one finish (or gives it up after 20 s), and closes everything. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    if (this.cycle)
      await Promise.race([this.cycle, new Promise((r) => setTimeout(r, 20_000).unref())]);
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

/** What the engine had learned before the last restart (cycle.ts, where a failed cycle uses it too). */
export { restoreEngine } from './cycle.js';
