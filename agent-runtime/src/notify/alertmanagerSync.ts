// The Alertmanager step after each committed cycle: the store's alertable anomalies (at least
// alertSeverity, open or still firing) posted as firing or resolved alerts, the store told
// which it sent (its alert ledger), then Alertmanager asked which of ours a silence holds, and
// those anomalies marked suppressed (resolved in Alertmanager the cycle after). Everything it
// needs to know lives in the store, not here: a restarted agent renews the alerts that fire
// and never sends a resolved one again. A failed post marks nothing, so the next cycle sends
// it all again; the step reports Alertmanager's failures rather than throw them (the store's
// own errors, a full disk, are thrown: the caller logs them like the cycle's).
import {
  planAlerts,
  silencedAnomalies,
  type AlertableAnomaly,
  type AlertPlanSettings,
} from './alertmanagerAlerts.js';
import type { AlertmanagerClient } from './alertmanagerClient.js';

/** The store's alert ledger (AnomalyStore): what the sync reads and records. */
export interface AlertLedger {
  alertable(minSeverity: number, limit?: number, seenSince?: string): AlertableAnomaly[];
  markAlerts(ids: number[], state: 'firing' | 'resolved', endsAt: string): void;
  markSilenced(id: number, silenceIds: string[], now?: Date): void;
}

export interface AlertmanagerSyncOptions extends AlertPlanSettings {
  /** Least severity (1-5) sent: thresholds.alertSeverity. */
  minSeverity: number;
}

export interface SyncReport {
  /** Alerts posted firing (renewals included), of which `started` were not firing before. */
  firing: number;
  started: number;
  resolved: number;
  /** Anomalies marked suppressed because a silence holds their alert. */
  silenced: number;
  /** The step that failed and why (no URL in it); alerts counted above were sent before it. */
  failure?: { step: 'post' | 'read'; error: string; alerts: number };
}

export class AlertmanagerSync {
  constructor(
    private readonly ledger: AlertLedger,
    private readonly client: AlertmanagerClient,
    private readonly options: AlertmanagerSyncOptions,
  ) {}

  /** One round with Alertmanager; its failures are in the report. */
  async sync(now = new Date()): Promise<SyncReport> {
    // Stale open anomalies were resolved once already: only those seen within resolveAfter,
    // and those whose alert still fires, are read.
    const seenSince = new Date(now.getTime() - this.options.resolveAfterMs).toISOString();
    const rows = this.ledger.alertable(this.options.minSeverity, undefined, seenSince);
    const plan = planAlerts(rows, now, this.options);
    const report: SyncReport = { firing: 0, started: 0, resolved: 0, silenced: 0 };
    const alerts = [...plan.firing, ...plan.resolved].map((p) => p.alert);
    if (alerts.length === 0) return report;
    try {
      await this.client.postAlerts(alerts);
    } catch (error) {
      return {
        ...report,
        failure: { step: 'post', error: messageOf(error), alerts: alerts.length },
      };
    }
    if (plan.firing.length > 0)
      this.ledger.markAlerts(
        plan.firing.map((p) => p.id),
        'firing',
        plan.firingEndsAt,
      );
    if (plan.resolved.length > 0)
      this.ledger.markAlerts(
        plan.resolved.map((p) => p.id),
        'resolved',
        plan.resolvedEndsAt,
      );
    report.firing = plan.firing.length;
    const wasFiring = new Set(rows.filter((r) => r.alertState === 'firing').map((r) => r.id));
    report.started = plan.firing.filter((p) => !wasFiring.has(p.id)).length;
    report.resolved = plan.resolved.length;
    if (plan.firing.length === 0) return report;
    try {
      const silenced = await this.client.silencedAlerts({
        namespace: this.options.namespace,
        agent: this.options.agentName,
      });
      for (const { id, silenceIds } of silencedAnomalies(silenced, plan.firing)) {
        this.ledger.markSilenced(id, silenceIds, now);
        report.silenced++;
      }
    } catch (error) {
      report.failure = { step: 'read', error: messageOf(error), alerts: 0 };
    }
    return report;
  }
}

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
