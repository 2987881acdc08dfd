// What the integration suites on one namespace share: an `edgewarden operator` process watching
// it (started, waited for until its caches sync, stopped), and reading the namespace's objects
// as the operator leaves them: one, whether it exists, a condition, "settled" (the operator has
// seen the current generation and a check holds), and the message of a Warning Event.
import type { ChildProcess } from 'node:child_process';

import { eventually, kubectlJson, kubectlRun, startOperator } from './kube.js';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** The fields every check here reads; each suite's own object types add theirs. */
export interface Generational {
  metadata: { generation?: number };
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

export const conditionOf = (o: Generational, type: string): Condition | undefined =>
  o.status?.conditions?.find((c) => c.type === type);

export interface RunningOperator {
  proc: ChildProcess;
  log: () => string;
  /** SIGTERM, and its exit; nothing if it has already gone. */
  stop: () => Promise<void>;
}

/** Starts `edgewarden operator` on `namespace`; resolves once its caches are synced. */
export async function runOperator(
  namespace: string,
  args: string[] = [],
): Promise<RunningOperator> {
  const { proc, log } = startOperator(namespace, args);
  const stop = async (): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  };
  try {
    await eventually('the operator to sync its caches', () =>
      Promise.resolve(log().includes('caches synced') ? true : undefined),
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${log()}`);
  }
  return { proc, log, stop };
}

/** Reads objects of the namespace `namespace()` names (set in the suite's beforeAll). */
export function namespaceObjects<T extends Generational>(namespace: () => string) {
  const get = (kind: string, name: string): Promise<T> =>
    kubectlJson<T>(['get', kind, name, '-n', namespace()]);
  return {
    get,
    exists: async (kind: string, name: string): Promise<boolean> =>
      (await kubectlRun(['get', kind, name, '-n', namespace()])).code === 0,
    /** Waits until the operator has seen the current generation and `check` holds. */
    settled: (kind: string, name: string, what: string, check: (o: T) => boolean): Promise<T> =>
      eventually(
        `${kind} ${name}: ${what}`,
        async () => {
          const o = await get(kind, name);
          return o.status?.observedGeneration === o.metadata.generation && check(o) ? o : undefined;
        },
        60_000,
      ),
    /** Waits for a Warning Event of `reason` on the object `name`; its message. */
    warned: (name: string, reason: string): Promise<string> =>
      eventually(`a Warning ${reason} Event on ${name}`, async () => {
        const events = await kubectlJson<{
          items: { reason: string; type: string; message: string }[];
        }>([
          ...['get', 'events', '-n', namespace()],
          ...['--field-selector', `involvedObject.name=${name}`],
        ]);
        return events.items.find((e) => e.reason === reason && e.type === 'Warning')?.message;
      }),
  };
}
