// Issue 20, H2: every agent pod is told the digests of its control and read tokens (not only
// an agent with spec.model), never the tokens themselves; issue 21: and of its triage token.
import { agentEnv, controlTokenDigest } from '../../../../agent-runtime/src/contract/index.js';
import { controlToken, readToken, triageToken } from '../agentTokens.js';
import { agentEnvironment, agentSecretFiles } from './environment.js';
import type { StoredAgent } from './storedAgent.js';

const agent = {
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'AnalysisAgent',
  metadata: { name: 'dns', namespace: 'net', uid: 'uid-dns' },
  spec: {
    agent: 'dns',
    interval: '1m',
    source: { secretRef: { name: 'db' }, sslMode: 'verify-full', preset: 'log_entries' },
  },
} as unknown as StoredAgent;
const key = new Uint8Array(32).fill(9);

test('the digests of the three tokens, with or without spec.model; the tokens never', () => {
  for (const a of [agent, { ...agent, spec: { ...agent.spec, model: { name: 'm' } } }]) {
    const env = agentEnvironment(a, '256Mi', key);
    const value = (name: string) => env.find((e) => e.name === name)?.value;
    expect(value(agentEnv.controlTokenSha256)).toBe(
      controlTokenDigest(controlToken(key, 'uid-dns')),
    );
    expect(value(agentEnv.readTokenSha256)).toBe(controlTokenDigest(readToken(key, 'uid-dns')));
    expect(value(agentEnv.triageTokenSha256)).toBe(controlTokenDigest(triageToken(key, 'uid-dns')));
    const text = JSON.stringify(env);
    expect(text).not.toContain(controlToken(key, 'uid-dns'));
    expect(text).not.toContain(readToken(key, 'uid-dns'));
    expect(text).not.toContain(triageToken(key, 'uid-dns'));
  }
});

test('without the operator key (a rendering with no operator) no digest is set', () => {
  const env = agentEnvironment(agent, '256Mi');
  expect(env.map((e) => e.name)).not.toContain(agentEnv.readTokenSha256);
  expect(env.map((e) => e.name)).not.toContain(agentEnv.triageTokenSha256);
});

// Issue 21: the operator's --alertmanager-url for an agent whose spec names no Alertmanager; the
// spec's url (read by the agent from its config) or urlSecretRef (a file) wins.
describe('Alertmanager', () => {
  const operatorUrl = 'http://alertmanager-operated.monitoring:9093';
  const withAm = (alertmanager: object) =>
    ({ ...agent, spec: { ...agent.spec, notifications: { alertmanager } } }) as StoredAgent;
  const am = (a: StoredAgent) =>
    agentEnvironment(a, '256Mi', key, undefined, operatorUrl).filter((e) =>
      String(e.name).startsWith(agentEnv.alertmanagerUrl),
    );

  test('the operator’s URL when the spec names none', () => {
    expect(am(agent)).toEqual([{ name: agentEnv.alertmanagerUrl, value: operatorUrl }]);
    expect(am(withAm({ resolveAfter: '2h' }))).toEqual([
      { name: agentEnv.alertmanagerUrl, value: operatorUrl },
    ]);
    expect(agentEnvironment(agent, '256Mi', key).map((e) => e.name)).not.toContain(
      agentEnv.alertmanagerUrl,
    );
  });

  test('the spec’s url: nothing in the environment (the agent reads its config)', () => {
    expect(am(withAm({ url: 'http://am.example:9093' }))).toEqual([]);
  });

  test('the spec’s urlSecretRef: its key as a file, key url unless named', () => {
    const spec = withAm({ urlSecretRef: { name: 'am-creds' } });
    expect(am(spec)).toEqual([
      {
        name: `${agentEnv.alertmanagerUrl}_FILE`,
        value: '/etc/edgewarden/secrets/am-creds/url',
      },
    ]);
    expect(
      agentSecretFiles(withAm({ urlSecretRef: { name: 'am', key: 'u' } }).spec),
    ).toContainEqual({ variable: agentEnv.alertmanagerUrl, secret: 'am', key: 'u' });
  });
});
