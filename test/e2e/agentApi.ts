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
import { readToken, triageToken } from '../../operator/src/domain/agentTokens.js';
import { loadKubeConfig, type Connection } from '../../operator/src/runtime/kubeConfig.js';
import { kubectlJson } from '../integration/kube.js';

export interface StoredAnomaly {
  id: number;
  agent: string;
  device: string;
  type: string;
  /** The rule that found it, if one did. */
  rule?: string | null;
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
/** Tokens by kind/namespace/pod, fetched again when an agent refuses one (a recreated agent). */
const tokens = new Map<string, Promise<string>>();

/** Each kind of token a test uses: how it is derived, and the pod's variable of its digest. */
const TOKEN_KINDS = {
  read: { derive: readToken, digestEnv: agentEnv.readTokenSha256 },
  // issue 21: POST /anomalies/:id/status
  triage: { derive: triageToken, digestEnv: agentEnv.triageTokenSha256 },
} as const;
type TokenKind = keyof typeof TOKEN_KINDS;

/** A token of the agent of `pod`: the operator key whose token the pod's digest matches. */
async function podToken(namespace: string, pod: string, kind: TokenKind): Promise<string> {
  const p = await kubectlJson<PodShape>(['get', 'pod', pod, '-n', namespace]);
  const agent = p.metadata.labels?.['app.kubernetes.io/instance'];
  if (!agent) throw new Error(`pod ${namespace}/${pod} has no app.kubernetes.io/instance label`);
  const { metadata } = await kubectlJson<{ metadata: { uid: string } }>([
    ...['get', 'analysisagent', agent, '-n', namespace],
  ]);
  const { derive, digestEnv } = TOKEN_KINDS[kind];
  const digest = p.spec.containers[0]?.env?.find((e) => e.name === digestEnv)?.value;
  const keys = await kubectlJson<{ items: { data?: { key?: string } }[] }>([
    ...['get', 'secrets', '-A', '--field-selector', 'metadata.name=edgewarden-control-key'],
  ]);
  for (const s of keys.items) {
    if (!s.data?.key) continue;
    const token = derive(Buffer.from(s.data.key, 'base64'), metadata.uid);
    if (controlTokenDigest(token) === digest) return token;
  }
  throw new Error(
    `no edgewarden-control-key Secret gives the ${kind} token of ${namespace}/${pod} (agent ${agent})`,
  );
}

/** A request to the API server with the kubeconfig's credentials and `extra` headers. */
async function apiRequest(
  url: URL,
  extra: Record<string, string>,
  method: 'GET' | 'POST' = 'GET',
  body?: string,
): Promise<{ status: number; body: string }> {
  connection ??= loadKubeConfig(process.env.KUBECONFIG || undefined);
  const { headers, ...tls } = await (await connection).requestOptions();
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { ...tls, method, headers: { ...headers, ...extra }, timeout: 30_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** A request to an agent pod's port 8080 through the API server, with its `kind` token. */
async function podRequest(
  namespace: string,
  pod: string,
  urlPath: string,
  kind: TokenKind,
  post?: unknown,
): Promise<string> {
  connection ??= loadKubeConfig(process.env.KUBECONFIG || undefined);
  const url = new URL(
    `/api/v1/namespaces/${namespace}/pods/${pod}:8080/proxy${urlPath}`,
    (await connection).server,
  );
  const method = post === undefined ? 'GET' : 'POST';
  const key = `${kind}/${namespace}/${pod}`;
  for (let attempt = 0; ; attempt++) {
    if (!tokens.has(key)) tokens.set(key, podToken(namespace, pod, kind));
    const token = await tokens.get(key)!.catch((error: unknown) => {
      tokens.delete(key);
      throw error;
    });
    const headers: Record<string, string> = { [agentTokenHeader]: token };
    if (method === 'POST') headers['content-type'] = 'application/json';
    const { status, body } = await apiRequest(
      url,
      headers,
      method,
      post === undefined ? undefined : JSON.stringify(post),
    );
    if (status >= 200 && status < 300) return body;
    // A refused token may be a recreated agent's (a new uid): derive it again, once.
    if ((status === 401 || status === 403) && attempt === 0) {
      tokens.delete(key);
      continue;
    }
    throw new Error(`${method} ${url.pathname}: HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/** GET `urlPath` of an agent pod's port 8080 through the API server, with its read token. */
export const podGet = (namespace: string, pod: string, urlPath: string): Promise<string> =>
  podRequest(namespace, pod, urlPath, 'read');

/** POST `body` (JSON) to `urlPath` of an agent pod through the API server, with its triage token. */
export const podPostTriage = (
  namespace: string,
  pod: string,
  urlPath: string,
  body: unknown,
): Promise<string> => podRequest(namespace, pod, urlPath, 'triage', body);

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
