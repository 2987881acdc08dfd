// Opening a store that cannot be read, on real SQLite files: moved aside, kept, replaced.
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';

import { AnomalyStore } from './anomalyStore.js';
import { fileTime, openStoreRecovering, unreadableStore } from './storeRecovery.js';

const options = { cooldownMs: 60_000, retentionMs: 86_400_000, maxRows: 1000 };
const at = new Date('2026-12-07T06:46:32.123Z');
let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-recovery-'));
  file = path.join(dir, 'anomalies.db');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

test('a file name time is sortable and has no colons', () => {
  expect(fileTime(at)).toBe('20261207T064632Z');
});

test('only an unreadable store is a reason to move it', () => {
  expect(unreadableStore({ code: 'SQLITE_NOTADB' })).toBe('Corrupt');
  expect(unreadableStore({ code: 'SQLITE_CORRUPT' })).toBe('Corrupt');
  expect(unreadableStore({ code: 'SQLITE_CORRUPT_INDEX' })).toBe('Corrupt');
  expect(unreadableStore({ code: 'NEWER_SCHEMA' })).toBe('NewerSchema');
  expect(unreadableStore({ code: 'SQLITE_FULL' })).toBeUndefined();
  expect(unreadableStore({ code: 'SQLITE_CANTOPEN' })).toBeUndefined();
  expect(unreadableStore(new Error('no code'))).toBeUndefined();
});

test('a readable store is opened as it is, nothing moved', () => {
  new AnomalyStore(file, options).close();
  const { store, recovery } = openStoreRecovering(file, options, () => at);
  store.close();
  expect(recovery).toBeUndefined();
});

test('a file that is not a database is moved aside and a fresh store opened', async () => {
  await writeFile(file, 'x'.repeat(4096));
  const { store, recovery } = openStoreRecovering(file, options, () => at);
  expect(store.counts()).toEqual({ total: 0, last24h: 0 });
  store.close();
  expect(recovery).toEqual({
    recoveredAt: at.toISOString(),
    reason: 'Corrupt',
    message: 'file is not a database',
    movedTo: 'anomalies.db.corrupt-20261207T064632Z',
  });
  expect(await readFile(path.join(dir, recovery!.movedTo), 'utf8')).toBe('x'.repeat(4096));
});

test('a damaged store (pages overwritten) is found at the open and moved aside', async () => {
  const raw = new Database(file);
  raw.exec('CREATE TABLE t (v TEXT); CREATE INDEX t_v ON t (v)');
  const insert = raw.prepare('INSERT INTO t VALUES (?)');
  raw.transaction(() => {
    for (let i = 0; i < 500; i++) insert.run(`row ${i} `.repeat(20));
  })();
  raw.close();
  const handle = await open(file, 'r+');
  await handle.write(Buffer.alloc(4096, 0xab), 0, 4096, 3 * 4096); // page 4: a b-tree page
  await handle.close();
  const { store, recovery } = openStoreRecovering(file, options, () => at);
  store.close();
  expect(recovery?.reason).toBe('Corrupt');
  expect(recovery?.message).toMatch(/malformed/);
  expect((await readdir(dir)).sort()).toContain('anomalies.db.corrupt-20261207T064632Z');
});

test('a newer schema is moved aside whole, with the -wal SQLite would have dropped', async () => {
  const raw = new Database(file);
  raw.pragma('journal_mode = WAL');
  raw.exec("CREATE TABLE kept (v TEXT); INSERT INTO kept VALUES ('mine')");
  raw.pragma('user_version = 99');
  const wal = await readFile(`${file}-wal`); // as after a crash: the -wal not yet checkpointed
  raw.close();
  await writeFile(`${file}-wal`, wal);
  const { store, recovery } = openStoreRecovering(file, options, () => at);
  store.close();
  expect(recovery?.reason).toBe('NewerSchema');
  expect(recovery?.movedTo).toBe('anomalies.db.newer-20261207T064632Z');
  const files = await readdir(dir);
  expect(files).toContain('anomalies.db.newer-20261207T064632Z-wal');
  expect(files.filter((f) => f.endsWith('.opening'))).toEqual([]);
  const old = new Database(path.join(dir, recovery!.movedTo), { readonly: true });
  expect(old.pragma('user_version', { simple: true })).toBe(99);
  expect(old.prepare('SELECT v FROM kept').pluck().get()).toBe('mine');
  old.close();
});

test('a store that cannot be opened for another reason is not moved', async () => {
  await mkdir(file); // SQLITE_CANTOPEN: moving it would not help
  expect(() => openStoreRecovering(file, options, () => at)).toThrow(/unable to open/);
  expect(await readdir(dir)).toEqual(['anomalies.db']);
});
