import { example } from '../../test/fixtures/malformed-resources.js';
import { withSchemaDefaults } from './defaults.js';
import { openApiSchemas } from './generated/schemas.js';
import { forAjv, kindNames, makeAjv } from './validate.js';
import type { AnalysisAgentSpec } from './generated/types.js';

const minimalSpec = (): AnalysisAgentSpec => ({ agent: 'auth', source: {} }) as AnalysisAgentSpec;

test('a spec gets the schema defaults, nested objects with a declared default included', () => {
  const spec = withSchemaDefaults('AnalysisAgent', minimalSpec());
  expect(spec.interval).toBe('5m');
  expect(spec.paused).toBe(false);
  expect(spec.source).toMatchObject({
    preset: 'log_entries',
    sslMode: 'verify-full',
    batchSize: 5000,
  });
  expect(spec.thresholds).toEqual({ score: 0.8, storeSeverity: 'low', alertSeverity: 'high' });
  expect(spec.storage).toMatchObject({ type: 'emptyDir', size: '1Gi', retention: '720h' });
  // No default of its own: absent stays absent; present gets its fields' defaults.
  expect(spec.notifications).toBeUndefined();
  expect(
    withSchemaDefaults('AnalysisAgent', { ...minimalSpec(), notifications: {} }).notifications,
  ).toEqual({ cooldown: '15m' });
});

test('values given are kept, and the input is left as it was', () => {
  const input = { ...minimalSpec(), interval: '1m', thresholds: { score: 0.5 } };
  const before = structuredClone(input);
  const spec = withSchemaDefaults('AnalysisAgent', input);
  expect(spec.interval).toBe('1m');
  expect(spec.thresholds).toEqual({ score: 0.5, storeSeverity: 'low', alertSeverity: 'high' });
  expect(input).toEqual(before);
  expect(spec).not.toBe(input);
});

test('a whole resource gets the defaults of its spec', () => {
  const doc = example('AnalysisAgent');
  delete doc.spec.interval;
  delete doc.spec.thresholds;
  const filled = withSchemaDefaults('AnalysisAgent', doc);
  expect(filled.kind).toBe('AnalysisAgent');
  expect(filled.spec.interval).toBe('5m');
  expect(filled.spec.thresholds?.score).toBe(0.8);
  expect(doc.spec.interval).toBeUndefined();
});

test('an invalid spec is not refused: its valid parts get their defaults', () => {
  const spec = withSchemaDefaults('AnalysisAgent', {
    ...minimalSpec(),
    interval: 42 as unknown as string,
  });
  expect(spec.interval).toBe(42);
  expect(spec.source.batchSize).toBe(5000);
});

test("the walk fills what ajv's useDefaults fills, on every kind's example and its bare minimum", () => {
  const ajv = makeAjv();
  for (const kind of kindNames) {
    const full = example(kind) as { spec: Record<string, unknown> };
    const required = new Set(openApiSchemas[kind].properties!.spec!.required ?? []);
    const bare = structuredClone(full);
    for (const key of Object.keys(bare.spec)) if (!required.has(key)) delete bare.spec[key];
    for (const doc of [full, bare]) {
      const byAjv = structuredClone(doc);
      ajv.compile(forAjv(openApiSchemas[kind]))(byAjv);
      expect({ kind, filled: withSchemaDefaults(kind, doc) }).toEqual({ kind, filled: byAjv });
    }
    // The bare minimum has defaults to fill: the comparison above compares something.
    expect(withSchemaDefaults(kind, bare)).not.toEqual(bare);
  }
});
