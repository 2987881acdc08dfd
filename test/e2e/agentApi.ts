// An agent pod's HTTP API as a user reaches it from a laptop: through the API server's pod
// proxy (`kubectl get --raw`), with the user's own kubeconfig; no pod IP or port-forward.
import { kubectl } from '../integration/kube.js';

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

/** GET `urlPath` of an agent pod's port 8080, through the API server. */
export const podGet = (namespace: string, pod: string, urlPath: string): Promise<string> =>
  kubectl(['get', '--raw', `/api/v1/namespaces/${namespace}/pods/${pod}:8080/proxy${urlPath}`]);

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
