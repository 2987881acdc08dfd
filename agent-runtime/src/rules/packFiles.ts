// Reading rule packs from disk: the built-in packs shipped with the program (agent-runtime/rules/),
// a user's files, and the folders where an agent pod's rule ConfigMaps are mounted. Thin I/O:
// compileRules.ts does the checking.
import { readdir, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

import { compileRules, usePackSchema, type PackSource } from './compileRules.js';
import { RuleError, type CompiledRule } from './ruleTypes.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// src/rules -> the package root, from source (../../..) and from dist/ (../../../..)
const root = path.resolve(here, import.meta.url.includes('/dist/') ? '../../../..' : '../../..');

export const BUILT_IN_PACKS = path.join(root, 'agent-runtime/rules');
const PACK_SCHEMA = path.join(root, 'api/schema/rules/rulepack.yaml');
const MAX_PACK_BYTES = 1024 * 1024;

let schemaLoaded = false;

/** Compiles packs after loading the pack schema once (the one the docs and the tests use). */
export function compilePacks(sources: readonly PackSource[]): CompiledRule[] {
  if (!schemaLoaded) {
    usePackSchema(parse(readFileSync(PACK_SCHEMA, 'utf8')) as object);
    schemaLoaded = true;
  }
  return compileRules(sources);
}

/** The pack files of a folder: *.yaml and *.yml, by name (a ConfigMap's `..data` links skipped). */
export async function packFilesIn(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => !n.startsWith('.') && /\.ya?ml$/.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

export async function readPack(file: string): Promise<PackSource> {
  return parsePack(file, await readFile(file, 'utf8'));
}

/** A pack's text as YAML; `origin` names it in messages. */
export function parsePack(origin: string, text: string): PackSource {
  if (Buffer.byteLength(text) > MAX_PACK_BYTES)
    throw new RuleError(origin, '(file)', `larger than ${MAX_PACK_BYTES} bytes`);
  try {
    return { origin, document: parse(text, { maxAliasCount: 100 }) };
  } catch (error) {
    throw new RuleError(origin, '(yaml)', (error as Error).message.split('\n')[0]!);
  }
}

/** Every file read and parsed; the first that cannot be is refused with its name. */
export async function readPacks(files: readonly string[]): Promise<PackSource[]> {
  return Promise.all(files.map(readPack));
}

/** The built-in packs, compiled. */
export async function builtInRules(): Promise<CompiledRule[]> {
  return compilePacks(await readPacks(await packFilesIn(BUILT_IN_PACKS)));
}
