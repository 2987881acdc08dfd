import {
  example,
  malformedCases,
  malformedDocument,
} from '../../test/fixtures/malformed-resources.js';
import type { AnalysisAgent } from './generated/types.js';
import { InvalidResourceError, ResourceValidator } from './validate.js';

const validator = new ResourceValidator();

test.each(['AnalysisAgent', 'ModelDeployment', 'ExportJob'] as const)(
  'the %s example is valid',
  (kind) => {
    expect(validator.check(example(kind))).toEqual([]);
  },
);

test('defaults are filled in as the API server would, nested ones included', () => {
  const doc = example('AnalysisAgent');
  delete doc.spec.thresholds;
  delete doc.spec.interval;
  const agent = validator.assertValid<AnalysisAgent>(doc, 'agent.yaml');
  expect(agent.spec.interval).toBe('5m');
  expect(agent.spec.thresholds).toEqual({
    score: 0.8,
    storeSeverity: 'low',
    alertSeverity: 'high',
  });
  expect(agent.spec.source.batchSize).toBe(5000);
});

// The CEL cases are the API server's alone (see validate.ts); every other malformed resource
// the server refuses, this validator refuses too, naming the same field.
const schemaCases = malformedCases.filter((c) => !c.cel);

test('the shared table has schema-level cases for this validator', () => {
  expect(schemaCases.length).toBeGreaterThanOrEqual(20);
});

test.each(schemaCases.map((c) => [c.name, c] as const))(
  'refuses %s, naming the field',
  (_name, c) => {
    const doc = malformedDocument(c, 0);
    const issues = validator.check(doc);
    // Kubernetes names a duplicate set entry by its index; JSON Schema names the list.
    const field = c.field.replace(/\[\d+\]$/, c.message === 'Duplicate value' ? '' : '$&');
    expect(issues.map((i) => i.field)).toContain(field);
  },
);

test('a wrong apiVersion or kind is named as such', () => {
  const [issue, ...more] = validator.check({
    ...example('ExportJob'),
    apiVersion: 'edgewarden.io/v1',
  });
  expect(more).toEqual([]);
  expect(issue?.field).toBe('apiVersion');
  expect(issue?.message).toContain('supported values: "edgewarden.io/v1alpha1"');
  expect(validator.check({ ...example('ExportJob'), kind: 'Exporter' })[0]?.field).toBe('kind');
  expect(validator.check('spec: {}')[0]?.message).toContain('expected an object');
});

test('assertValid throws one error listing every problem, with a stable code', () => {
  const doc = example('ModelDeployment');
  doc.spec.version = 'v 2';
  doc.spec.threshold = 2;
  const error = (() => {
    try {
      validator.assertValid(doc, 'model.yaml');
    } catch (e) {
      return e;
    }
  })() as InvalidResourceError;
  expect(error).toBeInstanceOf(InvalidResourceError);
  expect(error.code).toBe('EW_INVALID_RESOURCE');
  expect(error.message).toMatch(
    /^model\.yaml is invalid:\n {2}spec\.version: .*\n {2}spec\.threshold: /,
  );
});
