// The demo end to end, into a temporary folder: files written, SQLite readable by anyone,
// every injected attack found, and a second run starting afresh; and in memory, writing nothing.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  first.store.close();
  expect(first.detections.filter((d) => !d.anomaly)).toEqual([]);
  expect(first.report).toMatchObject({ precision: 1, recall: 1, falsePositives: [] });
  expect((await readFile(first.logFile!, 'utf8')).split('\n').filter(Boolean)).toHaveLength(
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
    'system/wan_flapping',
    'wifi/deauth_flood',
    'wifi/psk_mismatch_burst',
  ]);

  // The next run replaces the demo's own files, and nothing else in the folder (it may be the
  // user's own, or a mounted volume).
  await writeFile(path.join(dir, 'notes.txt'), 'not the demo’s');
  const second = await runDemo(dir);
  second.store.close();
  expect(second.stored.length).toBe(first.stored.length);
  const again = new Database(second.databaseFile, { readonly: true });
  expect(again.prepare('SELECT count(*) AS n FROM anomalies').get()).toEqual({
    n: second.stored.length,
  });
  again.close();
  expect(await readFile(path.join(dir, 'notes.txt'), 'utf8')).toBe('not the demo’s');
});

test('in memory: the same findings, and not a file written', async () => {
  const before = await readdir(dir);
  const result = await runDemo({ kind: 'memory', why: 'no writable folder' });
  try {
    expect(result).toMatchObject({ logFile: undefined, databaseFile: undefined });
    expect(result.detections.filter((d) => !d.anomaly)).toEqual([]);
    expect(result.store.counts().total).toBe(result.stored.length);
    expect(await readdir(dir)).toEqual(before);
  } finally {
    result.store.close();
  }
});

test('--serve: the demo store behind the agent endpoints', async () => {
  const result = await runDemo(dir);
  const server = await serveDemo(result, 0);
  try {
    const url = (p: string): string => `http://127.0.0.1:${server.port}${p}`;
    expect((await fetch(url('/healthz'))).status).toBe(200);
    const high = (await (await fetch(url('/anomalies?minSeverity=high'))).json()) as {
      id: number;
      severity: number;
      status: string;
    }[];
    expect(high.length).toBeGreaterThanOrEqual(7);
    expect(high.every((a) => a.severity >= 4 && a.status === 'open')).toBe(true);
    expect(await (await fetch(url(`/anomalies/${high[0]!.id}`))).json()).toEqual(high[0]);
    expect((await fetch(url('/anomalies/999999'))).status).toBe(404);
    // Read only: the demo has no tokens, so no triage route.
    const post = await fetch(url(`/anomalies/${high[0]!.id}/status`), { method: 'POST' });
    expect(post.status).toBe(404);
    const status = (await (await fetch(url('/status'))).json()) as {
      recall: number;
      attacks: { foundBy: string | null }[];
    };
    expect(status.recall).toBe(1);
    expect(status.attacks.every((a) => a.foundBy !== null)).toBe(true);
    expect((await fetch(url('/anomalies?limit=0'))).status).toBe(400);
  } finally {
    await server.close();
    result.store.close();
  }
});

/** Samples of a Prometheus text exposition: `name{labels}` to value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(`${m[1]}${m[2] ?? ''}`, Number(m[3]));
  }
  return out;
}
const sum = (s: Map<string, number>, name: string): number =>
  [...s].filter(([k]) => k === name || k.startsWith(`${name}{`)).reduce((t, [, v]) => t + v, 0);

test("--serve /metrics: the agents' metric families, with what the demo found", async () => {
  const result = await runDemo(dir);
  const server = await serveDemo(result, 0);
  try {
    const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const s = samples(text);
    // Every anomaly found is counted once, by agent, type and severity, and by device.
    expect(sum(s, 'edgewarden_anomalies_total')).toBe(result.summary.anomalies);
    expect(sum(s, 'edgewarden_device_anomalies_total')).toBe(result.summary.anomalies);
    for (const { anomaly } of result.detections) {
      const key = `edgewarden_anomalies_total{agent="${anomaly!.agent}",type="${anomaly!.type}",severity="${anomaly!.severity}"}`;
      expect(s.has(key) ? key : `no sample ${key}`).toBe(key);
      expect(s.get(key)).toBeGreaterThanOrEqual(1);
    }
    expect(s.get('edgewarden_anomalies_total{agent="auth",type="brute_force",severity="5"}')).toBe(
      result.stored.filter((a) => a.agent === 'auth' && a.type === 'brute_force').length,
    );
    expect(s.get('edgewarden_device_anomalies_total{agent="auth",device="gw-home"}')).toBe(
      result.stored.filter((a) => a.agent === 'auth' && a.device === 'gw-home').length,
    );
    // Each agent read every line; the shipped models served, and their inference timed.
    for (const agent of ['wifi', 'dns', 'auth', 'firewall', 'system', 'template']) {
      expect(s.get(`edgewarden_lines_read_total{agent="${agent}"}`)).toBe(
        result.summary.lines - result.summary.unreadable,
      );
      expect(s.get(`edgewarden_lines_unparsed_total{agent="${agent}"}`)).toBe(
        result.summary.unreadable,
      );
      expect(s.get(`edgewarden_ready{agent="${agent}"}`)).toBe(1);
    }
    for (const [agent, version] of Object.entries(result.models)) {
      expect(s.get(`edgewarden_model_info{agent="${agent}",version="${version}"}`)).toBe(1);
      expect(
        s.get(`edgewarden_inference_duration_seconds_count{agent="${agent}"}`),
      ).toBeGreaterThan(0);
    }
    expect(Object.keys(result.models)).toContain('dns');
    // The newest line of the demo's router, as Unix time.
    expect(
      s.get('edgewarden_device_last_line_timestamp_seconds{agent="dns",device="gw-home"}'),
    ).toBe(result.summary.newestByDevice.get('gw-home')! / 1000);
    // And the process's own, under the same prefix as an agent's.
    expect(text).toMatch(/^edgewarden_process_resident_memory_bytes \d+/m);
    // A second server on the same result (a restarted --serve) serves the same.
    const again = await serveDemo(result, 0);
    try {
      const second = samples(await (await fetch(`http://127.0.0.1:${again.port}/metrics`)).text());
      expect(sum(second, 'edgewarden_anomalies_total')).toBe(result.summary.anomalies);
    } finally {
      await again.close();
    }
  } finally {
    await server.close();
    result.store.close();
  }
});
