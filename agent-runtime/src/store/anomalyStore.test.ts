// The anomaly store on real SQLite files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

import type { Anomaly } from '../agents/types.js';
import { AnomalyStore } from './anomalyStore.js';
import { anomalyEndingAt } from '../../../test/fixtures/anomaly.js';

const MIN = 60_000;
const options = { cooldownMs: 15 * MIN, retentionMs: 30 * 24 * 60 * MIN, maxRows: 1000 };
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-store-'));
  file = path.join(dir, 'anomalies.db');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const anomaly = anomalyEndingAt;

test('a new file is migrated, in WAL mode, and keeps what it stored across reopening', () => {
  const store = new AnomalyStore(file, options);
  expect(store.record([anomaly('2026-11-23T10:05:00Z')])).toEqual({ added: 1, repeated: 0 });
  store.close();
  const raw = new Database(file, { readonly: true });
  expect(raw.pragma('user_version', { simple: true })).toBe(7);
  expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
  raw.close();
  const again = new AnomalyStore(file, options);
  expect(again.list()).toHaveLength(1);
  expect(again.list()[0]).toMatchObject({
    agent: 'auth',
    device: 'gw',
    type: 'brute_force',
    features: { failures: 12 },
    evidence: [1, 2, 3],
  });
  again.close();
});

test('a repeat within the cooldown counts on the open anomaly; after it, a new row', () => {
  const store = new AnomalyStore(file, options);
  store.record([anomaly('2026-11-23T10:05:00Z')]);
  expect(store.record([anomaly('2026-11-23T10:10:00Z', { severity: 5, evidence: [9] })])).toEqual({
    added: 0,
    repeated: 1,
  });
  expect(store.record([anomaly('2026-11-23T10:10:00Z', { device: 'ap' })])).toEqual({
    added: 1,
    repeated: 0,
  });
  expect(store.record([anomaly('2026-11-23T11:00:00Z')])).toEqual({ added: 1, repeated: 0 });
  const gw = store.list().filter((a) => a.device === 'gw');
  expect(gw.map((a) => [a.windowEnd, a.occurrences, a.severity])).toEqual([
    ['2026-11-23T11:00:00.000Z', 1, 4],
    ['2026-11-23T10:10:00.000Z', 2, 5],
  ]);
  expect(gw[1]!.evidence).toEqual([1, 2, 3, 9]);
  store.close();
});

test('the watermark, the engine state and the devices’ last lines are saved with the anomalies, or not at all', () => {
  const store = new AnomalyStore(file, options);
  const learned = {
    version: 1,
    agents: { auth: { gw: { memory: ['192.0.2.1'], baselines: {} } } },
  };
  store.record(
    [anomaly('2026-11-23T10:05:00Z')],
    { source: 'log_entries', value: '100' },
    { startedAt: '2026-11-23T10:05:00Z', lines: 100 },
    learned,
    new Map([
      ['gw', 1000],
      ['ap', 2000],
    ]),
  );
  // A device's time only moves forward (a later cycle may read an older, late row of it).
  store.record(
    [],
    { source: 'log_entries', value: '150' },
    undefined,
    learned,
    new Map([
      ['gw', 500],
      ['ap', 3000],
    ]),
  );
  expect(store.devices('log_entries')).toEqual(
    new Map([
      ['gw', 1000],
      ['ap', 3000],
    ]),
  );
  expect(store.devices('elsewhere').size).toBe(0);
  expect(store.watermark('log_entries')).toBe('150');
  store.record([], { source: 'log_entries', value: '100' });
  expect(store.watermark('log_entries')).toBe('100');
  expect(store.engineState('log_entries')).toEqual(learned);
  expect(store.engineState('elsewhere')).toBeUndefined();
  // Severity 9 breaks the table's CHECK: the whole cycle, watermark included, is rolled back.
  expect(() =>
    store.record(
      [
        anomaly('2026-11-23T11:05:00Z', { type: 'x' }),
        anomaly('2026-11-23T11:05:00Z', { severity: 9 as never }),
      ],
      {
        source: 'log_entries',
        value: '200',
      },
      { startedAt: '2026-11-23T11:05:00Z', lines: 100 },
      { version: 1, agents: {} },
      new Map([['gw', 9000]]),
    ),
  ).toThrow(/CHECK constraint failed/);
  expect(store.devices('log_entries').get('gw')).toBe(1000);
  expect(store.watermark('log_entries')).toBe('100');
  expect(store.engineState('log_entries')).toEqual(learned);
  expect(store.cycleTotals('log_entries')).toEqual({ cycles: 1, lines: 100 });
  expect(store.list()).toHaveLength(1);
  store.close();
});

