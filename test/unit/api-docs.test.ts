// The resource pages (docs/resources/<kind>.md) as a reader meets them: their field and
// printer-column tables in step with the CRDs (scripts/api-docs.ts renders them), every field
// of spec and status with a row and an example, every YAML example one the schema accepts
// (test/integration/resource-docs.test.ts sends the same examples to a real API server, for
// the CEL rules), every condition type and reason the code can set explained on its page,
// and the pages linked from docs/api.md and the README. And a drift check that really fails.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { ResourceValidator } from '../../api/src/validate.js';
import {
  API_VERSION,
  docFileOf,
  fieldRows,
  resourcesIn,
  shortExample,
  typeOf,
  validationOf,
  yamlBlocks,
} from '../../scripts/api-docs.js';
import { sectionsIn, withSections } from '../../scripts/api-docs-sections.js';
import { apiDocsDrift, loadCrds } from '../../scripts/gen-api-docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);
const read = (file: string): Promise<string> => readFile(path.join(root, file), 'utf8');

test('the generated sections of docs/resources/ are what the CRDs render', async () => {
  const problems = await apiDocsDrift(root);
  if (problems.length > 0)
    throw new Error(
      `docs/resources/ is out of step with crds/; run npm run generate:api-docs:\n  ${problems.join('\n  ')}`,
    );
}, 30_000); // Prettier formats each page, tables and all: seconds on a busy machine

