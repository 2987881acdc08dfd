// The demo end to end, into a temporary folder: files written, SQLite readable by anyone,
// every injected attack found, and a second run starting afresh.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

import { runDemo } from './runDemo.js';
import { serveDemo } from './serveDemo.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-demo-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

test('the demo stores what it finds, finds every attack, and starts afresh each run', async () => {
  const first = await runDemo(dir);
  expect(first.detections.filter((d) => !d.anomaly)).toEqual([]);
  expect(first.report).toMatchObject({ precision: 1, recall: 1, falsePositives: [] });
  expect((await readFile(first.logFile, 'utf8')).split('\n').filter(Boolean)).toHaveLength(
    first.backgroundLines + first.injectedLines,
  );

  const db = new Database(first.databaseFile, { readonly: true });
  const rows = db.prepare('SELECT agent_name, anomaly_type, severity FROM anomalies').all() as {
    agent_name: string;
    anomaly_type: string;
    severity: number;
  }[];
  db.close();
  expect(rows).toHaveLength(first.stored.length);
  expect(
    rows
      .filter((r) => r.severity >= 4)
      .map((r) => `${r.agent_name}/${r.anomaly_type}`)
      .sort(),
  ).toEqual([
    'auth/brute_force',
    'dns/dhcp_starvation',
    'dns/dns_tunnelling',
    'firewall/port_scan',
    'system/link_flapping',
    'system/wan_flapping',
    'wifi/deauth_flood',
    'wifi/psk_mismatch_burst',
  ]);

  await writeFile(path.join(dir, 'stale.txt'), 'left from before');
  const second = await runDemo(dir);
  expect(second.stored.length).toBe(first.stored.length);
  await expect(readFile(path.join(dir, 'stale.txt'))).rejects.toThrow();
});

test('--serve: the demo store behind the agent endpoints', async () => {
  const result = await runDemo(dir);
  const server = await serveDemo(result, 0);
  try {
    const url = (p: string): string => `http://127.0.0.1:${server.port}${p}`;
    expect((await fetch(url('/healthz'))).status).toBe(200);
    const high = (await (await fetch(url('/anomalies?minSeverity=high'))).json()) as {
      severity: number;
    }[];
    expect(high.length).toBeGreaterThanOrEqual(7);
    expect(high.every((a) => a.severity >= 4)).toBe(true);
    const status = (await (await fetch(url('/status'))).json()) as {
      recall: number;
      attacks: { foundBy: string | null }[];
    };
    expect(status.recall).toBe(1);
    expect(status.attacks.every((a) => a.foundBy !== null)).toBe(true);
    expect((await fetch(url('/anomalies?limit=0'))).status).toBe(400);
  } finally {
    await server.close();
  }
});
