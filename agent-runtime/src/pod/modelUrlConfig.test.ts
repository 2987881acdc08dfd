// The agent's model URL allowlist, read once at start (issue 20, M1): EDGEWARDEN_MODEL_URL_ALLOW
// adds ranges to the public addresses, the API server's address stays refused, and a value that
// is not a range stops the agent with a message naming the variable.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { agentEnv } from '../contract/index.js';
import { addressAllowed } from '../model/addressPolicy.js';
import { loadConfig } from './config.js';

let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-m1-config-'));
  await writeFile(
    path.join(dir, 'agent.yaml'),
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ssh-guard }
spec:
  agent: auth
  source: { secretRef: { name: db }, preset: log_entries }
`,
  );
  env = {
    [agentEnv.config]: path.join(dir, 'agent.yaml'),
    [agentEnv.pgUrl]: 'postgresql://reader@db.lan:5432/logs',
  };
});

afterAll(() => rm(dir, { recursive: true, force: true }));

test('unset: public addresses only', async () => {
  const { modelAddresses } = await loadConfig(env);
  expect(addressAllowed(modelAddresses, '8.8.8.8')).toBe(true);
  expect(addressAllowed(modelAddresses, '192.168.1.20')).toBe(false);
  expect(addressAllowed(modelAddresses, '127.0.0.1')).toBe(false);
});

test("the allowlist adds its ranges; the API server's address stays refused", async () => {
  const { modelAddresses } = await loadConfig({
    ...env,
    [agentEnv.modelUrlAllow]: '192.168.1.0/24,10.43.0.0/16',
    KUBERNETES_SERVICE_HOST: '10.43.0.1',
  });
  expect(addressAllowed(modelAddresses, '192.168.1.20')).toBe(true);
  expect(addressAllowed(modelAddresses, '10.43.7.7')).toBe(true);
  expect(addressAllowed(modelAddresses, '10.43.0.1')).toBe(false);
});

test('a value that is not a range stops the agent, naming the variable', async () => {
  await expect(
    loadConfig({ ...env, [agentEnv.modelUrlAllow]: '192.168.1.0/24,lan' }),
  ).rejects.toThrow(`${agentEnv.modelUrlAllow}: not an address or a CIDR range: "lan"`);
});