test('one page per kind, each with a row for every field of spec and status and every printer column', async () => {
  const crds = await loadCrds(root);
  expect(crds.map(({ crd }) => docFileOf(crd)).sort()).toEqual([
    'docs/resources/analysisagent.md',
    'docs/resources/exportjob.md',
    'docs/resources/modeldeployment.md',
  ]);
  for (const { crd } of crds) {
    const sections = sectionsIn(await read(docFileOf(crd)));
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    for (const top of ['spec', 'status'] as const) {
      const rowsOnPage = [...sections.get(top)!.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
      expect(rowsOnPage).toEqual(fieldRows(schema.properties![top]!, top).map((r) => r.path));
      // Each row has an example (the fifth column).
      for (const line of sections
        .get(top)!
        .split('\n')
        .filter((l) => l.startsWith('| `')))
        expect({ line, example: line.split(/(?<!\\)\|/)[5]!.trim() }).not.toMatchObject({
          example: '',
        });
    }
    const columns = [...sections.get('columns')!.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
    expect(columns).toEqual(
      crd.spec.versions[0]!.additionalPrinterColumns!.map((c) => c.name.toUpperCase()),
    );
  }
});

test('every YAML example on the pages is a resource the schema accepts', async () => {
  const validator = new ResourceValidator();
  const files = (await readdir(path.join(root, 'docs/resources'))).filter((f) => f.endsWith('.md'));
  for (const file of files) {
    const text = await read(`docs/resources/${file}`);
    expect(yamlBlocks(text).length).toBeGreaterThan(0);
    const resources = resourcesIn(text);
    const kind = file.replace(/\.md$/, '');
    // At least two of the page's own kind (a small one and a complete one).
    expect(
      resources.filter((r) => String(r.kind).toLowerCase() === kind).length,
    ).toBeGreaterThanOrEqual(2);
    for (const resource of resources) {
      const what = `${file}: ${String(resource.kind)} ${String((resource.metadata as { name?: string }).name)}`;
      if (resource.apiVersion !== API_VERSION) {
        // Only the core objects an example needs beside ours.
        expect({ what, kind: resource.kind }).toEqual({ what, kind: 'PersistentVolumeClaim' });
        continue;
      }
      expect({ what, issues: validator.check(structuredClone(resource)) }).toEqual({
        what,
        issues: [],
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Conditions and reasons: every CamelCase string the status code can set is on the page.

/** The non-comment lines of a source file. */
async function code(file: string): Promise<string> {
  return (await read(file))
    .split('\n')
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
    .join('\n');
}

/** Every quoted CamelCase literal of the files ('Ready', 'SecretMissing', ...). */
async function literals(files: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  for (const file of files)
    for (const m of (await code(file)).matchAll(/'([A-Z][A-Za-z0-9]*)'/g)) out.add(m[1]!);
  return out;
}

/** Why an agent pod's model loader refuses a model (ModelFailureReason). */
async function modelFailureReasons(): Promise<Set<string>> {
  const manifest = await code('agent-runtime/src/model/manifest.ts');
  const union = /type ModelFailureReason =([^;]+);/.exec(manifest)![1]!;
  return new Set([...union.matchAll(/'([A-Z]\w+)'/g)].map((m) => m[1]!));
}

/** Every reason an agent pod refuses a model offer with: the loader's and PUT /model's own. */
async function modelRefusals(): Promise<Set<string>> {
  const out = await modelFailureReasons();
  const runner = await code('agent-runtime/src/pod/modelDelivery.ts');
  for (const m of runner.matchAll(/refused\(\d+,\s*'([A-Z]\w+)'/g)) out.add(m[1]!);
  for (const m of runner.matchAll(/reason: '([A-Z]\w+)'/g)) out.add(m[1]!);
  return out;
}

/** Reasons the exporter fails with (ExportFailure's first argument), and why it skips a record. */
async function exportReasons(): Promise<Set<string>> {
  const out = new Set<string>();
  const dir = 'agent-runtime/src/exporter';
  for (const f of (await readdir(path.join(root, dir))).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  )) {
    const text = await code(`${dir}/${f}`);
    for (const m of text.matchAll(/(?:new ExportFailure|badSpec)\(\s*([^,]+),/g))
      for (const r of m[1]!.matchAll(/'([A-Z]\w+)'/g)) out.add(r[1]!);
    for (const m of text.matchAll(/ok: false, reason: '([A-Z]\w+)'/g)) out.add(m[1]!);
  }
  return out;
}

/** Literals of these files that are no condition type or reason: kinds, verbs, event types. */
const NOT_REASONS = new Set([
  // Kubernetes kinds and HTTP verbs the controllers use.
  'AnalysisAgent',
  'ModelDeployment',
  'ExportJob',
  'ConfigMap',
  'Secret',
  'Service',
  'ServiceAccount',
  'StatefulSet',
  'Pod',
  'Job',
  'PersistentVolumeClaim',
  'GET',
  'PUT',
  'DELETE',
  // Event types, shown as Normal and Warning in the Events tables.
  'Normal',
  'Warning',
  // An error class of the ModelDeployment controller.
  'OfferRefused',
  // The error class of a child's name taken by another's object (its reason is ChildConflict).
  'ChildConflictError',
]);
/** Literals of a file that are something else there: a pod's phase, a Job's condition type. */
const ELSEWHERE: Record<string, string[]> = {
  'operator/src/controllers/analysisAgent/reconcile.ts': ['Running'], // a pod's phase
  'operator/src/domain/exportJob/status.ts': ['Complete'], // the Job's condition type
  'operator/src/controllers/exportJob/reconcile.ts': ['Complete'],
};

async function documented(page: string, files: string[], extra: Set<string> = new Set()) {
  const text = await read(page);
  const expected = new Set(extra);
  for (const file of files) {
    const skip = new Set(ELSEWHERE[file] ?? []);
    for (const l of await literals([file]))
      if (!NOT_REASONS.has(l) && !skip.has(l)) expected.add(l);
  }
  const missing = [...expected].filter((r) => !text.includes(`\`${r}\``)).sort();
  return { page, missing, count: expected.size };
}

test('every condition type and reason an AnalysisAgent can show is explained', async () => {
  const result = await documented(
    'docs/resources/analysisagent.md',
    [
      'operator/src/domain/analysisAgent/status.ts',
      'operator/src/domain/analysisAgent/conditions.ts',
      'operator/src/controllers/analysisAgent/reconcile.ts',
      'operator/src/runtime/ownership.ts',
      // The Events of anomalies and of a token Secret in the way (issue 21).
      'operator/src/domain/analysisAgent/anomalyEvents.ts',
      'operator/src/controllers/analysisAgent/tokenSecrets.ts',
    ],
    // ModelLoaded=False carries the loader's reason of a pod that serves no model.
    await modelFailureReasons(),
  );
  expect(result.count).toBeGreaterThan(20);
  expect(result).toMatchObject({ missing: [] });
});

test('every condition type and reason a ModelDeployment can show is explained', async () => {
  const result = await documented(
    'docs/resources/modeldeployment.md',
    [
      'operator/src/domain/modelDeployment/rollout.ts',
      'operator/src/domain/modelDeployment/plan.ts',
      'operator/src/domain/modelDeployment/progress.ts',
      'operator/src/domain/modelDeployment/status.ts',
      'operator/src/domain/modelDeployment/settings.ts',
      'operator/src/controllers/modelDeployment/reconcile.ts',
      'operator/src/controllers/modelDeployment/observe.ts',
      'operator/src/controllers/modelDeployment/ask.ts',
      'operator/src/controllers/modelDeployment/modelSource.ts',
      'operator/src/controllers/modelDeployment/delivery.ts',
    ],
    await modelRefusals(),
  );
  expect(result.count).toBeGreaterThan(30);
  expect(result).toMatchObject({ missing: [] });
});

test('every condition type and reason an ExportJob can show is explained', async () => {
  const result = await documented(
    'docs/resources/exportjob.md',
    [
      'operator/src/domain/exportJob/status.ts',
      'operator/src/controllers/exportJob/reconcile.ts',
      'operator/src/runtime/ownership.ts',
    ],
    new Set([
      ...(await exportReasons()),
      // The Job controller's own reasons, shown when the exporter left none.
      'BackoffLimitExceeded',
      'DeadlineExceeded',
      'PodFailurePolicy',
    ]),
  );
  expect(result.count).toBeGreaterThan(30);
  expect(result).toMatchObject({ missing: [] });
});

test('docs/api.md and the README link every page', async () => {
  const api = await read('docs/api.md');
  const readme = await read('README.md');
  for (const page of ['analysisagent', 'modeldeployment', 'exportjob']) {
    expect(api).toContain(`](resources/${page}.md)`);
    expect(readme).toContain(`](docs/resources/${page}.md)`);
  }
});

// ---------------------------------------------------------------------------------------------
// The renderer's pieces.

test('a CEL rule with a fieldPath is shown on the field it names, the others on their object', () => {
  const rows = fieldRows(
    {
      type: 'object',
      required: ['name'],
      'x-kubernetes-validations': [
        { rule: 'has(self.a)', message: 'a is needed', fieldPath: '.a' },
        { rule: 'self == oldSelf', message: 'immutable' },
      ],
      properties: {
        name: { type: 'string', maxLength: 63 },
        a: { type: 'string', enum: ['x', 'yy'], maxLength: 2 },
        list: {
          type: 'array',
          maxItems: 4,
          'x-kubernetes-list-type': 'set',
          items: { type: 'string', pattern: '^[a-z]+$' },
        },
      },
    },
    'spec',
  );
  expect(rows.map((r) => [r.path, validationOf(r)])).toEqual([
    ['spec', ['rule: immutable']],
    ['spec.name', ['required', 'at most 63 characters']],
    // An enum's maxLength is the generator's, not a rule to show.
    ['spec.a', ['one of `x`, `yy`', 'rule: a is needed']],
    ['spec.list', ['at most 4 items', 'no duplicates (a set)', 'each item: pattern `^[a-z]+$`']],
  ]);
});

test('types read as kubectl explain has them', () => {
  expect(typeOf({ type: 'array', items: { type: 'object' } })).toBe('[]object');
  expect(typeOf({ type: 'object', additionalProperties: { type: 'string' } })).toBe(
    'map[string]string',
  );
  expect(typeOf({ 'x-kubernetes-int-or-string': true })).toBe('int-or-string');
  expect(typeOf({ type: 'integer', format: 'int64' })).toBe('integer (int64)');
});

test('examples fit a cell: long objects keep their first entries, long text its beginning', () => {
  expect(shortExample({ cpu: '50m', memory: '128Mi' })).toBe('{cpu: 50m, memory: 128Mi}');
  expect(shortExample('True')).toBe('"True"');
  expect(shortExample('a'.repeat(64))).toBe('a'.repeat(64)); // a SHA-256 stays whole
  expect(shortExample('word '.repeat(30))).toMatch(/^"word word .*…$/);
  const long = shortExample({
    first: 'a'.repeat(20),
    second: { nested: true },
    third: 'b'.repeat(30),
  });
  expect(long.length).toBeLessThanOrEqual(60);
  expect(long).toBe(`{first: ${'a'.repeat(20)}, second: {…}, …}`);
});

test('a page without its markers is an error naming them', () => {
  expect(() => withSections('# Page\n', new Map([['spec', 'x']]), 'crds/x.yaml')).toThrow(
    '<!-- BEGIN GENERATED spec -->',
  );
  const page = '# P\n\n<!-- BEGIN GENERATED spec -->\nold\n<!-- END GENERATED spec -->\n\nafter\n';
  const out = withSections(page, new Map([['spec', 'new']]), 'crds/x.yaml');
  expect(sectionsIn(out).get('spec')).toBe('\nnew\n\n');
  expect(out).toMatch(/\n\nafter\n$/);
});

test('the drift check fails when a CRD changes or a field loses its example', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-api-docs-'));
  try {
    for (const item of ['crds', 'docs/resources', '.prettierrc.json'])
      await cp(path.join(root, item), path.join(dir, item), { recursive: true });
    const generator = path.join(root, 'dist/scripts/gen-api-docs.js');
    const check = () =>
      run('node', [generator, '--check', '--root', dir]).then(
        (r) => ({ code: 0, out: r.stdout }),
        (error: { code: number; stderr: string }) => ({ code: error.code, out: error.stderr }),
      );
    expect(await check()).toMatchObject({ code: 0 });

    const crd = path.join(dir, 'crds/exportjobs.yaml');
    const crdText = await readFile(crd, 'utf8');
    await writeFile(crd, crdText.replace('maximum: 50000', 'maximum: 60000'));
    const changed = await check();
    expect(changed.code).toBe(1);
    expect(changed.out).toContain(
      'docs/resources/exportjob.md: the generated section "spec" differs',
    );
    await writeFile(crd, crdText);

    const page = path.join(dir, 'docs/resources/exportjob.md');
    await writeFile(
      page,
      (await readFile(page, 'utf8')).replace(/^ {2}activeDeadlineSeconds: \d+\n/m, ''),
    );
    const unexampled = await check();
    expect(unexampled.code).toBe(1);
    expect(unexampled.out).toContain('spec.activeDeadlineSeconds has no example');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 60_000);
