// The validator process (issue 20, M2): a child of the agent that loads an offered model with
// onnxruntime and scores the golden sample, so that a model which makes onnxruntime allocate
// without bound or run for ever takes this process down, never the agent. validator.ts starts
// it with one message on its IPC channel ({ dir, golden }), watches its memory and its time,
// and reads its answer: { ok: true, golden } or { ok: false, reason, message }. It then waits
// for the agent to disconnect (the agent reads its peak memory first) and exits.
import { writeFileSync } from 'node:fs';

import { scoreGolden, type GoldenResult } from './golden.js';
import { ModelError } from './manifest.js';
import { LoadedModel } from './model.js';

export interface ValidatorRequest {
  dir: string;
  golden: readonly Readonly<Record<string, number>>[];
}

export type ValidatorAnswer =
  { ok: true; golden: GoldenResult } | { ok: false; reason: ModelError['reason']; message: string };

/**
 * No arena and no memory patterns: onnxruntime then allocates each tensor as it needs it, so
 * the process's resident memory is the model's own, not an arena grown ahead of it.
 */
const SESSION_OPTIONS = {
  enableCpuMemArena: false,
  enableMemPattern: false,
  executionMode: 'sequential',
} as const;

async function validate(request: ValidatorRequest): Promise<ValidatorAnswer> {
  try {
    const model = await LoadedModel.load(request.dir, SESSION_OPTIONS);
    try {
      return { ok: true, golden: await scoreGolden(model, request.golden) };
    } finally {
      await model.retire();
    }
  } catch (error) {
    if (error instanceof ModelError)
      return { ok: false, reason: error.reason, message: error.message };
    // Not the error's message: it may quote the model's bytes (issue 20, H1).
    return {
      ok: false,
      reason: 'InvalidModel',
      message: `checking it failed (${(error as Error)?.name ?? 'error'})`,
    };
  }
}

function main(): void {
  // The first the kernel's OOM killer takes when the pod's memory runs out: this process,
  // not the agent (a process may always raise its own score).
  try {
    writeFileSync('/proc/self/oom_score_adj', '1000');
  } catch {
    // Not Linux, or no /proc: the agent's watch on this process's memory still holds.
  }
  process.once('message', (message) => {
    void validate(message as ValidatorRequest).then((answer) => process.send?.(answer));
  });
  process.once('disconnect', () => process.exit(0));
}

main();
