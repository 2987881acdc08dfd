// What every command runs with: where it writes, the cluster, the parsed flags and its
// argument, and the clock. Commands resolve to their exit code: 0, or 1 after any error.
import type { KubeClient } from '../../../operator/src/runtime/kubeClient.js';
import type { Flags } from './args.js';
import type { Io } from './output.js';

export interface RunContext {
  io: Io;
  client: KubeClient;
  /** The namespace without -A. */
  namespace: string;
  flags: Flags;
  argument?: string;
  now: () => Date;
  /** Ends a --watch (interrupt); never resolves otherwise. */
  interrupted: Promise<void>;
}

export type CommandRun = (c: RunContext) => Promise<number>;

/** A user's mistake or a refusal, said as `error: <message>`, exit code 1. */
export class CommandError extends Error {
  readonly code = 'EW_KUBECTL';
}

/** Warnings on stderr, as kubectl's; the exit code: 1 if there were any. */
export function warned(c: RunContext, warnings: readonly string[]): number {
  for (const w of warnings) c.io.err(`warning: ${w}`);
  return warnings.length > 0 ? 1 : 0;
}

/** The namespace asked, or undefined with -A. */
export const scope = (c: RunContext): string | undefined =>
  c.flags.allNamespaces ? undefined : c.namespace;
