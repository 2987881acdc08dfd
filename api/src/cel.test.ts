import {
  example,
  malformedCases,
  malformedDocument,
} from '../../test/fixtures/malformed-resources.js';
import { CelValidator, quantityValue } from './cel.js';
import { ResourceValidator } from './validate.js';

const schema = new ResourceValidator();
const cel = new CelValidator();

/** Schema check (which fills in the defaults, as the server does before CEL), then CEL. */
function celIssues(doc: { kind: string }) {
  expect(schema.check(doc)).toEqual([]);
  return cel.check(doc.kind as 'AnalysisAgent', doc);
}

test.each(['AnalysisAgent', 'ModelDeployment', 'ExportJob'] as const)(
  'the %s example passes every rule',
  (kind) => {
    expect(celIssues(example(kind) as { kind: string }).issues).toEqual([]);
  },
);

// The same table the real API server is given (test/integration/schema-rejections.test.ts):
// every case only a CEL rule catches is refused here too, and the line printed for it names
// the field and holds the message, as the server's answer does (a rule on the root, like the
// name's length, names the field in its message only, there and here).
const celCases = malformedCases.filter((c) => c.cel);

test.each(celCases.map((c, i) => [c.name, c, i] as const))(
  'refuses %s, naming the field',
  (_name, c, i) => {
    const lines = celIssues(malformedDocument(c, i) as unknown as { kind: string }).issues.map(
      (i) => `${i.field}: ${i.message}`,
    );
    expect(lines).toContainEqual(expect.stringContaining(c.message));
    expect(lines.find((l) => l.includes(c.message))).toContain(c.field);
  },
);

test("the review's four examples are refused", () => {
  const md = example('ModelDeployment');
  md.spec.source = {
    configMap: { name: 'm', key: 'model.onnx' },
    secret: { name: 'm', key: 'model.onnx' },
    persistentVolumeClaim: { claimName: 'models', path: 'a/../../etc' },
  };
  const agent = example('AnalysisAgent');
  agent.spec.interval = '1ms';
  agent.spec.cache = { url: 'redis://redis:6379', secretRef: { name: 'redis' } };
  expect(celIssues(md).issues.map((i) => i.field)).toEqual([
    'spec.source',
    'spec.source.persistentVolumeClaim.path',
  ]);
  expect(celIssues(agent).issues.map((i) => i.field)).toEqual(['spec.interval', 'spec.cache']);
});

test('a transition rule is reported as not checked, never as passed', () => {
  const { issues, notChecked } = celIssues(example('ExportJob'));
  expect(issues).toEqual([]);
  expect(notChecked).toEqual([expect.objectContaining({ field: 'spec', rule: 'self == oldSelf' })]);
});

test('a rule using a function the library lacks is reported as not checked', () => {
  const outcome = cel.checkAgainst(
    {
      type: 'object',
      properties: {
        x: {
          type: 'string',
          'x-kubernetes-validations': [{ rule: "self.isSorted('x')", message: 'sorted' }],
        },
      },
    },
    { x: 'a' },
  );
  expect(outcome.issues).toEqual([]);
  expect(outcome.notChecked).toEqual([
    { field: 'x', rule: "self.isSorted('x')", why: expect.stringContaining('isSorted') as string },
  ]);
});

test('quantities compare as Kubernetes reads them', () => {
  expect(quantityValue('384Mi')).toBe(384 * 2 ** 20);
  expect(quantityValue('500m')).toBe(0.5);
  expect(quantityValue('1e3')).toBe(1000);
  expect(quantityValue('1.5G')).toBe(1.5e9);
  expect(() => quantityValue('lots')).toThrow('quantities must match');
  const agent = example('AnalysisAgent');
  agent.spec.resources = {
    requests: { cpu: '250m', memory: '1Gi' },
    limits: { cpu: 1, memory: '2Gi' },
  };
  expect(celIssues(agent).issues).toEqual([]);
});
