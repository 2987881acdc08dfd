// `edgewarden validate` evaluates the CRDs' CEL rules (issue 20, Lows): the review's four
// resources, each of the right shape and refused by the API server, are refused here too.
import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

import { example } from '../../test/fixtures/malformed-resources.js';
import { main } from './main.js';

let out: string[];
let err: string[];
let dir: string;

beforeEach(async () => {
  out = [];
  err = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-validate-'));
});

afterEach(async () => {
  jest.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

async function validate(doc: unknown): Promise<number> {
  const file = path.join(dir, 'doc.yaml');
  await writeFile(file, stringify(doc));
  return main(['validate', file]);
}

test('a model path with ".." is refused', async () => {
  const md = example('ModelDeployment');
  md.spec.source = { persistentVolumeClaim: { claimName: 'models', path: 'a/../../etc' } };
  expect(await validate(md)).toBe(1);
  expect(err.join('\n')).toContain(
    "spec.source.persistentVolumeClaim.path: Invalid value: path must not contain '..'",
  );
});

test('an interval of 1ms is refused', async () => {
  const agent = example('AnalysisAgent');
  agent.spec.interval = '1ms';
  expect(await validate(agent)).toBe(1);
  expect(err.join('\n')).toContain('spec.interval: Invalid value: interval must be between 10s');
});

test('a cache with both url and secretRef is refused', async () => {
  const agent = example('AnalysisAgent');
  agent.spec.cache = { url: 'redis://redis:6379', secretRef: { name: 'redis' } };
  expect(await validate(agent)).toBe(1);
  expect(err.join('\n')).toContain('spec.cache: Invalid value: set exactly one of cache.url');
});

test('three model sources are refused', async () => {
  const md = example('ModelDeployment');
  md.spec.source = {
    configMap: { name: 'm', key: 'model.onnx' },
    secret: { name: 'm', key: 'model.onnx' },
    persistentVolumeClaim: { claimName: 'models', path: 'dns/model.onnx' },
  };
  expect(await validate(md)).toBe(1);
  expect(err.join('\n')).toContain('spec.source: Invalid value: set exactly one of source.');
});

test('the examples stay valid, with no rule left unchecked but the transition rule', async () => {
  for (const kind of ['AnalysisAgent', 'ModelDeployment', 'ExportJob'] as const)
    expect(await validate(example(kind))).toBe(0);
  expect(err).toEqual([]);
  expect(out.filter((l) => l.includes('not checked'))).toEqual([]);
});
