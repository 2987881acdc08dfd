// One analysis cycle of a running agent: read what the source holds after the stored
// watermark, analyse it, and commit the anomalies, the new watermark and a record of the cycle
// in one SQLite transaction. Every window is closed at the end of the cycle, so everything
// read is analysed before the watermark moves: a crash anywhere in a cycle commits nothing,
// and the next run reads the same lines again, so none is lost and none counted twice. What the
// engine has learned is saved in the same transaction, so a restart does not forget it either.
// A cycle that fails without a crash (the database lost mid-cycle) is retried by the same
// process, so it first puts the engine back to what was committed: the lines it analysed
// before the failure are read again, and must not be counted on top of themselves.
// The windows the engine closed and what the model scored of them come out in the result of
// the cycle that committed them (cycleOutputs.ts), never from a failed one.
// A first cycle (no watermark stored) also records where it started and how many rows of the
// table it leaves behind, so that an agent pointed at a table of old rows says why it
// analyses nothing instead of looking like a quiet network.
import type { AnalysisEngine } from '../agents/engine.js';
import type { Anomaly } from '../agents/types.js';
import { SKIPPED_ROWS_COUNTED, type SourceStart } from '../contract/index.js';
import type { WindowScorer } from '../model/windowScorer.js';
import type { PostgresSource } from '../source/postgresSource.js';
import { componentLog } from '../log.js';
import type { Suppressions } from '../rules/suppressions.js';
import type { AnomalyStore } from '../store/anomalyStore.js';
import type { CycleOutputs, Produced } from './cycleOutputs.js';

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
  /** spec.source.backfill as the spec gives it (e.g. "24h"), for the start's record. */
  backfill?: string;
  /** At most this many lines per cycle; the rest waits for the next (default 200 000). */
  maxLines?: number;
  /**
   * Least severity (1 info ... 5 critical) of an anomaly that is kept (spec.thresholds.
   * storeSeverity): one below it is neither stored nor returned, so neither counted nor
   * alerted. Default 1, every one.
   */
  storeSeverity?: number;
  /** Where the engine's closed windows and the scorer's batches gather during the cycle. */
  outputs?: CycleOutputs;
  /** spec.rules.suppressions in force: a covered anomaly is neither stored nor returned. */
  suppressions?: Suppressions;
}

const log = componentLog('agent');

export interface CycleResult {
  lines: number;
  /** Rows skipped as unreadable. */
  unreadable: number;
  anomalies: Anomaly[];
  /** Anomalies a suppression covered (dropped), by rule id, to be counted. */
  suppressed: Map<string, number>;
  watermark: string;
  caughtUp: boolean;
  startedAt: string;
  /** Time of the newest line read (ms), if any was. */
  newestLineTime?: number;
  /** Time of the newest line read (ms) from each device that sent any. */
  newestByDevice: Map<string, number>;
  /** Set by the first cycle (no watermark was stored): where it started, and what it left. */
  start?: SourceStart;
  /** The windows closed and the batches scored in this cycle (with outputs in the context). */
  produced: Produced;
}

export async function runCycle(ctx: CycleContext): Promise<CycleResult> {
  // Anything gathered outside a cycle is no cycle's.
  ctx.outputs?.drain();
  try {
    return await analyseAndCommit(ctx);
  } catch (error) {
    // Nothing was committed: the engine goes back to what was, as a restarted process would,
    // and what the cycle produced goes with it.
    restoreEngine(ctx.engine, ctx.store, ctx.sourceKey);
    ctx.outputs?.drain();
    throw error;
  }
}

/**
 * Puts the engine back to what the store last committed for the source (nothing learned when
 * nothing was), dropping open windows. Saved state that cannot be read means learning afresh.
 */
export function restoreEngine(
  engine: AnalysisEngine,
  store: AnomalyStore,
  sourceKey: string,
): void {
  engine.reset();
  try {
    const saved = store.engineState(sourceKey);
    if (saved !== undefined) engine.loadState(saved);
  } catch (error) {
    log.error('saved engine state ignored, learning afresh', error);
  }
}

/**
 * Where a source with no stored watermark starts, and the rows before that point: counted
 * (up to SKIPPED_ROWS_COUNTED), as the one thing that tells "nothing new" from "nothing".
 * A count that fails (a slow table) leaves the start without it rather than stop the agent.
 */
async function firstPosition(
  ctx: CycleContext,
  time: string,
): Promise<{ watermark: string; start: SourceStart }> {
  if (ctx.startAt === 'beginning')
    return { watermark: ctx.source.beginning(), start: { time, from: 'beginning', rowsBefore: 0 } };
  const watermark = await ctx.source.endWatermark(ctx.backfillMs);
  const start: SourceStart = {
    time,
    from: ctx.backfillMs === undefined ? 'end' : 'backfill',
    ...(ctx.backfill !== undefined ? { backfill: ctx.backfill } : {}),
  };
  try {
    const before = await ctx.source.rowsBefore(watermark, SKIPPED_ROWS_COUNTED);
    const iso = (ms: number): string => new Date(ms).toISOString();
    return {
      watermark,
      start: {
        ...start,
        rowsBefore: before.rows,
        ...(before.capped ? { rowsBeforeCapped: true } : {}),
        ...(before.newest !== undefined ? { newestBefore: iso(before.newest) } : {}),
        ...(before.oldest !== undefined ? { oldestBefore: iso(before.oldest) } : {}),
      },
    };
  } catch (error) {
    log.error('the rows before the start position could not be counted', error);
    return { watermark, start };
  }
}

async function analyseAndCommit(ctx: CycleContext): Promise<CycleResult> {
  const startedAt = new Date().toISOString();
  const stored = ctx.store.watermark(ctx.sourceKey);
  const first = stored === undefined ? await firstPosition(ctx, startedAt) : undefined;
  let watermark = stored ?? first!.watermark;
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
  const severe = anomalies.filter((a) => a.severity >= (ctx.storeSeverity ?? 1));
  const { kept, suppressed } = ctx.suppressions?.partition(severe, new Date()) ?? {
    kept: severe,
    suppressed: new Map<string, number>(),
  };
  // Before the watermark: a crash between the two leaves no watermark, and the next run
  // starts (and records its start) again.
  if (first) ctx.store.recordStart(ctx.sourceKey, first.start);
  ctx.store.record(
    kept,
    { source: ctx.sourceKey, value: watermark },
    { startedAt, lines },
    ctx.engine.saveState(),
    newestByDevice,
  );
  return {
    lines,
    unreadable,
    anomalies: kept,
    suppressed,
    watermark,
    caughtUp,
    startedAt,
    newestLineTime,
    newestByDevice,
    ...(first ? { start: first.start } : {}),
    produced: ctx.outputs?.drain() ?? { windows: [], scored: [] },
  };
}