test('retention by age and by count', () => {
  const store = new AnomalyStore(file, { ...options, maxRows: 3, retentionMs: 24 * 60 * MIN });
  for (let h = 0; h < 6; h++)
    store.record([anomaly(`2026-11-2${h < 2 ? 0 : 3}T0${h}:00:00Z`, { type: `t${h}` })]);
  const day = (d: string): number => Date.parse(`2026-11-${d}T06:00:00Z`);
  store.record(
    [],
    { source: 's', value: '1' },
    undefined,
    undefined,
    new Map([
      ['old', day('21')],
      ['new', day('23')],
    ]),
  );
  expect(store.prune(new Date('2026-11-23T12:00:00Z'))).toBe(3); // two too old, one over the limit
  // A device silent for longer than the retention is forgotten.
  expect([...store.devices('s').keys()]).toEqual(['new']);
  expect(store.list().map((a) => a.type)).toEqual(['t5', 't4', 't3']);
  expect(store.counts(new Date('2026-11-23T12:00:00Z'))).toEqual({ total: 3, last24h: 3 });
  store.close();
});

test('list filters by time and severity, newest first', () => {
  const store = new AnomalyStore(file, options);
  store.record([
    anomaly('2026-11-23T10:00:00Z', { type: 'a', severity: 2 }),
    anomaly('2026-11-23T11:00:00Z', { type: 'b' }),
  ]);
  expect(store.list({ minSeverity: 3 }).map((a) => a.type)).toEqual(['b']);
  expect(store.list({ since: '2026-11-23T10:30:00Z' }).map((a) => a.type)).toEqual(['b']);
  expect(store.list({ limit: 1 }).map((a) => a.type)).toEqual(['b']);
  store.close();
});

test('a rule and its remediation are stored and listed; the top rules count the last 24 hours', () => {
  const store = new AnomalyStore(file, { ...options, cooldownMs: 0 });
  const ruled = (at: string, rule: string, device: string) =>
    anomaly(at, { rule, remediation: `fix ${rule}`, device });
  store.record([
    ruled('2026-11-22T09:00:00Z', 'auth.old', 'a'), // older than a day: not in the top
    ruled('2026-11-23T10:00:00Z', 'auth.ssh-brute-force', 'a'),
    ruled('2026-11-23T10:05:00Z', 'auth.ssh-brute-force', 'b'),
    ruled('2026-11-23T10:10:00Z', 'wifi.psk-mismatch', 'a'),
    anomaly('2026-11-23T10:15:00Z', { device: 'c' }), // the agent's own code: no rule
  ]);
  expect(store.list({ limit: 2 }).map((a) => [a.rule, a.remediation])).toEqual([
    [undefined, undefined],
    ['wifi.psk-mismatch', 'fix wifi.psk-mismatch'],
  ]);
  expect(store.topRules(new Date('2026-11-23T12:00:00Z'))).toEqual([
    { rule: 'auth.ssh-brute-force', anomalies: 2 },
    { rule: 'wifi.psk-mismatch', anomalies: 1 },
  ]);
  store.close();
});

