// Where the demo keeps its files: the folder asked for (writable, or a clear refusal), else the
// default folder under the home folder, else memory, with the reason.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { chooseDemoStorage, defaultDemoFolder } from './demoStorage.js';

test.each([
  ['XDG_DATA_HOME, when absolute', { XDG_DATA_HOME: '/data' }, '/home/me', '/data/edgewarden/demo'],
  [
    'the home folder, when XDG_DATA_HOME is relative (the XDG specification ignores it)',
    { XDG_DATA_HOME: 'data' },
    '/home/me',
    '/home/me/.local/share/edgewarden/demo',
  ],
  ['the home folder', {}, '/home/nonroot', '/home/nonroot/.local/share/edgewarden/demo'],
  ['HOME=/ (a user with no home of its own)', {}, '/', '/.local/share/edgewarden/demo'],
  ['none, with no home folder known', {}, undefined, undefined],
  ['none, with an empty HOME', {}, '', undefined],
])('the default folder: %s', (_what, env, home, folder) => {
  expect(defaultDemoFolder(env, home)).toBe(folder);
});

describe('chooseDemoStorage', () => {
  let dir: string;
  let blocked: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-demo-storage-'));
    // A path under a file can never be made, even by root: the unwritable folder of these tests.
    await writeFile(path.join(dir, 'a-file'), '');
    blocked = path.join(dir, 'a-file', 'demo');
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test('the folder asked for, made if missing', async () => {
    const folder = path.join(dir, 'asked');
    expect(await chooseDemoStorage(folder, blocked)).toEqual({ kind: 'folder', dir: folder });
    expect(await readdir(dir)).toContain('asked');
  });

  test('a folder asked for that cannot be written is refused, naming it and --data-dir', async () => {
    await expect(chooseDemoStorage(blocked, undefined)).rejects.toThrow(
      `cannot write ${blocked} (a file stands where a folder should be), the folder for the demo's log (routers.log) and SQLite store (anomalies.db). Point --data-dir at a writable folder, or mount a writable volume at ${blocked}`,
    );
  });

  test('the default folder when it can be written', async () => {
    const folder = path.join(dir, 'default');
    expect(await chooseDemoStorage(undefined, folder)).toEqual({ kind: 'folder', dir: folder });
  });

  test('memory when the default folder cannot be written, or there is none; with why', async () => {
    expect(await chooseDemoStorage(undefined, blocked)).toEqual({
      kind: 'memory',
      why: `the default folder ${blocked} cannot be written: a file stands where a folder should be`,
    });
    expect(await chooseDemoStorage(undefined, undefined)).toEqual({
      kind: 'memory',
      why: 'no home folder is known (HOME is unset)',
    });
  });
});
