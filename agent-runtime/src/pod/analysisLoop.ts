// One pass of the running agent: the rules brought up to date, one analysis cycle (cycle.ts,
// which commits), then what follows a commit: the windows it produced feed the golden sample,
// drift and the scored counts; metrics, alerts, pruning and the resource guard. A failed cycle
// marks the source unreachable when it was the source that failed. Either way the model info,
// readiness and the Redis status are published. The scheduler (scheduler.ts) decides when the
// next pass runs from what this one returns or throws.
import type { AnalysisEngine } from '../agents/engine.js';
import type { AgentName, Anomaly } from '../agents/types.js';
import type { RedisCache } from '../cache/redisCache.js';
import type { ModelWatcher } from '../model/modelWatcher.js';
import type { WindowScorer } from '../model/windowScorer.js';
import { componentLog } from '../log.js';
import type { AlertmanagerSync } from '../notify/alertmanagerSync.js';
import type { Notifier } from '../notify/notifier.js';
import type { RuleBook } from '../rules/withRules.js';
import { SourceError, type PostgresSource } from '../source/postgresSource.js';
import type { AnomalyStore } from '../store/anomalyStore.js';
import { runCycle, type CycleResult } from './cycle.js';
import type { CycleOutputs, Produced } from './cycleOutputs.js';
import type { DeviceSeries } from './deviceSeries.js';
import type { DriftTracker } from './driftTracker.js';
import type { GoldenSample } from './goldenSample.js';
import {
  countAnomalies,
  countNotifications,
  countSuppressed,
  publishDevices,
  publishTriage,
  reportModel,
  startRuleSeries,
  type AgentMetrics,
} from './metrics.js';
import type { ResourceGuard } from './resourceGuard.js';
import type { RulesReloader } from './rulesReloader.js';
import type { ScoredCounts } from './scoredCounts.js';
import type { SpecSettings } from './settings.js';
import { describeStart } from './sourceStart.js';

export interface LoopParts {
  agent: AgentName;
  settings: SpecSettings;
  /** The spec names a model: the agent is not ready until one is loaded. */
  modelConfigured: boolean;
  source: PostgresSource;
  store: AnomalyStore;
  engine: AnalysisEngine;
  scorer: WindowScorer;
  outputs: CycleOutputs;
  rules: RulesReloader;
  book: RuleBook;
  models: ModelWatcher | undefined;
  golden: GoldenSample;
  drift: DriftTracker;
  scored: ScoredCounts;
  metrics: AgentMetrics;
  devices: DeviceSeries;
  notifier: Notifier;
  /** Alerts to Alertmanager from the store, after each committed cycle; unset: no Alertmanager. */
  alertmanager: AlertmanagerSync | undefined;
  guard: ResourceGuard;
  cache: RedisCache | undefined;
}

/** The period edgewarden_rule_anomalies counts over. */
const TRIAGE_MS = 7 * 86_400_000;

const log = componentLog('agent');

/** Whether the source answered the last cycle, why not, and when a cycle last committed. */
export interface SourceHealth {
  reachable: boolean;
  error?: string;
  lastCycleTime?: string;
}

/**
 * Cycles failed in a row after which the agent says it is not ready, whatever failed (a full
 * disk fails every cycle in the store while the source answers); one committed cycle heals.
 */
export const MAX_FAILED_CYCLES = 3;

export class AnalysisLoop {
  health: SourceHealth = { reachable: false, error: 'no cycle has run yet' };
  private newestLineTime: number | undefined;
  /** Cycles failed since the last one that committed, and the last one's error code. */
  private failures = { inARow: 0, code: undefined as string | undefined };

  constructor(private readonly parts: LoopParts) {}

  /**
   * Ready: the source answered the last cycle, fewer than MAX_FAILED_CYCLES cycles failed in a
   * row, and a configured model is loaded.
   */
  readiness(): { ready: boolean; reasons: string[] } {
    const reasons: string[] = [];
    if (!this.health.reachable) reasons.push(`source: ${this.health.error ?? 'unreachable'}`);
    else if (this.failures.inARow >= MAX_FAILED_CYCLES)
      // The error's code only (SQLITE_FULL, ...): its message is in the log, not on a probe.
      reasons.push(
        `cycles: ${this.failures.inARow} failed in a row${this.failures.code ? ` (${this.failures.code})` : ''}; see the log`,
      );
    if (this.parts.modelConfigured && !this.parts.models?.current())
      reasons.push('model: not loaded');
    return { ready: reasons.length === 0, reasons };
  }

  /** Each rule's anomaly counter from 0 (at the start, and whenever the rules are replaced). */
  startRuleSeries(): void {
    const { metrics, agent, book } = this.parts;
    const rules = book.current.byAgent.get(agent)?.rules ?? [];
    startRuleSeries(
      metrics,
      agent,
      rules.map((r) => r.id),
    );
    const suppressed = book.current.suppressions.list.map((s) => [s.spec.rule, 0] as const);
    countSuppressed(metrics, agent, new Map(suppressed));
  }

  /** edgewarden_model_info: the version served now. */
  reportModel(): void {
    reportModel(this.parts.metrics, this.parts.agent, this.parts.models?.status().version);
  }

  /** One pass; resolves to the wait before the next, throws when the cycle failed. */
  async pass(): Promise<number> {
    const { settings, metrics, agent } = this.parts;
    if (settings.paused) return settings.intervalMs;
    const end = metrics.cycles.startTimer({ agent });
    await this.refreshRules();
    try {
      const { source, store, engine, scorer, outputs } = this.parts;
      const result = await runCycle({
        source,
        store,
        engine,
        scorer,
        outputs,
        sourceKey: settings.sourceKey,
        startAt: 'end',
        backfillMs: settings.backfillMs,
        backfill: settings.backfill,
        storeSeverity: settings.storeSeverity,
        suppressions: this.parts.book.current.suppressions,
      });
      return await this.committed(result);
    } catch (error) {
      this.failed(error as Error);
      throw error;
    } finally {
      end();
      await this.publishState();
    }
  }

