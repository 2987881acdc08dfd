// Drift of the served model's features: every committed window's features against the
// training summary in the model's manifest. The monitor belongs to one model: another model
// swapped in starts a new one, and a model without a summary (or another agent's) has none.
import type { AgentName } from '../agents/types.js';
import type { AgentStatus } from '../contract/status.js';
import { DriftMonitor } from '../model/drift.js';
import type { LoadedModel } from '../model/model.js';
import type { AgentMetrics } from './metrics.js';

export class DriftTracker {
  private drift: { model: LoadedModel; monitor: DriftMonitor } | undefined;

  constructor(
    private readonly agent: AgentName,
    /** The model serving now, if any. */
    private readonly served: () => LoadedModel | undefined,
  ) {}

  observe(features: Readonly<Record<string, number>>): void {
    const model = this.served();
    if (!model?.manifest.summary || model.manifest.agent !== this.agent) {
      this.drift = undefined;
      return;
    }
    if (this.drift?.model !== model)
      this.drift = { model, monitor: new DriftMonitor(model.manifest.summary) };
    this.drift.monitor.observe(features);
  }

  /** The served model's drift, for /status; none before its first window. */
  report(): AgentStatus['drift'] {
    if (!this.drift || this.drift.model !== this.served()) return undefined;
    return { ...this.drift.monitor.report(), modelVersion: this.drift.model.manifest.version };
  }

  /** edgewarden_feature_drift per feature, and edgewarden_model_drift. */
  publish(metrics: AgentMetrics): void {
    const report = this.report();
    const labels = { agent: this.agent };
    metrics.featureDrift.reset();
    if (!report) {
      metrics.modelDrift.set(labels, 0);
      return;
    }
    for (const [feature, d] of Object.entries(report.features))
      metrics.featureDrift.set({ ...labels, feature }, d.distance);
    metrics.modelDrift.set(labels, report.detected ? 1 : 0);
  }
}
