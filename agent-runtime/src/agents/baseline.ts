// A statistical baseline per device and feature, learned from the device's own history: an
// exponentially weighted mean and variance of each feature over past windows. A value far above
// what the device usually shows (mean + k·σ, past a floor) is a spike.

const ALPHA = 0.1; // weight of the newest window: about the last 20 windows matter
const WARMUP = 12; // windows seen before a baseline may judge
const K_SIGMA = 4;

export interface Spike {
  mean: number;
  std: number;
  /** How many standard deviations above the mean. */
  z: number;
}

export class Baseline {
  private mean = 0;
  private variance = 0;
  private windows = 0;

  /** [mean, variance, windows], for saving with the agent's memory. */
  save(): [number, number, number] {
    return [this.mean, this.variance, this.windows];
  }

  static load(saved: unknown): Baseline {
    if (!Array.isArray(saved) || saved.length !== 3 || !saved.every(Number.isFinite))
      throw new Error('baseline: expected [mean, variance, windows]');
    const b = new Baseline();
    [b.mean, b.variance, b.windows] = saved as [number, number, number];
    return b;
  }

  /** Judges `value` against the history so far, then learns it. */
  observe(value: number, minimum: number): Spike | undefined {
    let spike: Spike | undefined;
    if (this.windows >= WARMUP && value >= minimum) {
      // A floor on σ: a feature that was constant would otherwise flag any change at all.
      const std = Math.max(Math.sqrt(this.variance), 1, this.mean * 0.1);
      const z = (value - this.mean) / std;
      if (z >= K_SIGMA) spike = { mean: this.mean, std, z };
    }
    // Spikes are learned damped, so one attack does not teach the baseline that attacks are normal.
    const weight = spike ? ALPHA / 10 : this.windows === 0 ? 1 : ALPHA;
    const delta = value - this.mean;
    this.mean += weight * delta;
    this.variance = (1 - weight) * (this.variance + weight * delta * delta);
    this.windows++;
    return spike;
  }
}
