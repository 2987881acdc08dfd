// A folder a command writes to: made when missing, and when it cannot be written, a message
// that names the folder, why, what goes there, and the setting or mount that gives another.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  ensureWritableFolder,
  unwritableFolderMessage,
  unwritableReason,
  UnwritableFolderError,
} from './writableFolder.js';

const use = {
  what: "the agent's SQLite anomaly store (anomalies.db)",
  setting: 'EDGEWARDEN_DATA_DIR',
};

test('the message names the folder, why, what goes there, and both ways out', () => {
  expect(unwritableFolderMessage('/var/lib/edgewarden', 'EROFS', use)).toBe(
    "cannot write /var/lib/edgewarden (the file system is read-only), the folder for the agent's " +
      'SQLite anomaly store (anomalies.db). Point EDGEWARDEN_DATA_DIR at a writable folder, or mount ' +
      'a writable volume at /var/lib/edgewarden (in Kubernetes an emptyDir or a ' +
      'persistentVolumeClaim; with docker run, -v or --tmpfs)',
  );
});

test.each([
  ['EROFS', 'the file system is read-only'],
  ['EACCES', 'permission denied to this user'],
  ['EPERM', 'permission denied to this user'],
  ['ENOENT', 'a folder on its path is missing and cannot be made'],
  ['ENOTDIR', 'a file stands where a folder should be'],
  ['ENOSPC', 'no space left'],
  ['EIO', 'EIO'],
  [undefined, 'unknown error'],
])('%s reads as "%s"', (code, words) => {
  expect(unwritableReason(code)).toBe(words);
});

describe('ensureWritableFolder', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-writable-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test('makes a missing folder and its parents', async () => {
    const folder = path.join(dir, 'a', 'b', 'c');
    await ensureWritableFolder(folder, use);
    expect((await stat(folder)).isDirectory()).toBe(true);
    await ensureWritableFolder(folder, use); // and again: it is there
  });

  test('a file where the folder should be is not a folder', async () => {
    await writeFile(path.join(dir, 'just-a-file'), '');
    await expect(ensureWritableFolder(path.join(dir, 'just-a-file'), use)).rejects.toMatchObject({
      errorCode: 'ENOTDIR',
    });
  });

  test('a folder that cannot be made is an UnwritableFolderError that says so', async () => {
    await writeFile(path.join(dir, 'a-file'), '');
    const folder = path.join(dir, 'a-file', 'store');
    const error = await ensureWritableFolder(folder, use).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnwritableFolderError);
    expect(error).toMatchObject({ folder, errorCode: 'ENOTDIR', code: 'EW_UNWRITABLE_FOLDER' });
    expect((error as Error).message).toBe(unwritableFolderMessage(folder, 'ENOTDIR', use));
  });
});