  /** An edit of spec.rules or of a rule ConfigMap applies from this cycle on. */
  private async refreshRules(): Promise<void> {
    const { rules, metrics, agent } = this.parts;
    const outcome = await rules.refresh();
    if (outcome === 'refused') metrics.rulesRefused.inc({ agent });
    if (outcome === 'replaced') this.startRuleSeries();
    metrics.rules.set({ agent }, rules.state.rules);
  }

  /** What follows a committed cycle; returns the wait before the next. */
  private async committed(result: CycleResult): Promise<number> {
    const { metrics, agent, settings } = this.parts;
    this.take(result.produced);
    // In the same turn as take(): /status reads the drift live, so /metrics must not lag it
    // while the alerts below are awaited (a scrape between the two disagreed).
    this.parts.drift.publish(metrics);
    this.failures = { inARow: 0, code: undefined };
    metrics.consecutiveFailures.set({ agent }, 0);
    if (result.start) log.info(`edgewarden agent: ${describeStart(result.start)}`);
    this.health = { reachable: true, lastCycleTime: new Date().toISOString() };
    metrics.lines.inc({ agent }, result.lines);
    metrics.unparsed.inc({ agent }, result.unreadable);
    publishDevices(metrics, agent, this.parts.devices, result.newestByDevice);
    countAnomalies(metrics, this.parts.devices, result.anomalies);
    countSuppressed(metrics, agent, result.suppressed);
    if (result.newestLineTime !== undefined) this.newestLineTime = result.newestLineTime;
    if (this.newestLineTime !== undefined)
      metrics.lag.set({ agent }, Math.max(0, (Date.now() - this.newestLineTime) / 1000));
    await this.alert(result.anomalies);
    this.parts.store.prune();
    // After the alerts: a silence found there may have suppressed some.
    publishTriage(metrics, agent, this.parts.store.triageCounts(new Date(Date.now() - TRIAGE_MS)));
    // Under CPU or memory pressure, wait longer rather than pile up work.
    const guard = await this.parts.guard.afterCycle();
    metrics.stretch.set({ agent }, guard.stretch);
    // Not caught up (a big backlog) and no pressure: go on at once rather than wait an interval.
    return result.caughtUp || guard.stretch > 1 ? settings.intervalMs * guard.stretch : 0;
  }

  /** The committed cycle's windows and scores: into the golden sample, drift and the counts. */
  private take({ windows, scored }: Produced): void {
    for (const features of windows) {
      this.parts.golden.add(features);
      this.parts.drift.observe(features);
    }
    for (const batch of scored) this.parts.scored.add(batch);
  }

  private failed(error: Error): void {
    const { metrics, agent } = this.parts;
    const code = (error as { code?: unknown }).code;
    this.failures = {
      inARow: this.failures.inARow + 1,
      code: typeof code === 'string' ? code : undefined,
    };
    metrics.cycleFailures.inc({ agent });
    metrics.consecutiveFailures.set({ agent }, this.failures.inARow);
    if (error instanceof SourceError) {
      this.health = { ...this.health, reachable: false, error: error.message };
      this.parts.metrics.sourceErrors.inc({ agent: this.parts.agent });
    }
    log.error('cycle failed', error);
  }

  /** Sends alerts; a failing channel is counted and logged (without its URL), never fatal. */
  private async alert(anomalies: Anomaly[]): Promise<void> {
    const { notifier, metrics, agent } = this.parts;
    const report = await notifier.notify(anomalies);
    countNotifications(metrics, agent, notifier.channels(), report);
    for (const f of report.failures)
      log.error('notification failed', f.error, { channel: f.channel });
    await this.syncAlertmanager();
  }

  /** Alertmanager's alerts brought in line with the store; counted like the other channels. */
  private async syncAlertmanager(): Promise<void> {
    const { alertmanager, metrics, agent } = this.parts;
    if (!alertmanager) return;
    const count = (outcome: 'sent' | 'failed', n: number): void => {
      if (n > 0) metrics.notifications.inc({ agent, channel: 'alertmanager', outcome }, n);
    };
    try {
      const report = await alertmanager.sync();
      // Sent: alerts that started or resolved; the renewals of firing ones every cycle are not news.
      count('sent', report.started + report.resolved);
      if (report.failure) {
        count('failed', Math.max(1, report.failure.alerts));
        log.error('alertmanager: sync failed', report.failure.error, {
          channel: 'alertmanager',
          step: report.failure.step,
        });
      }
    } catch (error) {
      // The store's own failure (a full disk): the next cycle tries again.
      count('failed', 1);
      log.error('alertmanager: sync failed', error, { channel: 'alertmanager' });
    }
  }

  /** The model info, readiness, and the status in Redis (which expires after three intervals). */
  private async publishState(): Promise<void> {
    const { metrics, agent, cache, settings } = this.parts;
    this.reportModel();
    const { ready, reasons } = this.readiness();
    metrics.ready.set({ agent }, ready ? 1 : 0);
    await cache?.publishStatus(
      {
        status: settings.paused ? 'paused' : 'analysing',
        health: ready ? 'ok' : 'degraded',
        error: reasons.join('; '),
        lastCheck: new Date(),
      },
      Math.ceil((3 * settings.intervalMs) / 1000),
    );
  }
}
