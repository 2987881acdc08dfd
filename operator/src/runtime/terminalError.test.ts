// The terminal-error policy: which failures are terminal, and a terminal key held until its
// object changes (generation, uid, deletion); then the controller that applies it.
import { Registry } from 'prom-client';

import { Controller, controllerMetrics } from './controller.js';
import type { Cache, Listener } from './informer.js';
import type { KubeObject } from './kubeClient.js';
import { jsonLogger } from '../../../api/src/log.js';
import { isTerminal, TerminalError, TerminalKeys } from './terminalError.js';

const object = (generation: number, uid = 'u1', deletionTimestamp?: string): KubeObject => ({
  apiVersion: 'example.io/v1',
  kind: 'Thing',
  metadata: { name: 'a', namespace: 'ns', uid, generation, deletionTimestamp },
});

test('a TerminalError, or an error saying terminal: true, is terminal; others are not', () => {
  expect(isTerminal(new TerminalError('BadTimeRange', 'ends before it starts'))).toBe(true);
  expect(isTerminal(Object.assign(new Error('refused'), { terminal: true }))).toBe(true);
  expect(isTerminal(new Error('connection refused'))).toBe(false);
  expect(isTerminal(undefined)).toBe(false);
  expect(new TerminalError('BadTimeRange', 'x').reason).toBe('BadTimeRange');
});

test('a parked key holds for the same object version, and is released by any change', () => {
  const keys = new TerminalKeys();
  expect(keys.parked('ns/a', object(1))).toBe(false);
  keys.park('ns/a', object(1));
  expect(keys.parked('ns/a', object(1))).toBe(true);
  expect(keys.parked('ns/a', object(2))).toBe(false);
  expect(keys.parked('ns/a', object(1))).toBe(false); // released for good
  keys.park('ns/a', object(1));
  expect(keys.parked('ns/a', object(1, 'u2'))).toBe(false);
  keys.park('ns/a', object(1));
  expect(keys.parked('ns/a', object(1, 'u1', '2026-01-01T00:00:00Z'))).toBe(false);
  keys.park('ns/a', object(1));
  expect(keys.parked('ns/a', undefined)).toBe(false);
  keys.park('ns/b', undefined);
  expect(keys.parked('ns/b', undefined)).toBe(false);
});

/** A cache of one object whose events the test sends. */
function fakeCache(current: { object: KubeObject }): Cache<KubeObject> & { emit(): void } {
  const listeners: Listener<KubeObject>[] = [];
  return {
    on: (l) => listeners.push(l),
    get: () => current.object,
    list: () => [current.object],
    hasSynced: true,
    waitForSync: () => Promise.resolve(),
    start: () => undefined,
    stop: () => undefined,
    emit: () => listeners.forEach((l) => l('update', current.object)),
  };
}

test('a controller does not retry a terminal error, nor reconcile the key again until its generation changes', async () => {
  const registry = new Registry();
  const lines: string[] = [];
  const current = { object: object(1) };
  const cache = fakeCache(current);
  const calls: number[] = [];
  const controller = new Controller(
    'test',
    () => {
      calls.push(current.object.metadata.generation!);
      return Promise.reject(new TerminalError('BadTimeRange', 'the range ends before it starts'));
    },
    jsonLogger({ write: (l) => lines.push(l) }),
    controllerMetrics(registry),
    { baseDelayMs: 5, maxDelayMs: 20, qps: 1000, burst: 100 },
  ).watches(cache);
  await controller.start(1);
  const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 60));
  cache.emit();
  await settle();
  cache.emit(); // a status write's own event: same generation
  await settle();
  expect(calls).toEqual([1]);
  current.object = object(2);
  cache.emit();
  await settle();
  await controller.stop();

  expect(calls).toEqual([1, 2]);
  const logged = lines.map((l) => JSON.parse(l) as { msg: string; err?: string });
  expect(
    logged.filter((l) => l.msg === 'terminal error; not retried until the spec changes'),
  ).toHaveLength(2);
  const metrics = await registry.getSingleMetricAsString('edgewarden_operator_reconcile_total');
  expect(metrics).toContain(
    'edgewarden_operator_reconcile_total{controller="test",result="terminal"} 2',
  );
  expect(metrics).toContain(
    'edgewarden_operator_reconcile_total{controller="test",result="error"} 0',
  );
});
