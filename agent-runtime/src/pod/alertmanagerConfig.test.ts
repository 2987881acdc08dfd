// Where an agent's Alertmanager is, read once at start: the spec's alertmanager.url wins over
// EDGEWARDEN_ALERTMANAGER_URL (the operator's --alertmanager-url, or the spec's urlSecretRef as a
// file), a value that is not an http(s) URL stops the agent naming the variable, and the
// manifest's namespace is kept for the alerts' namespace label.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { agentEnv } from '../contract/index.js';
import { loadConfig } from './config.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-alertmanager-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The environment of an agent whose manifest has `notifications` (YAML flow) in its spec. */
async function envWith(name: string, notifications?: string): Promise<Record<string, string>> {
  const file = path.join(dir, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: home }
spec:
  agent: auth
  source: { secretRef: { name: db }, preset: log_entries }
${notifications ? `  notifications: ${notifications}\n` : ''}`,
  );
  return { [agentEnv.config]: file, [agentEnv.pgUrl]: 'postgresql://reader@db.lan:5432/logs' };
}

test('none named: no Alertmanager; the namespace comes from the manifest', async () => {
  const config = await loadConfig(await envWith('quiet'));
  expect(config.alertmanagerUrl).toBeUndefined();
  expect(config.namespace).toBe('home');
});

test("the operator's URL, as a variable or a file, when the spec names none", async () => {
  const env = await envWith('operator-wide', '{ alertmanager: { resolveAfter: 2h } }');
  const url = 'http://alertmanager-operated.monitoring:9093';
  expect((await loadConfig({ ...env, [agentEnv.alertmanagerUrl]: url })).alertmanagerUrl).toBe(url);
  const file = path.join(dir, 'alertmanager-url');
  await writeFile(file, 'https://edgewarden:s3cret@alertmanager.example.net');
  const fromFile = await loadConfig({ ...env, [`${agentEnv.alertmanagerUrl}_FILE`]: file });
  expect(fromFile.alertmanagerUrl).toBe('https://edgewarden:s3cret@alertmanager.example.net');
  expect(fromFile.settings.alertmanager.resolveAfterMs).toBe(2 * 3_600_000);
});

test("the spec's url wins over the operator's", async () => {
  const env = await envWith('own', '{ alertmanager: { url: "http://am.lan:9093" } }');
  const config = await loadConfig({ ...env, [agentEnv.alertmanagerUrl]: 'http://other:9093' });
  expect(config.alertmanagerUrl).toBe('http://am.lan:9093');
});

test('a variable that is not an http(s) URL stops the agent, naming it', async () => {
  const env = await envWith('bad');
  await expect(
    loadConfig({ ...env, [agentEnv.alertmanagerUrl]: 'alertmanager:9093' }),
  ).rejects.toThrow(/^EDGEWARDEN_ALERTMANAGER_URL: must be a URL like http:\/\//);
});