test('a store written before rules existed gains the columns and keeps its rows', () => {
  const store = new AnomalyStore(file, options);
  store.record([anomaly('2026-11-23T10:00:00Z')]);
  store.close();
  // Back to schema version 5, as an agent before rule packs left it (version 7's columns too).
  const raw = new Database(file);
  raw.exec(`DROP INDEX anomalies_status;
    ALTER TABLE anomalies DROP COLUMN status_by; ALTER TABLE anomalies DROP COLUMN status_at;
    ALTER TABLE anomalies DROP COLUMN captures; ALTER TABLE anomalies DROP COLUMN alert_state;
    ALTER TABLE anomalies DROP COLUMN alert_ends_at`);
  raw.exec('ALTER TABLE anomalies DROP COLUMN rule; ALTER TABLE anomalies DROP COLUMN remediation');
  raw.pragma('user_version = 5');
  raw.close();
  const upgraded = new AnomalyStore(file, options);
  expect(upgraded.list().map((a) => [a.type, a.rule])).toEqual([['brute_force', undefined]]);
  upgraded.record([anomaly('2026-11-23T11:00:00Z', { type: 'x', rule: 'auth.x' })]);
  expect(upgraded.list().map((a) => a.rule)).toEqual(['auth.x', undefined]);
  upgraded.close();
});

test('paging oldest first by keyset cursor, within [since, until): every anomaly once, ties by id', () => {
  const store = new AnomalyStore(file, { ...options, cooldownMs: 0 });
  // 50 anomalies, two at each time (ties), spanning the window's edges.
  const all: Anomaly[] = [];
  for (let i = 0; i < 25; i++)
    for (const device of ['gw', 'ap'])
      all.push(
        anomaly(new Date(Date.parse('2026-11-23T09:50:00Z') + i * 5 * MIN).toISOString(), {
          device,
          type: `t${i}`,
        }),
      );
  store.record(all);
  const since = '2026-11-23T10:00:00.000Z';
  const until = '2026-11-23T11:00:00.000Z';
  const expected = store
    .list({ since, limit: 1000 })
    .filter((a) => a.timestamp < until)
    .reverse();
  expect(expected.length).toBe(24); // 10:00 to 10:55, two each
  const pages: number[][] = [];
  let after: { timestamp: string; id: number } | undefined;
  for (;;) {
    const page = store.list({ since, until, order: 'asc', limit: 5, after });
    if (page.length === 0) break;
    pages.push(page.map((a) => a.id));
    after = { timestamp: page[page.length - 1]!.timestamp, id: page[page.length - 1]!.id };
    // An anomaly added meanwhile, before the cursor, is not read; one after it is.
    if (pages.length === 2) store.record([anomaly('2026-11-23T10:57:00Z', { type: 'late' })]);
  }
  const read = pages.flat();
  expect(pages.every((p) => p.length <= 5)).toBe(true);
  expect(new Set(read).size).toBe(read.length);
  const late = store.list({ since, until, limit: 1000 }).find((a) => a.type === 'late')!;
  expect(read).toEqual([...expected.map((a) => a.id), late.id]);
  // Newest first pages backwards from a cursor too.
  const newest = store.list({ since, until, limit: 3 });
  const older = store.list({
    since,
    until,
    limit: 3,
    after: { timestamp: newest[2]!.timestamp, id: newest[2]!.id },
  });
  expect([...newest, ...older].map((a) => a.id)).toEqual(
    store.list({ since, until, limit: 6 }).map((a) => a.id),
  );
  expect(older[0]!.timestamp <= newest[2]!.timestamp).toBe(true);
  store.close();
});

test('a file from a newer edgewarden is refused, not rewritten', () => {
  const raw = new Database(file);
  raw.pragma('user_version = 99');
  raw.close();
  expect(() => new AnomalyStore(file, options)).toThrow(
    /schema version 99, newer than this edgewarden knows/,
  );
});
