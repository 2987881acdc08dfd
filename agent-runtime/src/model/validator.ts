// Runs the load check and the golden sample of an offered model in a child process with a
// memory and a time limit (issue 20, M2): a 169-byte model once took the agent from 115 MB to
// 1.3 GB inside onnxruntime, where no V8 flag reaches. The limits:
//
// - memory: the child's resident set, read from /proc/<pid>/status every few milliseconds; past
//   the limit it is killed. VmHWM (the peak resident set the kernel keeps) is read too, so a
//   spike between two reads is seen, and read once more after the child answers, before its
//   answer is believed: a model that passed over the limit is refused even if it finished. As a
//   backstop the child sets its oom_score_adj to 1000: if the pod's memory limit is reached
//   before the watch reacts, the kernel's OOM killer takes the child, not the agent.
//   (RLIMIT_AS would be a hard ceiling, but Node has no setrlimit, the distroless image has no
//   prlimit, and an address-space limit counts the virtual reservations V8 and onnxruntime make
//   up front, not memory used.)
// - time: a wall-clock limit; past it the child is killed.
// - a child that dies any other way (a crash, an abort) is the same refusal:
//   ValidationExceededLimits. The agent goes on serving what it served.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { GoldenResult } from './golden.js';
import { ModelError } from './manifest.js';
import type { ValidatorAnswer, ValidatorRequest } from './validatorProcess.js';

export interface ValidatorLimits {
  /** The child's resident memory, Node and onnxruntime included. */
  memoryBytes: number;
  /** Wall-clock time from start to answer. */
  timeoutMs: number;
}

/**
 * A Node process with onnxruntime loaded is about 60 MB resident; the shipped models add a
 * few MB. 192 MiB leaves room for a model ten times their size, and with the agent's own
 * ~120 MB stays under the 384 MiB an agent pod is given.
 */
export const VALIDATOR_LIMITS: ValidatorLimits = {
  memoryBytes: 192 * 1024 * 1024,
  timeoutMs: 30_000,
};

const POLL_MS = 5;

/**
 * The compiled entry. Under ts-jest the sources run from agent-runtime/src, where there is no
 * .js beside this file: then the build's (dist/), which the tests build first.
 */
function validatorEntry(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'validatorProcess.js');
  if (existsSync(beside)) return beside;
  return path.resolve(here, '../../../dist/agent-runtime/src/model/validatorProcess.js');
}

/** VmRSS and VmHWM of a process, in bytes; undefined without /proc or once it is gone. */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number } | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined);
  const kb = (field: string): number | undefined => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status ?? '');
    return m ? Number(m[1]) * 1024 : undefined;
  };
  const rss = kb('VmRSS');
  return rss === undefined ? undefined : { rss, peak: kb('VmHWM') ?? rss };
}

const mib = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MiB`;

/**
 * Loads the model in `dir` (model.onnx, manifest.json) and scores `golden` in a child process
 * within `limits`. Resolves with the golden result; throws the child's ModelError, or
 * ModelError('ValidationExceededLimits') when the child went past a limit or died.
 */
export function validateInChild(
  dir: string,
  golden: readonly Readonly<Record<string, number>>[],
  what: string,
  limits: ValidatorLimits = VALIDATOR_LIMITS,
): Promise<GoldenResult> {
  const child = fork(validatorEntry(), [], {
    // Nothing of the agent's environment (its database URL, its tokens): the child needs none.
    env: { ORT_DISABLE_TELEMETRY: '1' },
    execArgv: ['--max-old-space-size=64'],
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    serialization: 'json',
  });
  return new Promise<GoldenResult>((resolve, reject) => {
    let over: string | undefined;
    let settled = false;
    const finish = (error: ModelError | undefined, result?: GoldenResult): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (error) reject(error);
      else resolve(result!);
    };
    const exceeded = (why: string): ModelError =>
      new ModelError('ValidationExceededLimits', `${what}: ${why}`);
    const kill = (why: string): void => {
      over ??= why;
      child.kill('SIGKILL');
    };
    const checkMemory = async (): Promise<void> => {
      const memory = child.pid === undefined ? undefined : await memoryOf(child.pid);
      if (memory && memory.peak > limits.memoryBytes)
        kill(`validating it took ${mib(memory.peak)} (the limit is ${mib(limits.memoryBytes)})`);
    };
    const watch = setInterval(() => void checkMemory(), POLL_MS);
    const timer = setTimeout(
      () => kill(`validating it took longer than ${limits.timeoutMs / 1000} s`),
      limits.timeoutMs,
    );
    child.once('message', (message) => {
      const answer = message as ValidatorAnswer;
      // Its peak, read while it waits to be let go: a spike between two reads counts too.
      void checkMemory().then(() => {
        if (over) return finish(exceeded(over));
        if (answer.ok) return finish(undefined, answer.golden);
        finish(new ModelError(answer.reason, `${what}: ${answer.message}`));
      });
    });
    child.once('exit', (code, signal) =>
      finish(exceeded(over ?? `the validator process died (${signal ?? `exit code ${code}`})`)),
    );
    child.once('error', (error) =>
      finish(exceeded(`the validator process could not run (${error.name})`)),
    );
    child.send({ dir, golden } satisfies ValidatorRequest);
  });
}
