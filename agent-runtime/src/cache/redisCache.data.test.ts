// The Redis cache and status keys against a real Redis server, which the tests stop and start.
import { Redis } from 'ioredis';

import { startRedis, type RedisServer } from '../../../test/services/redis.js';
import { RedisCache } from './redisCache.js';

let server: RedisServer;
let probe: Redis;

beforeAll(async () => {
  server = await startRedis();
  probe = new Redis(server.url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
  });
  probe.on('error', () => undefined);
  await probe.connect();
});

afterAll(async () => {
  probe?.disconnect();
  await server?.stop();
});

async function connected(cache: RedisCache): Promise<void> {
  cache.connect();
  for (let i = 0; i < 100 && !cache.state().available; i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(cache.state()).toEqual({ available: true });
}

const make = (): RedisCache =>
  new RedisCache({ url: server.url, keyPrefix: 'edgewarden:', agent: 'dns', pod: 'dns-agent-0' });

test('status keys are named per agent and pod, and expire', async () => {
  const cache = make();
  await connected(cache);
  expect(
    await cache.publishStatus(
      { status: 'analysing', health: 'ok', lastCheck: new Date('2026-11-23T10:00:00Z') },
      60,
    ),
  ).toBe(true);
  expect(await probe.get('edgewarden:dns:dns-agent-0:status')).toBe('analysing');
  expect(await probe.get('edgewarden:dns:dns-agent-0:health')).toBe('ok');
  expect(await probe.get('edgewarden:dns:dns-agent-0:error')).toBe('');
  expect(await probe.get('edgewarden:dns:dns-agent-0:last_check')).toBe('2026-11-23T10:00:00.000Z');
  const ttl = await probe.ttl('edgewarden:dns:dns-agent-0:status');
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(60);
  await cache.close();
});

test('the query cache computes once, then serves the cached value until it expires', async () => {
  const cache = make();
  await connected(cache);
  let computed = 0;
  const compute = (): Promise<{ n: number }> => Promise.resolve({ n: ++computed });
  expect(await cache.cached('devices', 30, compute)).toEqual({ n: 1 });
  expect(await cache.cached('devices', 30, compute)).toEqual({ n: 1 });
  expect(computed).toBe(1);
  expect(await probe.ttl('edgewarden:cache:devices')).toBeGreaterThan(0);
  await probe.del('edgewarden:cache:devices'); // as if it expired
  expect(await cache.cached('devices', 30, compute)).toEqual({ n: 2 });
  await cache.close();
});

test('with Redis down the agent carries on (fail open), says so, and recovers when it returns', async () => {
  const cache = make();
  await connected(cache);
  await server.stop();
  for (let i = 0; i < 100 && cache.state().available; i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(cache.state().available).toBe(false);
  expect(cache.state().lastError).toBeTruthy();

  let computed = 0;
  expect(await cache.cached('devices', 30, () => Promise.resolve({ n: ++computed }))).toEqual({
    n: 1,
  });
  expect(await cache.cached('devices', 30, () => Promise.resolve({ n: ++computed }))).toEqual({
    n: 2,
  });
  expect(
    await cache.publishStatus(
      { status: 'analysing', health: 'degraded', lastCheck: new Date() },
      60,
    ),
  ).toBe(false);

  await server.start();
  for (let i = 0; i < 200 && !cache.state().available; i++)
    await new Promise((r) => setTimeout(r, 50));
  expect(cache.state()).toEqual({ available: true });
  expect(
    await cache.publishStatus({ status: 'analysing', health: 'ok', lastCheck: new Date() }, 60),
  ).toBe(true);
  await cache.close();
});

test('a password in the URL never appears in what the cache reports', async () => {
  const guarded = await startRedis('right-password');
  const cache = new RedisCache({
    url: guarded.url.replace('redis://', 'redis://:s3cret-wrong-pw@'),
    keyPrefix: 'edgewarden:',
    agent: 'dns',
    pod: 'p',
  });
  try {
    cache.connect();
    for (let i = 0; i < 100 && cache.state().lastError === 'not connected yet'; i++)
      await new Promise((r) => setTimeout(r, 50));
    const state = cache.state();
    expect(state.available).toBe(false);
    expect(state.lastError).toMatch(/WRONGPASS|invalid|auth/i);
    expect(JSON.stringify(state)).not.toContain('s3cret-wrong-pw');
  } finally {
    await cache.close();
    await guarded.stop();
  }
});
