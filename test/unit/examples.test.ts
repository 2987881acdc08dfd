// The shipped examples (manifests/examples/) as a user meets them: applied as they are, after
// doing what their comments say. Every object they name must then exist: shipped in the
// folder, or made by a command their comments give (a Secret holds the user's own values; a
// ConfigMap is made from a file of this repository). The model must be the shipped baseline
// as its manifest describes it, and nothing may tie the pods to one kind of node. The
// integration suites apply the same files to a real API server (crds, helm-release) and run
// the agent and its model rollout from them (agent-contract).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

import type { AnalysisAgent, ExportJob, ModelDeployment } from '../../api/src/generated/types.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.join(root, 'manifests/examples');

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
}
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const texts = new Map(files.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]));
const docs = files.flatMap((file) =>
  parseAllDocuments(texts.get(file)!)
    .map((d) => d.toJS() as Doc | null)
    .filter((doc): doc is Doc => doc !== null)
    .map((doc) => ({ file, doc })),
);

/** The one example of `kind`, and the file it is in. */
function example<T>(kind: string): { file: string; doc: T } {
  const found = docs.filter((d) => d.doc.kind === kind);
  expect(found.map((d) => `${d.file}: ${d.doc.kind}`)).toHaveLength(1);
  return found[0]! as unknown as { file: string; doc: T };
}

/** The comment lines of a file, without their `#`. */
const comments = (file: string): string =>
  texts
    .get(file)!
    .split('\n')
    .filter((l) => /^\s*#/.test(l))
    .map((l) => l.replace(/^\s*#\s?/, ''))
    .join('\n');

/** Every Secret a spec names: `...SecretRef: { name }` and a model's `source.secret`. */
function secretsIn(value: unknown, key = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const own =
    (/secretref$/i.test(key) || key === 'secret') && 'name' in value ? [String(value.name)] : [];
  return [...own, ...Object.entries(value).flatMap(([k, v]) => secretsIn(v, k))];
}

/** `kubectl create configmap NAME --from-file=KEY=PATH` in the comments of `file`. */
function configMapCommand(file: string, name: string): { key: string; file: string } | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(
    `kubectl (?:-n \\S+ )?create configmap ${escaped} --from-file=([^=\\s]+)=(\\S+)`,
  ).exec(comments(file));
  return m ? { key: m[1]!, file: m[2]! } : undefined;
}

test('the folder holds one of each kind, and the claim the ExportJob writes to', () => {
  expect(docs.map((d) => `${d.doc.kind}/${d.doc.metadata.name}`).sort()).toEqual([
    'AnalysisAgent/dns',
    'ExportJob/weekly-review',
    'ModelDeployment/dns-model',
    'PersistentVolumeClaim/edgewarden-exports',
  ]);
});

test('every object the examples name is shipped beside them, or made by a command in their comments', () => {
  const shipped = new Set(docs.map((d) => `${d.doc.kind}/${d.doc.metadata.name}`));
  const missing: string[] = [];
  const need = (file: string, what: string, ok: boolean) => {
    if (!ok) missing.push(`${file}: ${what}`);
  };
  for (const { file, doc } of docs) {
    // Secrets hold the user's own passwords and URLs: the file's comments say how to make each.
    for (const secret of secretsIn(doc.spec))
      need(
        file,
        `Secret ${secret} (no "kubectl create secret generic ${secret}" in its comments)`,
        comments(file).includes(`kubectl create secret generic ${secret} `),
      );
  }

  const agent = example<AnalysisAgent>('AnalysisAgent');
  if (agent.doc.spec.model)
    need(
      agent.file,
      `ModelDeployment ${agent.doc.spec.model.name}`,
      shipped.has(`ModelDeployment/${agent.doc.spec.model.name}`),
    );

  const model = example<ModelDeployment>('ModelDeployment');
  const source = model.doc.spec.source;
  if (source.configMap) {
    const command = configMapCommand(model.file, source.configMap.name);
    need(
      model.file,
      `ConfigMap ${source.configMap.name} (no "kubectl create configmap ${source.configMap.name} --from-file=${source.configMap.key}=..." in its comments)`,
      command?.key === source.configMap.key,
    );
    if (command)
      need(model.file, `the file ${command.file}`, existsSync(path.join(root, command.file)));
  }
  // A placeholder host serves nothing: the rollout could never download the model.
  if (source.http)
    need(
      model.file,
      `a model URL that serves something (${source.http.url})`,
      !/^https?:\/\/([^/]*\.)?example\.(com|net|org)\//.test(source.http.url),
    );

  const exportJob = example<ExportJob>('ExportJob');
  const claim = exportJob.doc.spec.destination.persistentVolumeClaim.claimName;
  need(
    exportJob.file,
    `PersistentVolumeClaim ${claim}`,
    shipped.has(`PersistentVolumeClaim/${claim}`),
  );
  const ref = exportJob.doc.spec.source?.analysisAgentRef.name;
  if (ref) need(exportJob.file, `AnalysisAgent ${ref}`, shipped.has(`AnalysisAgent/${ref}`));

  expect(missing).toEqual([]);
});

test('the example model is the shipped baseline, as its manifest.json describes it', () => {
  const { file, doc } = example<ModelDeployment>('ModelDeployment');
  const source = doc.spec.source.configMap;
  expect(source).toBeDefined();
  const command = configMapCommand(file, source!.name)!;
  const bytes = readFileSync(path.join(root, command.file));
  const manifest = JSON.parse(
    readFileSync(path.join(root, path.dirname(command.file), 'manifest.json'), 'utf8'),
  ) as { agent: string; features: string[]; threshold: number; sha256: string };
  expect(doc.spec.agent).toBe(manifest.agent);
  // The agent builds each input row in this order: it must be the model's own.
  expect(doc.spec.features).toEqual(manifest.features);
  expect(doc.spec.threshold).toBe(manifest.threshold);
  // The SHA-256 the comments quote (for serving the same file over http) is the file's.
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  expect(manifest.sha256).toBe(sha256);
  expect(comments(file).match(/\b[a-f0-9]{64}\b/g)).toEqual([sha256]);
});

test('the agent pods may run on any node; pinning them to arm64 is a commented option', () => {
  const { file, doc } = example<AnalysisAgent>('AnalysisAgent');
  expect(doc.spec.nodeSelector).toBeUndefined();
  expect(comments(file)).toMatch(/nodeSelector:\s*\n\s*kubernetes\.io\/arch: arm64/);
});

test("the claim uses the cluster's default StorageClass (k3s: local-path)", () => {
  const claim = docs.find((d) => d.doc.kind === 'PersistentVolumeClaim')!.doc as Doc & {
    spec: { storageClassName?: string; accessModes: string[] };
  };
  expect(claim.apiVersion).toBe('v1');
  expect(claim.spec.storageClassName).toBeUndefined();
  expect(claim.spec.accessModes).toEqual(['ReadWriteOnce']);
});
