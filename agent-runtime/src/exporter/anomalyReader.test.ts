// The exporter reads an agent's /anomalies with the agent's read token (issue 20, H2): from
// the file of the agent's name in the mounted token folder, sent in X-Edgewarden-Token. An
// agent that refuses it fails the export, naming the pod, never the token.
import type { Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';

import { controlTokenDigest } from '../contract/index.js';
import { ANOMALY_ORDER_HEADER } from '../http/anomalyQuery.js';
import { requireReadToken } from '../http/requireToken.js';
import { agentReadToken, AnomalyReader } from './anomalyReader.js';

const token = 'read-token-of-ssh-guard';
let dir: string;
let server: Server;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-tokens-'));
  await writeFile(path.join(dir, 'ssh-guard'), `${token}\n`);
  const app = express();
  app.get('/anomalies', requireReadToken({ readSha256: controlTokenDigest(token) }), (_q, res) => {
    res.set(ANOMALY_ORDER_HEADER, 'asc').json([]);
  });
  await new Promise<void>((r) => {
    server = app.listen(0, '127.0.0.1', () => r());
  });
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

const reader = (agent: string) =>
  new AnomalyReader(
    { agent, kind: 'auth', pod: `${agent}-0`, url },
    { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', pageSize: 10, tokenDir: dir },
  );

test('the read token comes from the file of the agent’s name; none without a file', async () => {
  expect(await agentReadToken(dir, 'ssh-guard')).toBe(token);
  expect(await agentReadToken(dir, 'other')).toBeUndefined();
  expect(await agentReadToken(dir, '../ssh-guard')).toBe(token); // the name only, no path
});

test('a page is read with the agent’s read token', async () => {
  await expect(reader('ssh-guard').page(undefined)).resolves.toEqual([]);
});

test('without its token the agent refuses, and the export fails naming the pod', async () => {
  const failure = reader('other').page(undefined);
  await expect(failure).rejects.toThrow(/other-0 \(other\).*HTTP 401/);
  await expect(failure).rejects.not.toThrow(token);
});
