// The kubeconfig loader on real files in a temporary folder, and exec plugins that are real
// shell scripts: certificates inline and as (relative) files, tokens, token files, basic auth,
// in-cluster service accounts, $KUBECONFIG, and the errors of a configuration we cannot use.
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

import { loadInCluster, loadKubeConfig, loadKubeConfigFile } from './kubeConfig.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-kubeconfig-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const CA = '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** A kubeconfig with one context `ctx` of cluster `c` and user `u`. */
function kubeconfig(
  cluster: Record<string, unknown>,
  user: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://10.0.0.1:6443', ...cluster } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
    'current-context': 'ctx',
    ...extra,
  };
}

async function write(file: string, doc: unknown): Promise<string> {
  const full = path.join(dir, file);
  await mkdir(path.dirname(full), { recursive: true });
  await writeFile(full, typeof doc === 'string' ? doc : stringify(doc));
  return full;
}

test('inline (-data) certificates: CA, client certificate and key; TLS verified', async () => {
  const file = await write(
    'config',
    kubeconfig(
      { 'certificate-authority-data': b64(CA) },
      { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) },
    ),
  );
  const c = await loadKubeConfigFile(file);
  expect(c.server.href).toBe('https://10.0.0.1:6443/');
  const o = await c.requestOptions();
  expect(o.ca?.toString()).toBe(CA);
  expect(o.cert?.toString()).toBe(CERT);
  expect(o.key?.toString()).toBe(KEY);
  expect(o.rejectUnauthorized).toBe(true);
  expect(o.servername).toBeUndefined();
  expect(o.headers).toEqual({});
  expect(o.agent).toBeInstanceOf(https.Agent);
  expect(o.agent).toBe(c.agent);
  // The agent carries the TLS material too, and keeps connections alive.
  const agentOptions = (o.agent as https.Agent).options;
  expect(agentOptions.ca?.toString()).toBe(CA);
  expect(agentOptions.cert?.toString()).toBe(CERT);
  expect((o.agent as https.Agent & { keepAlive: boolean }).keepAlive).toBe(true);
  expect((o.agent as https.Agent).maxSockets).toBe(16);
  // Watches get an agent of their own, same TLS, no socket cap: however many namespaces are
  // watched, requests keep their sockets.
  const w = await c.requestOptions({ watch: true });
  expect(w.agent).not.toBe(o.agent);
  expect((w.agent as https.Agent).maxSockets).toBe(Infinity);
  expect((w.agent as https.Agent).options.ca?.toString()).toBe(CA);
});

test('certificate files, relative to the kubeconfig, as kubectl resolves them', async () => {
  await write('kube/pki/ca.crt', CA);
  await write('kube/pki/admin.crt', CERT);
  await write('kube/pki/admin.key', KEY);
  const file = await write(
    'kube/config',
    kubeconfig(
      { 'certificate-authority': 'pki/ca.crt' },
      { 'client-certificate': 'pki/admin.crt', 'client-key': path.join(dir, 'kube/pki/admin.key') },
    ),
  );
  const o = await (await loadKubeConfigFile(file)).requestOptions();
  expect(o.ca?.toString()).toBe(CA);
  expect(o.cert?.toString()).toBe(CERT);
  expect(o.key?.toString()).toBe(KEY);
});

test('a missing certificate file is named in the error', async () => {
  const file = await write('config', kubeconfig({ 'certificate-authority': 'nope/ca.crt' }, {}));
  await expect(loadKubeConfigFile(file)).rejects.toThrow(
    `cluster "c": certificate-authority: cannot read ${path.join(dir, 'nope/ca.crt')}: no such file`,
  );
});

test('a token is sent as a bearer token; insecure-skip-tls-verify and tls-server-name are kept', async () => {
  const file = await write(
    'config',
    kubeconfig(
      { 'insecure-skip-tls-verify': true, 'tls-server-name': 'kubernetes.default' },
      { token: 'abc.def' },
    ),
  );
  const o = await (await loadKubeConfigFile(file)).requestOptions();
  expect(o.headers).toEqual({ Authorization: 'Bearer abc.def' });
  expect(o.rejectUnauthorized).toBe(false);
  expect(o.servername).toBe('kubernetes.default');
});

test('a tokenFile is read, and read again once its token is refused', async () => {
  await write('token', 'first\n');
  const file = await write('config', kubeconfig({}, { tokenFile: 'token' }));
  const c = await loadKubeConfigFile(file);
  expect((await c.requestOptions()).headers.Authorization).toBe('Bearer first');
  await write('token', 'second\n');
  expect((await c.requestOptions()).headers.Authorization).toBe('Bearer first'); // cached
  c.invalidateCredentials();
  expect((await c.requestOptions()).headers.Authorization).toBe('Bearer second');
});

