// Issue 20, M2: models of a few hundred bytes that make onnxruntime allocate a gigabyte,
// offered to a real `edgewarden agent` process. The agent's own memory stays where it was (its
// VmHWM, the peak the kernel keeps, read from /proc), each offer is refused with its reason,
// the agent keeps serving the model it served, and a normal model still validates.
import { readFile } from 'node:fs/promises';

import {
  modelAgentSetup,
  startModelAgent,
  type ModelAgentSetup,
} from '../../../test/fixtures/modelAgentProcess.js';
import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';
import { broadcastBomb, constantOfShapeBomb } from '../../../test/fixtures/onnxBombs.js';

const MiB = 1024 * 1024;

let setup: ModelAgentSetup;

beforeAll(async () => {
  setup = await modelAgentSetup('edgewarden-m2-');
});

afterAll(async () => {
  await setup?.remove();
});

/** A process's memory from /proc/<pid>/status, in bytes. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

test('a model that makes onnxruntime allocate a gigabyte is refused, and the agent stays small and serving', async () => {
  const agent = await startModelAgent(setup);
  const { proc, url } = agent;
  try {
    const features = ['failures', 'successes', 'failure_sources'];
    const offer = (version: string, bytes: Uint8Array, dryRun: boolean) =>
      agent
        .offer({
          version,
          agent: 'auth',
          features: version.startsWith('bomb') ? features.slice(0, 2) : features,
          threshold: 0.9,
          source: { inline: Buffer.from(bytes).toString('base64') },
          dryRun,
        })
        .then(({ status, text }) => ({
          status,
          body: JSON.parse(text) as Record<string, unknown>,
        }));
    const served = async (): Promise<unknown> =>
      ((await (await fetch(url('/status'))).json()) as { model?: { version?: string } }).model
        ?.version;

    // A normal model first: the one the agent must keep serving.
    expect((await offer('v1', logisticRegressionOnnx([0.1, 0, 0.2], -3), false)).status).toBe(200);
    expect(await served()).toBe('v1');
    const before = await memoryOf(proc.pid!);

    // 1 GiB by a broadcast of two 64 KiB constants: only the validator process's limit sees it.
    const broadcast = broadcastBomb(16_384);
    expect(broadcast.length).toBeLessThan(140 * 1024);
    for (const dryRun of [true, false]) {
      const answer = await offer('bomb-broadcast', broadcast, dryRun);
      expect(answer).toMatchObject({
        status: 422,
        body: {
          reason: 'ValidationExceededLimits',
          message: expect.stringMatching(/the limit is 192 MiB\)$/) as string,
        },
      });
    }
    // 1.2 GB by ConstantOfShape → ReduceSum, under 300 bytes: refused before onnxruntime sees it.
    const constantOfShape = constantOfShapeBomb(300_000_000);
    expect(constantOfShape.length).toBeLessThan(300);
    for (const dryRun of [true, false]) {
      const answer = await offer('bomb-constant-of-shape', constantOfShape, dryRun);
      expect(answer).toMatchObject({ status: 422, body: { reason: 'ModelExceedsLimits' } });
    }

    // The agent's own peak: where it was, give or take a request's buffers; never the gigabyte.
    const after = await memoryOf(proc.pid!);
    expect(after.peak - before.rss).toBeLessThan(64 * MiB);
    expect(after.rss).toBeLessThan(before.rss + 64 * MiB);
    expect(await served()).toBe('v1');
    expect(
      (await (await fetch(url('/status'))).json()) as { model?: { lastFailure?: unknown } },
    ).toMatchObject({ model: { lastFailure: { reason: 'ModelExceedsLimits' } } });

    // And a normal model still validates, and installs.
    const v2 = logisticRegressionOnnx([0.2, 0, 0.1], -3);
    expect(await offer('v2', v2, true)).toMatchObject({ status: 200, body: { dryRun: true } });
    expect((await offer('v2', v2, false)).status).toBe(200);
    expect(await served()).toBe('v2');
    expect(proc.exitCode).toBeNull();
  } finally {
    await agent.stop();
  }
}, 120_000);
