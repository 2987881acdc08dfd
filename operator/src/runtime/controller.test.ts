// The controller's retry path, in isolation: a reconcile that fails (here with the 409 Conflict
// the API server gives a status write whose resourceVersion precondition no longer holds; the
// integration suite gets a real one) is retried with the queue's backoff until it succeeds, and counted.
import { Registry } from 'prom-client';

import { Controller, controllerMetrics } from './controller.js';
import { ApiError } from './kubeClient.js';
import { jsonLogger } from '../../../api/src/log.js';

test('a reconcile that fails with 409 Conflict is retried with backoff until it succeeds, counted apart', async () => {
  const registry = new Registry();
  const lines: string[] = [];
  const calls: { key: string; at: number }[] = [];
  let done!: () => void;
  const succeeded = new Promise<void>((r) => (done = r));
  const controller = new Controller(
    'test',
    (namespace, name) => {
      calls.push({ key: `${namespace}/${name}`, at: Date.now() });
      if (calls.length <= 2)
        return Promise.reject(
          new ApiError(409, 'Conflict', 'PATCH .../status: 409 Conflict: the UID differs'),
        );
      done();
      return Promise.resolve();
    },
    jsonLogger({ verbosity: 2, write: (l) => lines.push(l) }),
    controllerMetrics(registry),
    { baseDelayMs: 20, maxDelayMs: 1000, qps: 1000, burst: 100 },
  );
  await controller.start(1);
  controller.queue.add('ns/agent');
  await succeeded;
  await controller.stop();

  expect(calls.map((c) => c.key)).toEqual(['ns/agent', 'ns/agent', 'ns/agent']);
  // Backoff: 20 ms, then 40 ms (timers fire no earlier than asked).
  expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(19);
  expect(calls[2]!.at - calls[1]!.at).toBeGreaterThanOrEqual(39);
  const retries = lines
    .map((l) => JSON.parse(l) as { msg: string; err?: string; retryIn?: string })
    .filter((l) => l.msg === 'object changed meanwhile; retrying');
  expect(retries.map((l) => l.retryIn)).toEqual(['20ms', '40ms']);
  expect(retries[0]!.err).toContain('409 Conflict');
  const metrics = await registry.getSingleMetricAsString('edgewarden_operator_reconcile_total');
  expect(metrics).toContain(
    'edgewarden_operator_reconcile_total{controller="test",result="conflict"} 2',
  );
  expect(metrics).toContain(
    'edgewarden_operator_reconcile_total{controller="test",result="error"} 0',
  );
  expect(metrics).toContain(
    'edgewarden_operator_reconcile_total{controller="test",result="success"} 1',
  );
});
