// What the model now serving has scored since it was loaded: windows, windows at or over its
// threshold, and batches whose inference failed. Canary analysis reads these from /status to
// judge a new version, so they start at 0 for each model swapped in.
import type { ServedModel } from '../contract/status.js';
import type { LoadedModel } from '../model/model.js';
import type { ScoredBatch } from './cycleOutputs.js';

type Counts = NonNullable<ServedModel['scored']>;

export class ScoredCounts {
  private counts: (Counts & { model: LoadedModel }) | undefined;

  private of(model: LoadedModel): Counts {
    if (this.counts?.model !== model)
      this.counts = { model, windows: 0, flagged: 0, inferenceErrors: 0 };
    return this.counts;
  }

  /** A committed cycle's batch. */
  add({ model, windows, flagged }: ScoredBatch): void {
    const counts = this.of(model);
    counts.windows += windows;
    counts.flagged += flagged;
  }

  /** A batch whose inference failed (counted at once: no cycle takes it back). */
  failed(model: LoadedModel): void {
    this.of(model).inferenceErrors++;
  }

  /** The counts of `served`, the model serving now; none when none serves. */
  forServed(served: LoadedModel | undefined): ServedModel['scored'] {
    if (!served) return undefined;
    if (this.counts?.model !== served) return { windows: 0, flagged: 0, inferenceErrors: 0 };
    const { windows, flagged, inferenceErrors } = this.counts;
    return { windows, flagged, inferenceErrors };
  }
}
