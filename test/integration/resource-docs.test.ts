// The YAML examples of the resource pages (docs/resources/<kind>.md), sent to a real API
// server. The unit tests (test/unit/api-docs.test.ts) check them against the schema; only the
// API server evaluates the CRDs' CEL rules (cross-field rules, durations, paths). Each
// document is created with a server-side dry run: nothing is stored, so a page may show the
// same object twice (once as it is applied, once with the status the operator gives it), and
// the status, which a create ignores, is checked by the unit tests alone.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { resourcesIn } from '../../scripts/api-docs.js';

import { createNamespace, installCrds, kubectl, kubectlRun, repoRoot } from './kube.js';

let namespace: string;

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('resource-docs');
});

afterAll(async () => {
  if (namespace) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test("every YAML example in docs/resources passes the API server's validation, CEL rules included", async () => {
  const dir = path.join(repoRoot, 'docs/resources');
  const results: { example: string; code: number; stderr: string }[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.md')).sort())
    for (const resource of resourcesIn(await readFile(path.join(dir, file), 'utf8'))) {
      const name = (resource.metadata as { name?: string } | undefined)?.name;
      const result = await kubectlRun(
        ['create', '--dry-run=server', '-n', namespace, '-o', 'name', '-f', '-'],
        JSON.stringify(resource),
      );
      results.push({
        example: `${file}: ${String(resource.kind)} ${String(name)}`,
        code: result.code,
        stderr: result.stderr,
      });
    }
  expect(results.length).toBeGreaterThanOrEqual(12);
  expect(results.filter((r) => r.code !== 0 || r.stderr !== '')).toEqual([]);
});
