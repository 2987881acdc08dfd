import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { nextStretch, PressureSampler } from './resourceGuard.js';

test('pressure doubles the stretch up to 8x; easing halves it back to 1', () => {
  let state = { stretch: 1 } as ReturnType<typeof nextStretch>;
  const seen: number[] = [];
  for (let i = 0; i < 5; i++)
    seen.push((state = nextStretch(state.stretch, { cpu: 0.95, memory: 0.2 })).stretch);
  expect(seen).toEqual([2, 4, 8, 8, 8]);
  expect(state.reason).toBe('CPU at 95% of its limit');
  expect(nextStretch(8, { cpu: 0.1, memory: 0.9 })).toEqual({
    stretch: 8,
    reason: 'memory at 90% of its limit',
  });
  expect(nextStretch(8, { cpu: 0.1, memory: 0.1 })).toEqual({
    stretch: 4,
    reason: 'easing after pressure',
  });
  expect(nextStretch(2, { cpu: 0.1, memory: 0.1 })).toEqual({ stretch: 1 });
  expect(nextStretch(1, { cpu: 0.8, memory: 0.7 })).toEqual({ stretch: 1 }); // at the limits, not over
});

test('the sampler reads cgroup v2 files: memory against memory.max, CPU against cpu.max', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cgroup-'));
  try {
    await writeFile(path.join(dir, 'memory.current'), '300000000\n');
    await writeFile(path.join(dir, 'memory.max'), '400000000\n');
    await writeFile(path.join(dir, 'cpu.max'), '50000 100000\n'); // half a core
    await writeFile(path.join(dir, 'cpu.stat'), 'usage_usec 1000000\nuser_usec 900000\n');
    const sampler = new PressureSampler(dir);
    expect(await sampler.sample(10_000)).toEqual({ cpu: 0, memory: 0.75 });
    // 0.45 s of CPU in 1 s of a half-core limit: 90%.
    await writeFile(path.join(dir, 'cpu.stat'), 'usage_usec 1450000\n');
    const p = await sampler.sample(11_000);
    expect(p.cpu).toBeCloseTo(0.9, 5);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('without cgroup files the sampler falls back to the process', async () => {
  const sampler = new PressureSampler('/nonexistent-cgroup');
  const first = await sampler.sample();
  expect(first.cpu).toBe(0);
  expect(first.memory).toBeGreaterThan(0);
  expect(first.memory).toBeLessThan(1);
});
