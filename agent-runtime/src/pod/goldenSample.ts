// The golden sample: the features of the latest windows committed, on which an offered model
// is tried before it serves (how many it flags is part of PUT /model's answer).

/** How many recent windows make the golden sample. */
export const GOLDEN_ROWS = 32;

export class GoldenSample {
  private readonly recent: Record<string, number>[] = [];

  add(features: Record<string, number>): void {
    this.recent.push(features);
    if (this.recent.length > GOLDEN_ROWS) this.recent.shift();
  }

  /** The sample as it is now (a copy: later cycles do not change an offer's sample). */
  rows(): Record<string, number>[] {
    return [...this.recent];
  }
}
