// Secret variables from files: read once, a missing file leaves the variable unset, the file
// wins over a plain variable, and errors name the setting and the path, never the content.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { SecretFileError, withSecretFiles } from './secretFiles.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-secret-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('each secret variable with a _FILE is read from it, final newline dropped; others untouched', async () => {
  await writeFile(path.join(dir, 'url'), 'postgresql://ro:s3cret@db:5432/logs\n');
  await writeFile(path.join(dir, 'password'), 'p@ss word');
  const env = await withSecretFiles({
    EDGEWARDEN_PG_URL_FILE: path.join(dir, 'url'),
    PGPASSWORD_FILE: path.join(dir, 'password'),
    PGPASSWORD: 'from-the-environment',
    EDGEWARDEN_PG_CA_FILE: '/etc/edgewarden/pg-ca/ca.crt',
    POD_NAME: 'dns-agent-0',
  });
  expect(env).toEqual({
    EDGEWARDEN_PG_URL_FILE: path.join(dir, 'url'),
    EDGEWARDEN_PG_URL: 'postgresql://ro:s3cret@db:5432/logs',
    PGPASSWORD_FILE: path.join(dir, 'password'),
    PGPASSWORD: 'p@ss word',
    // A path setting that happens to end in _FILE is not a secret variable: left as it is.
    EDGEWARDEN_PG_CA_FILE: '/etc/edgewarden/pg-ca/ca.crt',
    POD_NAME: 'dns-agent-0',
  });
});

test('a missing file is a key the Secret lacks: the variable is unset', async () => {
  const env = await withSecretFiles({
    PGHOST_FILE: path.join(dir, 'no-such-key'),
    PGHOST: 'stale',
  });
  expect(env.PGHOST).toBeUndefined();
});

test('an oversized file or one that cannot be read is an error naming the setting and path', async () => {
  const big = path.join(dir, 'big');
  await writeFile(big, 'x'.repeat(64 * 1024 + 1));
  await expect(withSecretFiles({ EDGEWARDEN_REDIS_URL_FILE: big })).rejects.toThrow(
    `EDGEWARDEN_REDIS_URL_FILE: ${big} is over 65536 bytes`,
  );
  const folder = await withSecretFiles({ PGPASSWORD_FILE: dir }).catch((e: unknown) => e);
  expect(folder).toBeInstanceOf(SecretFileError);
  expect(String(folder)).toBe(`Error: PGPASSWORD_FILE: cannot read ${dir} (EISDIR)`);
});
