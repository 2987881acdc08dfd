// One analysis cycle of a running agent: read what the source holds after the stored
// watermark, analyse it, and commit the anomalies, the new watermark and a record of the cycle
// in one SQLite transaction. Every window is closed at the end of the cycle, so everything
// read is analysed before the watermark moves: a crash anywhere in a cycle commits nothing,
// and the next run reads the same lines again, so none is lost and none counted twice. What the
// engine has learned is saved in the same transaction, so a restart does not forget it either.
import type { AnalysisEngine } from '../agents/engine.js';
import type { Anomaly } from '../agents/types.js';
import type { WindowScorer } from '../model/windowScorer.js';
import type { PostgresSource } from '../source/postgresSource.js';
import type { AnomalyStore } from '../store/anomalyStore.js';

export interface CycleContext {
  source: PostgresSource;
  store: AnomalyStore;
  engine: AnalysisEngine;
  scorer: WindowScorer;
  /** Names the source's watermark in the store. */
  sourceKey: string;
  /** Where a source with no stored watermark starts: its end (only new lines), or its beginning. */
  startAt: 'end' | 'beginning';
  /** With startAt 'end': start this much before the end instead (spec.source.backfill). */
  backfillMs?: number;
  /** At most this many lines per cycle; the rest waits for the next (default 200 000). */
  maxLines?: number;
}

export interface CycleResult {
  lines: number;
  /** Rows skipped as unreadable. */
  unreadable: number;
  anomalies: Anomaly[];
  watermark: string;
  caughtUp: boolean;
  startedAt: string;
  /** Time of the newest line read (ms), if any was. */
  newestLineTime?: number;
  /** Time of the newest line read (ms) from each device that sent any. */
  newestByDevice: Map<string, number>;
}

export async function runCycle(ctx: CycleContext): Promise<CycleResult> {
  const startedAt = new Date().toISOString();
  const stored = ctx.store.watermark(ctx.sourceKey);
  let watermark =
    stored ??
    (ctx.startAt === 'end'
      ? await ctx.source.endWatermark(ctx.backfillMs)
      : ctx.source.beginning());
  const anomalies: Anomaly[] = [];
  let lines = 0;
  let unreadable = 0;
  let caughtUp = false;
  let newestLineTime: number | undefined;
  const newestByDevice = new Map<string, number>();
  while (!caughtUp && lines < (ctx.maxLines ?? 200_000)) {
    const batch = await ctx.source.read(watermark);
    for (const line of batch.lines) {
      anomalies.push(...ctx.engine.push(line));
      if (newestLineTime === undefined || line.time > newestLineTime) newestLineTime = line.time;
      const seen = newestByDevice.get(line.device);
      if (seen === undefined || line.time > seen) newestByDevice.set(line.device, line.time);
    }
    anomalies.push(...(await ctx.scorer.score()));
    lines += batch.lines.length;
    unreadable += batch.unreadable;
    watermark = batch.watermark;
    caughtUp = batch.caughtUp;
  }
  anomalies.push(...ctx.engine.flush());
  anomalies.push(...(await ctx.scorer.score()));
  ctx.store.record(
    anomalies,
    { source: ctx.sourceKey, value: watermark },
    { startedAt, lines },
    ctx.engine.saveState(),
    newestByDevice,
  );
  return {
    lines,
    unreadable,
    anomalies,
    watermark,
    caughtUp,
    startedAt,
    newestLineTime,
    newestByDevice,
  };
}
