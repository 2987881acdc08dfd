// The HTTP input bounds of issue 20, H3, on a loopback server: bodies read up to a cap and
// refused unread, the in-flight bound, and GET /anomalies' pages written a slice at a time.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';

import type { AnomalyFilter, StoredAnomaly } from '../store/anomalyQuery.js';
import { serveAnomalies } from './anomaliesRoute.js';
import { ANOMALY_NEXT_HEADER, ANOMALY_PAGE_LIMIT } from './anomalyQuery.js';
import { answerUnread, readJsonBody } from './boundedBody.js';
import { inFlightLimit } from './inFlight.js';

let server: Server;
let base: string;
const release: (() => void)[] = [];
const rows: StoredAnomaly[] = Array.from({ length: 1_234 }, (_, i) => ({
  id: i + 1,
  timestamp: new Date(Date.UTC(2026, 10, 23) + i * 1000).toISOString(),
  agent: 'auth',
  device: 'gw',
  type: 'brute_force',
  severity: 4,
  confidence: 1,
  score: 1,
  description: 'x'.repeat(200),
  features: { failures: i },
  evidence: [i],
  windowStart: '',
  windowEnd: '',
  occurrences: 1,
  lastSeen: '',
  status: 'open',
  note: null,
  statusBy: null,
  statusAt: null,
  captures: null,
  alertState: null,
}));
const store = {
  list: (f: AnomalyFilter) =>
    rows.filter((a) => !f.after || a.id > f.after.id).slice(0, f.limit ?? 1000),
};

beforeAll(async () => {
  const app = express();
  app.put('/echo', async (req, res) => {
    if (req.get('authorization') !== 'Bearer ok')
      return answerUnread(req, res, 401, { reason: 'Unauthorized' });
    const body = await readJsonBody(req, 1024);
    if (!body.ok) return answerUnread(req, res, body.code, { reason: body.reason });
    res.json({ got: body.value });
  });
  app.get('/slow', inFlightLimit(2), (_req, res) => {
    release.push(() => res.json({ done: true }));
  });
  app.get('/anomalies', serveAnomalies(store));
  await new Promise<void>((r) => {
    server = app.listen(0, '127.0.0.1', () => r());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((r) => server.close(r)));

const put = (body: string | Uint8Array, authorization = 'Bearer ok') =>
  fetch(`${base}/echo`, { method: 'PUT', headers: { authorization }, body });

test('a body within the cap is parsed; over it (declared or streamed) 413; not JSON 400', async () => {
  expect(await (await put('{"a":1}')).json()).toEqual({ got: { a: 1 } });
  expect((await put(`"${'a'.repeat(2000)}"`)).status).toBe(413);
  // Streamed without a Content-Length: counted as it arrives.
  const chunks = new ReadableStream({
    start(c) {
      for (let i = 0; i < 10; i++) c.enqueue(new TextEncoder().encode('a'.repeat(500)));
      c.close();
    },
  });
  const streamed = await fetch(`${base}/echo`, {
    method: 'PUT',
    headers: { authorization: 'Bearer ok' },
    body: chunks,
    duplex: 'half',
  });
  expect(streamed.status).toBe(413);
  expect((await put('{"a":')).status).toBe(400);
});

test('refused unread: the answer arrives, and the connection still serves', async () => {
  const refused = await put(new Uint8Array(8 * 1024 * 1024), 'Bearer wrong');
  expect(refused.status).toBe(401);
  expect(await refused.json()).toEqual({ reason: 'Unauthorized' });
  expect((await put('[]')).status).toBe(200);
});

test('beyond the in-flight bound: 503 with Retry-After; a slot frees when an answer ends', async () => {
  const first = [fetch(`${base}/slow`), fetch(`${base}/slow`)];
  while (release.length < 2) await new Promise((r) => setTimeout(r, 10));
  const third = await fetch(`${base}/slow`);
  expect(third.status).toBe(503);
  expect(third.headers.get('retry-after')).toBe('1');
  release.shift()!();
  expect((await first[0]!).status).toBe(200);
  const fourth = fetch(`${base}/slow`);
  while (release.length < 2) await new Promise((r) => setTimeout(r, 10));
  for (const r of release.splice(0)) r();
  expect((await first[1]!).status).toBe(200);
  expect((await fourth).status).toBe(200);
});

test('GET /anomalies: full pages carry the next cursor, the last none; every row once', async () => {
  const seen: number[] = [];
  let next: string | null = '';
  while (next !== null) {
    const answer = await fetch(
      `${base}/anomalies?limit=10000${next ? `&after=${encodeURIComponent(next)}` : ''}`,
    );
    const page = (await answer.json()) as StoredAnomaly[];
    expect(page.length).toBeLessThanOrEqual(ANOMALY_PAGE_LIMIT);
    seen.push(...page.map((a) => a.id));
    next = answer.headers.get(ANOMALY_NEXT_HEADER);
  }
  expect(seen).toEqual(rows.map((a) => a.id));
  expect(
    await (await fetch(`${base}/anomalies?after=2026-11-23T00:00:00.000Z,99999`)).json(),
  ).toEqual([]);
});
