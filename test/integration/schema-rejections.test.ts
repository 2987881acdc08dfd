// Every malformed resource in the shared table is refused by the real API server, with a
// message naming the field, and nothing of it is stored.
import { stringify } from 'yaml';

import { malformedCases, malformedDocument } from '../fixtures/malformed-resources.js';
import { createNamespace, installCrds, kubectl, kubectlRun } from './kube.js';

let namespace: string;

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('rejections');
});

afterAll(async () => {
  if (namespace) await kubectl(['delete', 'namespace', namespace, '--wait=false']);
});

test('the table holds at least 25 malformed resources, of every kind', () => {
  expect(malformedCases.length).toBeGreaterThanOrEqual(25);
  expect(new Set(malformedCases.map((c) => c.kind)).size).toBe(3);
});

test.each(malformedCases.map((c, i) => [c.name, c, i] as const))(
  'rejects %s',
  async (_name, c, i) => {
    const doc = malformedDocument(c, i);
    const result = await kubectlRun(['apply', '-n', namespace, '-f', '-'], stringify(doc));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(c.field);
    expect(result.stderr).toContain(c.message);
    // Refused means not stored, not stored with the bad part dropped.
    const after = await kubectlRun([
      'get',
      '-n',
      namespace,
      c.kind.toLowerCase(),
      doc.metadata.name,
    ]);
    expect(after.stderr).toContain('NotFound');
  },
);
