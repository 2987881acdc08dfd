// The anomaly lifecycle and the Alertmanager ledger (issue 21) on real SQLite files.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

import type { Anomaly } from '../agents/types.js';
import { AnomalyStore } from './anomalyStore.js';
import { ANOMALY_STATUSES, type AnomalyStatus } from './anomalyStatus.js';
import { anomalyEndingAt } from '../../../test/fixtures/anomaly.js';

const MIN = 60_000;
const options = { cooldownMs: 15 * MIN, retentionMs: 30 * 24 * 60 * MIN, maxRows: 1000 };
const NOW = new Date('2026-11-23T12:00:00.000Z');
let dir: string;
let file: string;
let store: AnomalyStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-triage-'));
  file = path.join(dir, 'anomalies.db');
  store = new AnomalyStore(file, options);
});
afterEach(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

const anomaly = anomalyEndingAt;

/** Records one anomaly and returns its id. */
function add(at: string, overrides: Partial<Anomaly> = {}): number {
  store.record([anomaly(at, overrides)]);
  return store.list({ limit: 1 })[0]!.id;
}

test('a store at schema version 6 is migrated to 7 and keeps its rows, all open', () => {
  store.record([anomaly('2026-11-23T10:00:00Z'), anomaly('2026-11-23T10:00:00Z', { type: 'x' })]);
  store.close();
  // Back to version 6, as an agent before issue 21 left it.
  const raw = new Database(file);
  raw.exec(`DROP INDEX anomalies_status;
    ALTER TABLE anomalies DROP COLUMN status_by; ALTER TABLE anomalies DROP COLUMN status_at;
    ALTER TABLE anomalies DROP COLUMN captures; ALTER TABLE anomalies DROP COLUMN alert_state;
    ALTER TABLE anomalies DROP COLUMN alert_ends_at`);
  raw.pragma('user_version = 6');
  raw.close();
  store = new AnomalyStore(file, options);
  expect(store.list().map((a) => [a.type, a.status, a.note, a.statusBy, a.captures])).toEqual([
    ['x', 'open', null, null, null],
    ['brute_force', 'open', null, null, null],
  ]);
  store.close();
  const check = new Database(file, { readonly: true });
  expect(check.pragma('user_version', { simple: true })).toBe(7);
  const indexes = check.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all();
  expect(indexes).toContainEqual({ name: 'anomalies_status' });
  check.close();
  store = new AnomalyStore(file, options);
});

test('a status change records the note, who and when; get reads it back; unknown ids are 404', () => {
  const id = add('2026-11-23T10:00:00Z');
  expect(store.get(id)).toMatchObject({ id, status: 'open', statusAt: null, alertState: null });
  const acked = store.setStatus(id, { status: 'acknowledged', note: 'looking', by: 'ana' }, NOW);
  expect(acked).toEqual({ ok: true, anomaly: store.get(id) });
  expect(store.get(id)).toMatchObject({
    status: 'acknowledged',
    note: 'looking',
    statusBy: 'ana',
    statusAt: NOW.toISOString(),
  });
  // The same status again: nothing changes but the note, when one is given.
  const later = new Date(NOW.getTime() + MIN);
  store.setStatus(id, { status: 'acknowledged', by: 'bo' }, later);
  expect(store.get(id)).toMatchObject({ note: 'looking', statusBy: 'ana' });
  store.setStatus(id, { status: 'acknowledged', note: 'still looking', by: 'bo' }, later);
  expect(store.get(id)).toMatchObject({
    note: 'still looking',
    statusBy: 'ana',
    statusAt: NOW.toISOString(),
  });
  // Another status without a note clears the old one: it explained the old status.
  store.setStatus(id, { status: 'resolved' }, later);
  expect(store.get(id)).toMatchObject({ status: 'resolved', note: null, statusBy: null });
  expect(store.get(id + 100)).toBeUndefined();
  expect(store.setStatus(id + 100, { status: 'resolved' })).toEqual({
    ok: false,
    code: 404,
    reason: 'NotFound',
    message: `no anomaly ${id + 100}`,
  });
});

/** The design's transitions: from each status, the statuses it may become. */
const ALLOWED: Record<AnomalyStatus, AnomalyStatus[]> = {
  open: ['open', 'acknowledged', 'resolved', 'false_positive'],
  acknowledged: ['acknowledged', 'resolved', 'false_positive', 'open'],
  resolved: ['resolved', 'false_positive', 'open'],
  false_positive: ['false_positive', 'open'],
  suppressed: ['suppressed', 'resolved', 'false_positive', 'open'],
};

/** A new anomaly brought to `status` by allowed steps (suppressed: by a silence). */
function anomalyIn(status: AnomalyStatus, n: number): number {
  const id = add('2026-11-23T10:00:00Z', { type: `t${n}` });
  if (status === 'suppressed') store.markSilenced(id, ['s1'], NOW);
  else expect(store.setStatus(id, { status }, NOW).ok).toBe(true);
  expect(store.get(id)!.status).toBe(status);
  return id;
}

test('every allowed transition is made, every other refused 409 and nothing changed', () => {
  let n = 0;
  for (const from of ANOMALY_STATUSES)
    for (const to of ANOMALY_STATUSES) {
      const id = anomalyIn(from, n++);
      const result = store.setStatus(id, { status: to, note: 'n', by: 'u' }, NOW);
      if (ALLOWED[from].includes(to)) {
        expect([from, to, result.ok]).toEqual([from, to, true]);
        expect(store.get(id)!.status).toBe(to);
      } else {
        expect([from, to, result]).toEqual([
          from,
          to,
          expect.objectContaining({ ok: false, code: 409, reason: 'InvalidTransition' }),
        ]);
        expect(store.get(id)!.status).toBe(from);
      }
    }
  const open = anomalyIn('open', n++);
  expect(store.setStatus(open, { status: 'suppressed' })).toMatchObject({
    message: `anomaly ${open} is open: it can become acknowledged, resolved, false_positive, not suppressed`,
  });
});

test('a repeat within the cooldown counts on an acknowledged anomaly; after a false positive, resolve or silence it is a new row', () => {
  const id = add('2026-11-23T10:00:00Z');
  store.setStatus(id, { status: 'acknowledged', by: 'ana' }, NOW);
  expect(store.record([anomaly('2026-11-23T10:05:00Z')])).toEqual({ added: 0, repeated: 1 });
  expect(store.get(id)).toMatchObject({ status: 'acknowledged', occurrences: 2, statusBy: 'ana' });
  for (const [i, status] of (['false_positive', 'resolved', 'suppressed'] as const).entries()) {
    const last = store.list({ limit: 1 })[0]!.id;
    if (status === 'suppressed') store.markSilenced(last, ['s1'], NOW);
    else store.setStatus(last, { status }, NOW);
    expect(store.record([anomaly(`2026-11-23T10:0${6 + i}:00Z`)])).toEqual({
      added: 1,
      repeated: 0,
    });
    expect(store.list({ limit: 1 })[0]).toMatchObject({ status: 'open', occurrences: 1 });
  }
  expect(store.list().map((a) => a.status)).toEqual([
    'open',
    'suppressed',
    'resolved',
    'false_positive',
  ]);
});

test('captures are stored as the finding gave them; list filters by status, rule, device and type', () => {
  const a = add('2026-11-23T10:00:00Z', {
    rule: 'auth.ssh-brute-force',
    captures: { source: '203.0.113.7', user: 'root' },
  });
  add('2026-11-23T10:01:00Z', { device: 'ap', type: 'deauth_flood', rule: 'wifi.deauth' });
  add('2026-11-23T10:02:00Z', { device: 'ap', type: 'other' });
  expect(store.get(a)!.captures).toEqual({ source: '203.0.113.7', user: 'root' });
  store.setStatus(a, { status: 'acknowledged' }, NOW);
  const types = (filter: Parameters<AnomalyStore['list']>[0]): string[] =>
    store.list(filter).map((x) => x.type);
  expect(types({ status: ['acknowledged'] })).toEqual(['brute_force']);
  expect(types({ status: ['open', 'acknowledged'] })).toEqual([
    'other',
    'deauth_flood',
    'brute_force',
  ]);
  expect(types({ status: [] })).toEqual([]);
  expect(types({ rule: 'wifi.deauth' })).toEqual(['deauth_flood']);
  expect(types({ device: 'ap', type: 'other' })).toEqual(['other']);
  expect(types({ device: 'ap', status: ['acknowledged'] })).toEqual([]);
});

test('triage counts: anomalies by rule and status since a time, rule-less ones left out', () => {
  store.record([
    anomaly('2026-11-10T10:00:00Z', { rule: 'auth.r', type: 'old' }), // before `since`
    anomaly('2026-11-23T10:00:00Z', { rule: 'auth.r', type: 'a' }),
    anomaly('2026-11-23T10:00:00Z', { rule: 'auth.r', type: 'b' }),
    anomaly('2026-11-23T10:00:00Z', { rule: 'wifi.w', type: 'c' }),
    anomaly('2026-11-23T10:00:00Z', { type: 'no-rule' }),
  ]);
  const b = store.list({ type: 'b' })[0]!.id;
  store.setStatus(b, { status: 'false_positive' }, NOW);
  expect(store.triageCounts(new Date('2026-11-16T12:00:00Z'))).toEqual([
    { rule: 'auth.r', status: 'false_positive', anomalies: 1 },
    { rule: 'auth.r', status: 'open', anomalies: 1 },
    { rule: 'wifi.w', status: 'open', anomalies: 1 },
  ]);
});

test('the alert ledger: what is alertable, what was sent, and silences that suppress', () => {
  const low = add('2026-11-23T10:00:00Z', { severity: 2, type: 'low' });
  const first = add('2026-11-23T10:01:00Z', { type: 'first' });
  const second = add('2026-11-23T10:02:00Z', { type: 'second' });
  const done = add('2026-11-23T10:03:00Z', { type: 'done' });
  store.setStatus(done, { status: 'resolved' }, NOW);
  store.setStatus(second, { status: 'acknowledged' }, NOW);
  // At severity 3 and up, open and acknowledged ones, oldest first; never sent: no alert state.
  expect(store.alertable(3).map((a) => [a.id, a.alertState])).toEqual([
    [first, null],
    [second, null],
  ]);
  expect(store.alertable(3, 1).map((a) => a.id)).toEqual([first]);
  expect(store.alertable(1).map((a) => a.id)).toEqual([low, first, second]);
  store.markAlerts([first, second, done], 'firing', '2026-11-23T12:15:00.000Z');
  expect(store.get(first)!.alertState).toBe('firing');
  // A resolved anomaly whose alert was sent firing stays alertable until it is sent resolved.
  expect(store.alertable(3).map((a) => a.id)).toEqual([first, second, done]);
  store.markAlerts([done], 'resolved', NOW.toISOString());
  expect(store.alertable(3).map((a) => a.id)).toEqual([first, second]);
  // A silence suppresses open and acknowledged anomalies only; a user's status stays.
  store.markSilenced(second, ['a1', 'b2'], NOW);
  store.markSilenced(done, ['a1'], NOW);
  expect(store.get(second)).toMatchObject({
    status: 'suppressed',
    note: 'silenced in Alertmanager by a1, b2',
    statusBy: 'alertmanager',
    statusAt: NOW.toISOString(),
  });
  expect(store.get(done)).toMatchObject({ status: 'resolved', statusBy: null });
  // Suppressed but last sent firing: still alertable, to be sent resolved.
  expect(store.alertable(3).map((a) => a.id)).toEqual([first, second]);
  store.markAlerts([second], 'resolved', NOW.toISOString());
  expect(store.alertable(3).map((a) => a.id)).toEqual([first]);
});

test('the alert ledger leaves out open anomalies gone stale once their alert was resolved', () => {
  const stale = add('2026-11-23T08:00:00Z', { type: 'stale' });
  const firingStale = add('2026-11-23T08:05:00Z', { type: 'firing-stale' });
  const fresh = add('2026-11-23T11:30:00Z', { type: 'fresh' });
  store.markAlerts([firingStale], 'firing', '2026-11-23T12:15:00.000Z');
  const since = '2026-11-23T11:00:00.000Z';
  // Seen before `since`: only the one whose alert still fires (it must be resolved).
  expect(store.alertable(3, 500, since).map((a) => a.id)).toEqual([firingStale, fresh]);
  store.markAlerts([firingStale], 'resolved', NOW.toISOString());
  expect(store.alertable(3, 500, since).map((a) => a.id)).toEqual([fresh]);
  // Without `since`, as before: every open one.
  expect(store.alertable(3).map((a) => a.id)).toEqual([stale, firingStale, fresh]);
});
