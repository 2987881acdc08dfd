// Issue 21, against the real control plane with `edgewarden operator` running as a process:
// the namespace's edgewarden-viewer-tokens and edgewarden-triager-tokens Secrets hold each
// AnalysisAgent's read and triage token under its name, owned (not controlled) by every agent
// they hold a key for; a deleted agent's key and owner reference go, and the garbage collector
// removes the Secrets with the last agent. No token is in an agent's status or an Event.
import { createHash, createHmac } from 'node:crypto';

import {
  createNamespace,
  eventually,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
} from './kube.js';
import { runOperator, type RunningOperator } from './namespaceSuite.js';

let namespace: string;
let operator: RunningOperator | undefined;

beforeAll(async () => {
  await installCrds();
  namespace = await createNamespace('triage-tokens');
  operator = await runOperator(namespace, ['--control-key-namespace', namespace]);
}, 90_000);

afterAll(async () => {
  await operator?.stop();
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
});

/** As the operator derives them (operator/src/domain/agentTokens.ts), written out here. */
const token = (key: Buffer, label: string, uid: string): string =>
  createHmac('sha256', key).update(`edgewarden-${label}:${uid}`).digest('hex');
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

interface Secret {
  metadata: {
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[];
  };
  data?: Record<string, string>;
}

const agentYaml = (name: string) => `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  agent: dns
  source:
    secretRef: { name: db }
  nodeSelector: { kubernetes.io/arch: arm64 }
`;

const uidOf = async (name: string): Promise<string> =>
  (
    await kubectlJson<{ metadata: { uid: string } }>([
      ...['get', 'analysisagent', name, '-n', namespace],
    ])
  ).metadata.uid;

const secretOf = async (name: string): Promise<Secret | undefined> => {
  const r = await kubectlRun(['get', 'secret', name, '-n', namespace, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as Secret) : undefined;
};

/** The Secret's keys decoded, and its owners as name:uid, once `check` holds. */
async function secretWhen(
  name: string,
  what: string,
  check: (keys: string[]) => boolean,
): Promise<{ tokens: Record<string, string>; owners: string[]; secret: Secret }> {
  return eventually(`${name}: ${what}`, async () => {
    const secret = await secretOf(name);
    const keys = Object.keys(secret?.data ?? {}).sort();
    if (!secret || !check(keys)) return undefined;
    const tokens = Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    const owners = (secret.metadata.ownerReferences ?? []).map((r) => `${r.name}:${r.uid}`).sort();
    return { tokens, owners, secret };
  });
}

test('each agent’s read and triage tokens in the two Secrets; a deleted agent’s key goes', async () => {
  await kubectl(['create', 'secret', 'generic', 'db', '-n', namespace, '--from-literal=url=x']);
  await kubectl(['apply', '-f', '-'], agentYaml('dns') + '---\n' + agentYaml('wifi'));
  const [dns, wifi] = await Promise.all([uidOf('dns'), uidOf('wifi')]);
  const keySecret = await eventually('the control key', () =>
    kubectlJson<{ data: { key: string } }>([
      ...['get', 'secret', 'edgewarden-control-key', '-n', namespace],
    ]),
  );
  const key = Buffer.from(keySecret.data.key, 'base64');

  const both = (keys: string[]) => keys.join() === 'dns,wifi';
  const viewer = await secretWhen('edgewarden-viewer-tokens', 'dns and wifi', both);
  const triager = await secretWhen('edgewarden-triager-tokens', 'dns and wifi', both);
  expect(viewer.tokens).toEqual({ dns: token(key, 'read', dns), wifi: token(key, 'read', wifi) });
  expect(triager.tokens).toEqual({
    dns: token(key, 'triage', dns),
    wifi: token(key, 'triage', wifi),
  });
  for (const { secret, owners } of [viewer, triager]) {
    expect(owners).toEqual([`dns:${dns}`, `wifi:${wifi}`]);
    expect(secret.metadata.ownerReferences!.every((r) => r.kind === 'AnalysisAgent')).toBe(true);
    expect(secret.metadata.ownerReferences!.some((r) => r.controller)).toBe(false);
    expect(secret.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('edgewarden');
  }
  // The pods are told the triage token's digest, never the token.
  const set = await eventually('the StatefulSet', () =>
    kubectlJson<{
      spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } };
    }>([...['get', 'statefulset', 'dns-agent', '-n', namespace]]),
  );
  const env = set.spec.template.spec.containers[0]!.env ?? [];
  expect(env.find((e) => e.name === 'EDGEWARDEN_TRIAGE_TOKEN_SHA256')?.value).toBe(
    sha256(token(key, 'triage', dns)),
  );
  // Nothing of the tokens where users read: the agents' status, the namespace's Events.
  const seen = await kubectl(['get', 'analysisagents,events', '-n', namespace, '-o', 'json']);
  for (const t of [...Object.values(viewer.tokens), ...Object.values(triager.tokens)])
    expect(seen).not.toContain(t);

  await kubectl(['delete', 'analysisagent', 'wifi', '-n', namespace]);
  for (const name of ['edgewarden-viewer-tokens', 'edgewarden-triager-tokens']) {
    const left = await secretWhen(name, 'only dns', (keys) => keys.join() === 'dns');
    expect(left.owners).toEqual([`dns:${dns}`]);
  }

  // The last agent goes: the garbage collector deletes the Secrets it owned.
  await kubectl(['delete', 'analysisagent', 'dns', '-n', namespace]);
  for (const name of ['edgewarden-viewer-tokens', 'edgewarden-triager-tokens'])
    await eventually(`${name} to be deleted`, async () =>
      (await secretOf(name)) ? undefined : true,
    );
}, 120_000);
