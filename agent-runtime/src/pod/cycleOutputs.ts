// What a cycle produces besides anomalies: the windows the engine closes (the golden sample and
// drift read their features) and what the model scored of them. The engine and the scorer hand
// these over as they happen, mid-cycle; they belong to the cycle that is running, and come out
// in its result only when its store transaction commits (runCycle drains them then). A failed
// cycle's are dropped with it, as its lines are read again by the next one.
import type { WindowFeatures } from '../agents/engine.js';
import type { LoadedModel } from '../model/model.js';

/** One batch the model scored: how many windows, how many at or over its threshold. */
export interface ScoredBatch {
  model: LoadedModel;
  windows: number;
  flagged: number;
}

export interface Produced {
  /** The features of each window closed, oldest first. */
  windows: Record<string, number>[];
  scored: ScoredBatch[];
}

export class CycleOutputs {
  private produced: Produced = { windows: [], scored: [] };

  /** For the engine's onWindow (beside the scorer's collect). */
  readonly window = (window: WindowFeatures): void => {
    this.produced.windows.push(window.features);
  };

  /** For the scorer's batches that scored (a failed batch is not the cycle's: it counts at once). */
  readonly scored = (batch: ScoredBatch): void => {
    this.produced.scored.push(batch);
  };

  /** Everything gathered since the last drain, which starts afresh. */
  drain(): Produced {
    const produced = this.produced;
    this.produced = { windows: [], scored: [] };
    return produced;
  }
}
