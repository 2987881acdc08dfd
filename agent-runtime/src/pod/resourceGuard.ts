// The resource guard: on a Pi the agent shares 4-8 GB and four cores with everything else.
// When the process's cgroup (or, outside one, the process) is above 80% of its CPU or 70% of
// its memory limit, the agent stretches its cycle, doubling the wait each time up to 8x,
// rather than piling up work; it returns to its interval as pressure falls, and says so.
import { readFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import path from 'node:path';

import type { GuardState, Pressure } from '../contract/status.js';
import { componentLog } from '../log.js';

export const CPU_LIMIT = 0.8;
export const MEMORY_LIMIT = 0.7;
const MAX_STRETCH = 8;

const log = componentLog('agent');

/** The next stretch factor: doubled under pressure (to 8x), halved back when it eases. */
export function nextStretch(previous: number, p: Pressure): GuardState {
  const reasons: string[] = [];
  if (p.cpu > CPU_LIMIT) reasons.push(`CPU at ${Math.round(p.cpu * 100)}% of its limit`);
  if (p.memory > MEMORY_LIMIT)
    reasons.push(`memory at ${Math.round(p.memory * 100)}% of its limit`);
  if (reasons.length > 0)
    return { stretch: Math.min(MAX_STRETCH, previous * 2), reason: reasons.join(', ') };
  const stretch = Math.max(1, previous / 2);
  return stretch > 1 ? { stretch, reason: 'easing after pressure' } : { stretch: 1 };
}

async function readNumber(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined || text.trim() === 'max') return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** Samples pressure from cgroup v2 files under `cgroupDir`, or from the process when there are none. */
export class PressureSampler {
  private last: { at: number; cpuMicros: number } | undefined;

  constructor(private readonly cgroupDir = '/sys/fs/cgroup') {}

  async sample(now = Date.now()): Promise<Pressure> {
    const [memCurrent, memMax, cpuMax, cpuStat] = await Promise.all([
      readNumber(path.join(this.cgroupDir, 'memory.current')),
      readNumber(path.join(this.cgroupDir, 'memory.max')),
      readFile(path.join(this.cgroupDir, 'cpu.max'), 'utf8').catch(() => undefined),
      readFile(path.join(this.cgroupDir, 'cpu.stat'), 'utf8').catch(() => undefined),
    ]);
    const memory =
      memCurrent !== undefined && memMax !== undefined && memMax > 0
        ? memCurrent / memMax
        : process.memoryUsage().rss / (memMax ?? totalmem());
    // cpu.max is "quota period" (or "max period"): the cores the cgroup may use.
    const [quota, period] = (cpuMax ?? 'max 100000').trim().split(/\s+/);
    const cores =
      quota && quota !== 'max' && Number(period) > 0
        ? Number(quota) / Number(period)
        : availableParallelism();
    const usage = /usage_usec (\d+)/.exec(cpuStat ?? '')?.[1];
    const cpuMicros =
      usage !== undefined ? Number(usage) : process.cpuUsage().user + process.cpuUsage().system;
    let cpu = 0;
    if (this.last && now > this.last.at)
      cpu = (cpuMicros - this.last.cpuMicros) / 1000 / (now - this.last.at) / cores;
    this.last = { at: now, cpuMicros };
    return { cpu: Math.max(0, cpu), memory };
  }
}

/** The guard across cycles: the pressure seen after the latest, and the stretch it leads to. */
export class ResourceGuard {
  private readonly sampler = new PressureSampler();
  pressure: Pressure = { cpu: 0, memory: 0 };
  state: GuardState = { stretch: 1 };

  /** Samples the pressure now; returns the stretch for the next wait (said when it changes). */
  async afterCycle(): Promise<GuardState> {
    this.pressure = await this.sampler.sample();
    const next = nextStretch(this.state.stretch, this.pressure);
    if (next.stretch !== this.state.stretch)
      log.info('cycle interval stretched', { stretch: next.stretch, reason: next.reason });
    this.state = next;
    return next;
  }
}
