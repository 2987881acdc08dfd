// The generated CRDs as a reader of `kubectl explain` and a maintainer meet them: every field
// documented, every CEL rule with a message, and a drift check that really fails on drift.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

import type { OpenApiSchema } from '../../api/src/openapi.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

async function crds(): Promise<{ file: string; schema: OpenApiSchema }[]> {
  const files = (await readdir(path.join(root, 'crds'))).filter((f) => f.endsWith('.yaml'));
  return Promise.all(
    files.map(async (file) => {
      const crd = parse(await readFile(path.join(root, 'crds', file), 'utf8')) as {
        spec: { versions: { schema: { openAPIV3Schema: OpenApiSchema } }[] };
      };
      return { file, schema: crd.spec.versions[0]!.schema.openAPIV3Schema };
    }),
  );
}

/** Every schema node below `schema`, with its path. */
function* walk(schema: OpenApiSchema, at: string): Generator<[string, OpenApiSchema]> {
  yield [at, schema];
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    yield* walk(child, `${at}.${key}`);
  if (schema.items) yield* walk(schema.items, `${at}[]`);
  if (typeof schema.additionalProperties === 'object')
    yield* walk(schema.additionalProperties, `${at}{}`);
}

test('there are three CRDs', async () => {
  expect((await crds()).map((c) => c.file).sort()).toEqual([
    'analysisagents.yaml',
    'exportjobs.yaml',
    'modeldeployments.yaml',
  ]);
});

test('every field has a description, so kubectl explain is the reference', async () => {
  const undocumented: string[] = [];
  for (const { file, schema } of await crds()) {
    for (const [at, node] of walk(schema, file)) {
      const isField = !at.endsWith('[]') && !at.endsWith('{}');
      // metadata's schema is the API server's own, and it forbids adding to it.
      if (isField && !node.description && !at.endsWith('.metadata')) undocumented.push(at);
    }
  }
  expect(undocumented).toEqual([]);
});

test('every CEL rule has a message, and every string or list has a bound', async () => {
  const problems: string[] = [];
  for (const { file, schema } of await crds()) {
    for (const [at, node] of walk(schema, file)) {
      for (const rule of node['x-kubernetes-validations'] ?? [])
        if (!rule.message) problems.push(`${at}: rule without message`);
      const isStatusOrMeta =
        at.includes('.status') || at.endsWith('.apiVersion') || at.endsWith('.kind');
      if (!isStatusOrMeta && node.type === 'string' && node.maxLength === undefined && !node.format)
        problems.push(`${at}: unbounded string`);
      if (node.type === 'array' && node.maxItems === undefined)
        problems.push(`${at}: unbounded list`);
    }
  }
  expect(problems).toEqual([]);
});

test('the drift check fails when a generated file no longer matches api/schema', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-drift-'));
  try {
    for (const item of [
      'api/schema',
      'api/src/generated',
      'crds',
      'charts/edgewarden/templates/crds',
      '.prettierrc.json',
    ])
      await cp(path.join(root, item), path.join(dir, item), { recursive: true });
    const generator = path.join(root, 'dist/scripts/gen-api.js');
    const inSync = await run('node', [generator, '--check', '--root', dir]);
    expect(inSync.stdout).toContain('API in sync');
    const crd = path.join(dir, 'crds/exportjobs.yaml');
    await writeFile(crd, (await readFile(crd, 'utf8')).replace('maximum: 50000', 'maximum: 60000'));
    const drifted = await run('node', [generator, '--check', '--root', dir]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(drifted?.code).toBe(1);
    expect(drifted?.stderr).toContain('crds/exportjobs.yaml');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  // Two runs of the generator, each a Node process formatting the CRDs with Prettier: seconds
  // on a loaded two-core machine, more than jest's default 5 s.
}, 60_000);
