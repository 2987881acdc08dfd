// The features of every window an agent closes over some input, computed by the running
// agent's own engine and extractor (one feature extractor, not a copy): what a model is
// trained on, and what it will be asked to score.
import { AnalysisEngine } from '../agents/engine.js';
import type { Agent, ObservedLine } from '../agents/types.js';

export interface WindowSet {
  /** Feature names, in the order of each row. */
  features: string[];
  rows: number[][];
  /** The windows' devices and starts, row by row (for labelled evaluation). */
  keys: { device: string; windowStart: string }[];
  /** Earliest window start and latest window end seen. */
  from?: string;
  to?: string;
}

export async function extractWindows(
  agent: Agent,
  batches: AsyncIterable<ObservedLine[]> | Iterable<ObservedLine[]>,
  windowMs: number,
): Promise<WindowSet> {
  const set: WindowSet = { features: [], rows: [], keys: [] };
  const engine = new AnalysisEngine([agent], {
    windowMs,
    onWindow(w) {
      if (set.rows.length === 0) set.features = Object.keys(w.features);
      set.rows.push(set.features.map((f) => w.features[f] ?? 0));
      set.keys.push({ device: w.device, windowStart: w.windowStart });
      if (set.from === undefined || w.windowStart < set.from) set.from = w.windowStart;
      if (set.to === undefined || w.windowEnd > set.to) set.to = w.windowEnd;
    },
  });
  for await (const batch of batches) for (const line of batch) engine.push(line);
  engine.flush();
  return set;
}
