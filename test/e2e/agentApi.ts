// An agent pod's HTTP API as a user reaches it from a laptop: through the API server's pod
// proxy, with the user's own kubeconfig; no pod IP or port-forward. The agent wants a token
// (issue 20, H2), and the proxy strips Authorization, so the read token travels in
// X-Edgewarden-Token (which `kubectl get --raw` cannot send: the request is made here, with
// the kubeconfig's credentials). The read token is derived as the operator derives it, from
// its control key (the Secret edgewarden-control-key of the operator's namespace, readable by
// the test's admin credentials) and the agent's uid; of several operators' keys, the one
// whose token digest the pod was started with.
import http from 'node:http';
import https from 'node:https';

import {
  agentEnv,
  agentTokenHeader,
  controlTokenDigest,
} from '../../agent-runtime/src/contract/index.js';
import { readToken } from '../../operator/src/domain/agentTokens.js';
import { loadKubeConfig, type Connection } from '../../operator/src/runtime/kubeConfig.js';
import { kubectlJson } from '../integration/kube.js';

export interface StoredAnomaly {
  id: number;
  agent: string;
  device: string;
  type: string;
  severity: number;
  timestamp: string;
  windowStart: string;
  evidence: (number | string)[];
}

interface PodShape {
  metadata: { labels?: Record<string, string> };
  spec: { containers: { env?: { name: string; value?: string }[] }[] };
}

let connection: Promise<Connection> | undefined;
/** Read tokens by namespace/pod, fetched again when an agent refuses one (a recreated agent). */
const tokens = new Map<string, Promise<string>>();

/** The read token of the agent of `pod`: the operator key whose token the pod's digest matches. */
async function podReadToken(namespace: string, pod: string): Promise<string> {
  const p = await kubectlJson<PodShape>(['get', 'pod', pod, '-n', namespace]);
  const agent = p.metadata.labels?.['app.kubernetes.io/instance'];
  if (!agent) throw new Error(`pod ${namespace}/${pod} has no app.kubernetes.io/instance label`);
  const { metadata } = await kubectlJson<{ metadata: { uid: string } }>([
    ...['get', 'analysisagent', agent, '-n', namespace],
  ]);
  const digest = p.spec.containers[0]?.env?.find((e) => e.name === agentEnv.readTokenSha256)?.value;
  const keys = await kubectlJson<{ items: { data?: { key?: string } }[] }>([
    ...['get', 'secrets', '-A', '--field-selector', 'metadata.name=edgewarden-control-key'],
  ]);
  for (const s of keys.items) {
    if (!s.data?.key) continue;
    const token = readToken(Buffer.from(s.data.key, 'base64'), metadata.uid);
    if (controlTokenDigest(token) === digest) return token;
  }
  throw new Error(
    `no edgewarden-control-key Secret gives the read token of ${namespace}/${pod} (agent ${agent})`,
  );
}

/** GET `url` from the API server with the kubeconfig's credentials and `extra` headers. */
async function apiGet(
  url: URL,
  extra: Record<string, string>,
): Promise<{ status: number; body: string }> {
  connection ??= loadKubeConfig(process.env.KUBECONFIG || undefined);
  const { headers, ...tls } = await (await connection).requestOptions();
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { ...tls, method: 'GET', headers: { ...headers, ...extra }, timeout: 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url.pathname}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET `urlPath` of an agent pod's port 8080 through the API server, with its read token. */
export async function podGet(namespace: string, pod: string, urlPath: string): Promise<string> {
  connection ??= loadKubeConfig(process.env.KUBECONFIG || undefined);
  const url = new URL(
    `/api/v1/namespaces/${namespace}/pods/${pod}:8080/proxy${urlPath}`,
    (await connection).server,
  );
  const key = `${namespace}/${pod}`;
  for (let attempt = 0; ; attempt++) {
    if (!tokens.has(key)) tokens.set(key, podReadToken(namespace, pod));
    const token = await tokens.get(key)!.catch((error: unknown) => {
      tokens.delete(key);
      throw error;
    });
    const { status, body } = await apiGet(url, { [agentTokenHeader]: token });
    if (status >= 200 && status < 300) return body;
    // A refused token may be a recreated agent's (a new uid): derive it again, once.
    if ((status === 401 || status === 403) && attempt === 0) {
      tokens.delete(key);
      continue;
    }
    throw new Error(`GET ${url.pathname}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/** Every anomaly in an agent's SQLite store, oldest first (its /anomalies, paged). */
export async function storedAnomalies(namespace: string, pod: string): Promise<StoredAnomaly[]> {
  const all: StoredAnomaly[] = [];
  let after = '';
  for (;;) {
    // The agent serves at most 500 an answer (a larger limit is clamped): ask for that many.
    const items = JSON.parse(
      await podGet(namespace, pod, `/anomalies?order=asc&limit=500${after}`),
    ) as StoredAnomaly[];
    all.push(...items);
    if (items.length < 500) return all;
    const last = items[items.length - 1]!;
    after = `&after=${encodeURIComponent(`${last.timestamp},${last.id}`)}`;
  }
}
