// Reads the secret variables a pod is given as files (`<VARIABLE>_FILE`, contract/secretFiles.ts)
// into the environment the agent and the exporter read, once, at their start. A file that does
// not exist is a key its Secret lacks (the operator mounts whole Secrets; a Secret's keys are
// optional where the variable was): the variable stays unset, as an optional key left it. The
// value is never logged; an error names the variable and the path, not the content.
import { readFile } from 'node:fs/promises';

import { FILE_SUFFIX, secretVariables } from '../contract/secretFiles.js';

type Env = Readonly<Record<string, string | undefined>>;

/** A secret's value is a URL, a password or a key: far below this. */
const MAX_SECRET_BYTES = 64 * 1024;

export class SecretFileError extends Error {}

/** `env` with each secret variable whose `_FILE` is set read from that file (the file wins). */
export async function withSecretFiles(env: Env): Promise<Env> {
  const resolved: Record<string, string | undefined> = { ...env };
  for (const variable of secretVariables) {
    const file = env[`${variable}${FILE_SUFFIX}`];
    if (!file) continue;
    const value = await readSecret(`${variable}${FILE_SUFFIX}`, file);
    if (value === undefined) delete resolved[variable];
    else resolved[variable] = value;
  }
  return resolved;
}

async function readSecret(setting: string, file: string): Promise<string | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new SecretFileError(`${setting}: cannot read ${file} (${code ?? 'error'})`);
  }
  if (bytes.length > MAX_SECRET_BYTES)
    throw new SecretFileError(`${setting}: ${file} is over ${MAX_SECRET_BYTES} bytes`);
  // `kubectl create secret --from-file` keeps a file's final newline; a value never has one.
  return bytes.toString('utf8').replace(/\r?\n$/, '');
}
