// Collects closed windows of agents that have a model and scores them in batches, one batch
// per model: used by file analysis and by the agent's cycle alike.
import type { WindowFeatures } from '../agents/engine.js';
import type { AgentName, Anomaly } from '../agents/types.js';
import type { LoadedModel } from './model.js';
import { modelAnomaly } from './modelAnomaly.js';

export type ModelsByAgent = Partial<Record<AgentName, LoadedModel>>;

/** One batch's outcome for a model: how many windows it scored and flagged, or why it failed. */
export type BatchOutcome = { windows: number; flagged: number } | { error: Error };

export class WindowScorer {
  private pending: WindowFeatures[] = [];

  /**
   * `models` is read at each scoring, so a hot-reloaded model is used from the next batch on;
   * `onInference` hears how long each batch's inference took, in seconds, and whose model it
   * was; `onBatch` each
   * batch's outcome. A batch whose inference fails is dropped (the rules still ran on its
   * lines) and reported to `onBatch`, never thrown: a broken model does not stop the cycle.
   */
  constructor(
    private readonly models: () => ModelsByAgent,
    private readonly onInference?: (seconds: number, agent: AgentName) => void,
    private readonly onBatch?: (model: LoadedModel, outcome: BatchOutcome) => void,
  ) {}

  /** For the engine's onWindow: keeps the windows a model will score. */
  readonly collect = (window: WindowFeatures): void => {
    if (this.models()[window.agent]) this.pending.push(window);
  };

  /** Scores what was collected; returns the windows past their model's threshold as anomalies. */
  async score(): Promise<Anomaly[]> {
    if (this.pending.length === 0) return [];
    const windows = this.pending;
    this.pending = [];
    const out: Anomaly[] = [];
    for (const [agent, model] of Object.entries(this.models()) as [AgentName, LoadedModel][]) {
      const mine = windows.filter((w) => w.agent === agent);
      if (mine.length === 0) continue;
      const started = performance.now();
      let scores: number[];
      try {
        scores = await model.score(mine.map((w) => model.row(w.features)));
      } catch (error) {
        if (!this.onBatch) throw error;
        this.onBatch(model, { error: error as Error });
        continue;
      }
      this.onInference?.((performance.now() - started) / 1000, agent);
      let flagged = 0;
      mine.forEach((w, i) => {
        const anomaly = modelAnomaly(w, model, scores[i]!);
        if (anomaly) {
          out.push(anomaly);
          flagged++;
        }
      });
      this.onBatch?.(model, { windows: mine.length, flagged });
    }
    return out;
  }
}
