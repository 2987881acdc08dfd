import { jest } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { main } from './main.js';

let out: string[];
let err: string[];

beforeEach(() => {
  out = [];
  err = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});

afterEach(() => jest.restoreAllMocks());

test('--help lists only the commands that work', async () => {
  expect(await main(['--help'])).toBe(0);
  const commands = out.join('\n').split('Commands:\n')[1]!.split('\n\n')[0]!;
  expect(
    commands
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/)[0]),
  ).toEqual([
    'agent',
    'analyze',
    'demo',
    'export',
    'features',
    'operator',
    'parse',
    'rules',
    'train',
    'validate',
  ]);
});

test('an unknown command is a usage error', async () => {
  expect(await main(['frobnicate'])).toBe(2);
  expect(err.join('\n')).toContain('unknown command "frobnicate"');
});

test('--version prints the package version', async () => {
  expect(await main(['--version'])).toBe(0);
  expect(out[0]).toMatch(/^\d+\.\d+\.\d+/);
});

test('validate accepts the examples and names the field of each problem', async () => {
  expect(
    await main([
      'validate',
      'manifests/examples/analysisagent.yaml',
      'manifests/examples/exportjob.yaml',
    ]),
  ).toBe(0);
  expect(out).toEqual([
    'manifests/examples/analysisagent.yaml#1 AnalysisAgent/dns: valid',
    'manifests/examples/exportjob.yaml#1 ExportJob/weekly-review: valid',
  ]);

  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cli-'));
  try {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(
      file,
      [
        'apiVersion: edgewarden.io/v1alpha1',
        'kind: ExportJob',
        'metadata: { name: bad }',
        'spec: { dataTypes: [logs], timeRange: { last: 24h }, format: xml }',
        '---',
        '# an empty document between separators is fine',
        '---',
        'not: [valid',
      ].join('\n'),
    );
    out = [];
    expect(await main(['validate', file])).toBe(1);
    const text = err.join('\n');
    expect(text).toContain('ExportJob/bad: invalid');
    expect(text).toContain('spec.format: Unsupported value: "xml"');
    expect(text).toContain('spec.destination: Required value');
    expect(text).toMatch(/#3: not YAML/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('validate takes the examples folder as a user applies it: ours checked, the claim skipped', async () => {
  const files = [
    'manifests/examples/analysisagent.yaml',
    'manifests/examples/exportjob.yaml',
    'manifests/examples/exports-claim.yaml',
    'manifests/examples/modeldeployment.yaml',
  ];
  expect(await main(['validate', ...files])).toBe(0);
  expect(err).toEqual([]);
  expect(out).toEqual([
    'manifests/examples/analysisagent.yaml#1 AnalysisAgent/dns: valid',
    'manifests/examples/exportjob.yaml#1 ExportJob/weekly-review: valid',
    'manifests/examples/exports-claim.yaml#1 PersistentVolumeClaim/edgewarden-exports: skipped (v1, not edgewarden.io)',
    'manifests/examples/modeldeployment.yaml#1 ModelDeployment/dns-model: valid',
  ]);
  // A document of our group with a wrong version or kind is still an error, not skipped.
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cli-'));
  try {
    const file = path.join(dir, 'typo.yaml');
    await writeFile(
      file,
      'apiVersion: edgewarden.io/v1\nkind: ExportJob\nmetadata: { name: typo }\nspec: {}\n',
    );
    out = [];
    expect(await main(['validate', file])).toBe(1);
    expect(err.join('\n')).toContain('apiVersion: Unsupported value');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('validate without files is a usage error; a missing file is a read error', async () => {
  expect(await main(['validate'])).toBe(2);
  expect(await main(['validate', '/nonexistent/x.yaml'])).toBe(2);
  expect(err.join('\n')).toContain('/nonexistent/x.yaml: cannot read');
});