test('username and password become basic auth', async () => {
  const file = await write('config', kubeconfig({}, { username: 'ada', password: 's3cret' }));
  const o = await (await loadKubeConfigFile(file)).requestOptions();
  expect(o.headers.Authorization).toBe(`Basic ${b64('ada:s3cret')}`);
});

test('a plain http server gets a plain keep-alive agent', async () => {
  const file = await write('config', kubeconfig({ server: 'http://127.0.0.1:8080' }, {}));
  const c = await loadKubeConfigFile(file);
  expect(c.agent).not.toBeInstanceOf(https.Agent);
});

test('errors name what is missing: the file, current-context, the context, cluster and user', async () => {
  await expect(loadKubeConfigFile(path.join(dir, 'absent'))).rejects.toThrow(
    `the kubeconfig: cannot read ${path.join(dir, 'absent')}: no such file`,
  );
  const noCurrent = await write('a', { ...kubeconfig({}, {}), 'current-context': undefined });
  await expect(loadKubeConfigFile(noCurrent)).rejects.toThrow(
    `kubeconfig ${noCurrent}: no current-context`,
  );
  const badContext = await write('b', kubeconfig({}, {}, { 'current-context': 'other' }));
  await expect(loadKubeConfigFile(badContext)).rejects.toThrow('no context named "other"');
  const badCluster = await write('c', {
    ...kubeconfig({}, {}),
    contexts: [{ name: 'ctx', context: { cluster: 'gone', user: 'u' } }],
  });
  await expect(loadKubeConfigFile(badCluster)).rejects.toThrow('no cluster named "gone"');
  const badUser = await write('d', {
    ...kubeconfig({}, {}),
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'nobody' } }],
  });
  await expect(loadKubeConfigFile(badUser)).rejects.toThrow('no user named "nobody"');
  const noServer = await write('e', kubeconfig({ server: undefined }, {}));
  await expect(loadKubeConfigFile(noServer)).rejects.toThrow('cluster "c": no server');
});

test('what we do not support is refused by name', async () => {
  const authProvider = await write('a', kubeconfig({}, { 'auth-provider': { name: 'gcp' } }));
  await expect(loadKubeConfigFile(authProvider)).rejects.toThrow(
    'user "u": auth-provider is not supported (use an exec credential plugin)',
  );
  const impersonate = await write('b', kubeconfig({}, { as: 'someone' }));
  await expect(loadKubeConfigFile(impersonate)).rejects.toThrow('user "u": as is not supported');
  const certOnly = await write('c', kubeconfig({}, { 'client-certificate-data': b64(CERT) }));
  await expect(loadKubeConfigFile(certOnly)).rejects.toThrow('needs its key');
});

/** A shell script exec plugin that counts its runs and prints `status` as an ExecCredential. */
async function plugin(
  name: string,
  status: string,
  apiVersion = 'client.authentication.k8s.io/v1',
): Promise<string> {
  const script = await write(
    name,
    [
      '#!/bin/sh',
      `echo run >> "${path.join(dir, `${name}.runs`)}"`,
      `printf '%s' "$KUBERNETES_EXEC_INFO" > "${path.join(dir, `${name}.info`)}"`,
      `cat <<EOF`,
      `{"apiVersion":"${apiVersion}","kind":"ExecCredential","status":${status}}`,
      'EOF',
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  return script;
}

const runs = async (name: string): Promise<number> =>
  (await readFile(path.join(dir, `${name}.runs`), 'utf8').catch(() => '')).split('\n').length - 1;

test('an exec plugin (v1) runs with its args and env, and its token is cached until it expires', async () => {
  const later = new Date(Date.now() + 3_600_000).toISOString();
  await plugin('token-plugin', `{"token":"exec-$1-$GREETING","expirationTimestamp":"${later}"}`);
  const file = await write(
    'config',
    kubeconfig(
      { 'certificate-authority-data': b64(CA) },
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: './token-plugin', // relative to the kubeconfig
          args: ['arg1'],
          env: [{ name: 'GREETING', value: 'hello' }],
          interactiveMode: 'Never',
          provideClusterInfo: true,
        },
      },
    ),
  );
  const c = await loadKubeConfigFile(file);
  expect(await runs('token-plugin')).toBe(0); // run on the first request, not on load
  expect((await c.requestOptions()).headers).toEqual({ Authorization: 'Bearer exec-arg1-hello' });
  expect((await c.requestOptions()).headers.Authorization).toBe('Bearer exec-arg1-hello');
  expect(await runs('token-plugin')).toBe(1);
  const info = JSON.parse(await readFile(path.join(dir, 'token-plugin.info'), 'utf8')) as unknown;
  expect(info).toEqual({
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      cluster: { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64(CA) },
    },
  });
  // A 401 makes it run again.
  c.invalidateCredentials();
  await c.requestOptions();
  expect(await runs('token-plugin')).toBe(2);
});

