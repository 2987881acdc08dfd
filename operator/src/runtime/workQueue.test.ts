// The work queue's promises: de-duplication, one worker per key, a changed key queued again
// after its worker is done, per-key exponential backoff, and the global rate limit.
import { WorkQueue } from './workQueue.js';

test('a key added many times is handed out once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  expect(q.depth).toBe(2);
  expect(await q.get()).toBe('a');
  expect(await q.get()).toBe('b');
  expect(q.depth).toBe(0);
});

test('a key being processed is not handed to a second worker; a change meanwhile runs after', async () => {
  const q = new WorkQueue();
  q.add('a');
  const key = await q.get();
  q.add('a'); // changed while a worker has it
  expect(q.depth).toBe(0);
  let second: string | undefined;
  void q.get().then((k) => (second = k));
  await new Promise((r) => setImmediate(r));
  expect(second).toBeUndefined();
  q.done(key!);
  await new Promise((r) => setImmediate(r));
  expect(second).toBe('a');
});

test('failures back off exponentially per key, and success starts the backoff over', () => {
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 1000, qps: 1e9, burst: 1e9 });
  expect([1, 2, 3, 4, 5].map(() => q.retryDelay('a'))).toEqual([10, 20, 40, 80, 160]);
  expect(q.retryDelay('b')).toBe(10); // per key
  for (let i = 0; i < 20; i++) q.retryDelay('a');
  expect(q.retryDelay('a')).toBe(1000); // capped
  q.forget('a');
  expect(q.retryDelay('a')).toBe(10);
});

test('the global rate limit delays retries past the burst', () => {
  let now = 0;
  const q = new WorkQueue({ baseDelayMs: 1, maxDelayMs: 1, qps: 10, burst: 3, now: () => now });
  expect([q.retryDelay('a'), q.retryDelay('b'), q.retryDelay('c')]).toEqual([1, 1, 1]);
  expect(q.retryDelay('d')).toBe(100); // one token short at 10 per second
  expect(q.retryDelay('e')).toBe(200);
  now += 1000; // ten tokens back (capped at the burst of three)
  expect(q.retryDelay('f')).toBe(1);
});

test('addAfter queues later; an earlier add or a sooner delay wins', async () => {
  const q = new WorkQueue();
  q.addAfter('a', 30);
  q.addAfter('a', 10_000); // later: ignored
  expect(q.depth).toBe(0);
  const started = Date.now();
  expect(await q.get()).toBe('a');
  expect(Date.now() - started).toBeLessThan(5000);
  q.done('a');
  q.addAfter('b', 10_000);
  q.add('b'); // now wins
  expect(await q.get()).toBe('b');
});

test('shutDown releases waiting workers', async () => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.shutDown();
  expect(await waiting).toBeUndefined();
  q.add('a');
  expect(await q.get()).toBeUndefined();
});

test('the observer hears depth and how long a key waited', async () => {
  const waits: number[] = [];
  const depths: number[] = [];
  const q = new WorkQueue({}, { onGet: (w) => waits.push(w), onDepth: (d) => depths.push(d) });
  q.add('a');
  q.add('b');
  await q.get();
  expect(depths).toEqual([1, 2, 1]);
  expect(waits).toHaveLength(1);
  expect(waits[0]).toBeGreaterThanOrEqual(0);
});