test('an expired exec credential is fetched again; concurrent requests share one run', async () => {
  const past = new Date(Date.now() - 1000).toISOString();
  await plugin(
    'expired-plugin',
    `{"token":"t","expirationTimestamp":"${past}"}`,
    'client.authentication.k8s.io/v1beta1',
  );
  const file = await write(
    'config',
    kubeconfig(
      {},
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1beta1',
          command: path.join(dir, 'expired-plugin'),
        },
      },
    ),
  );
  const c = await loadKubeConfigFile(file);
  await Promise.all([c.requestOptions(), c.requestOptions(), c.requestOptions()]);
  expect(await runs('expired-plugin')).toBe(1);
  await c.requestOptions();
  expect(await runs('expired-plugin')).toBe(2);
});

test('an exec plugin that hands out a client certificate gets its own agent', async () => {
  const cert = JSON.stringify(CERT);
  const key = JSON.stringify(KEY);
  await plugin('cert-plugin', `{"clientCertificateData":${cert},"clientKeyData":${key}}`);
  const file = await write(
    'config',
    kubeconfig(
      {},
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './cert-plugin' } },
    ),
  );
  const c = await loadKubeConfigFile(file);
  const before = c.agent;
  const o = await c.requestOptions();
  expect(o.cert?.toString()).toBe(CERT);
  expect(o.key?.toString()).toBe(KEY);
  expect(o.headers).toEqual({});
  expect(o.agent).not.toBe(before);
  expect((o.agent as https.Agent).options.cert?.toString()).toBe(CERT);
  expect((await c.requestOptions()).agent).toBe(o.agent); // same certificate, same agent
});

test('an exec plugin that fails, or prints the wrong thing, is a clear error', async () => {
  const failing = await write('fail', '#!/bin/sh\necho "no credentials for you" >&2\nexit 3\n');
  await chmod(failing, 0o755);
  await plugin('wrong-version', '{"token":"t"}', 'client.authentication.k8s.io/v1beta1');
  const config = async (name: string, command: string): Promise<string> =>
    write(
      name,
      kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command } }),
    );
  const a = await loadKubeConfigFile(await config('a', './fail'));
  await expect(a.requestOptions()).rejects.toThrow(/exec plugin .*fail failed.*no credentials/);
  const b = await loadKubeConfigFile(await config('b', './wrong-version'));
  await expect(b.requestOptions()).rejects.toThrow(
    'not an ExecCredential of client.authentication.k8s.io/v1',
  );
  const old = await write(
    'c',
    kubeconfig({}, { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } }),
  );
  await expect(loadKubeConfigFile(old)).rejects.toThrow(
    'exec apiVersion client.authentication.k8s.io/v1alpha1 is not supported',
  );
});

test('in-cluster: the service host and port, its CA, its token; an IPv6 host in brackets', async () => {
  const sa = path.join(dir, 'serviceaccount');
  await write('serviceaccount/ca.crt', CA);
  await write('serviceaccount/token', 'sa-token\n');
  const env = { KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' };
  const c = await loadKubeConfig(undefined, { env, serviceAccountDir: sa });
  expect(c.server.href).toBe('https://10.43.0.1/');
  expect(c.source).toBe('in-cluster');
  const o = await c.requestOptions();
  expect(o.ca?.toString()).toBe(CA);
  expect(o.headers.Authorization).toBe('Bearer sa-token');
  const v6 = await loadInCluster(
    { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' },
    sa,
  );
  expect(v6.server.host).toBe('[fd00::1]:6443');
  await expect(loadInCluster({ KUBERNETES_SERVICE_HOST: '10.43.0.1' }, sa)).rejects.toThrow(
    'KUBERNETES_SERVICE_PORT',
  );
  await expect(loadInCluster(env, path.join(dir, 'none'))).rejects.toThrow(
    'the service account CA: cannot read',
  );
});

test('$KUBECONFIG: its first file that exists; else ~/.kube/config', async () => {
  const second = await write('second', kubeconfig({ server: 'https://second:6443' }, {}));
  const c = await loadKubeConfig(undefined, {
    env: { KUBECONFIG: [path.join(dir, 'missing'), second].join(path.delimiter) },
  });
  expect(c.server.host).toBe('second:6443');
  await expect(
    loadKubeConfig(undefined, { env: { KUBECONFIG: path.join(dir, 'missing') } }),
  ).rejects.toThrow('no kubeconfig: none of KUBECONFIG=');
  await write('home/.kube/config', kubeconfig({ server: 'https://home:6443' }, {}));
  const home = await loadKubeConfig(undefined, { env: { HOME: path.join(dir, 'home') } });
  expect(home.server.host).toBe('home:6443');
  // The file given wins over everything.
  const given = await loadKubeConfig(second, {
    env: { KUBERNETES_SERVICE_HOST: '10.43.0.1', KUBERNETES_SERVICE_PORT: '443' },
  });
  expect(given.source).toBe(second);
});
