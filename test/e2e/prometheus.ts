// A real Prometheus for the end-to-end suites: 3.x, built with every service discovery from
// the Go module proxy by test/control-plane/build-binaries.sh, started as a process on a free
// loopback port with its own config and a data folder in a temporary directory, stopped by
// its pid. It finds pods with its own Kubernetes discovery against the test cluster's API
// server (kubernetesPodDiscovery), and relabels them with the rules the Prometheus Operator
// writes for the chart's PodMonitor (podMonitorRelabelling), so the series get the labels
// they get in a cluster: namespace, pod, container, endpoint, job.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

import { locateTools } from '../control-plane/controlPlane.js';
import { freePort } from '../services/net.js';

export interface PrometheusServer {
  url: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

/** The Prometheus build-binaries.sh made (the e2e global setup names it too). */
async function binary(): Promise<string> {
  return process.env.EDGEWARDEN_PROMETHEUS ?? (await locateTools(['prometheus'])).prometheus;
}

/** Starts Prometheus with `config` (a prometheus.yml as an object); resolves once it is ready. */
export async function startPrometheus(config: unknown): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    await binary(),
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1d',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const collect = (d: Buffer) => (log = (log + d.toString()).slice(-20_000));
  proc.stdout!.on('data', collect);
  proc.stderr!.on('data', collect);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prometheus exited at start:\n${log}`);
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`prometheus did not become ready:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    dir,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Pod discovery: Prometheus's own, against the test cluster's API server

/**
 * A `kubernetes_sd_configs` entry (role pod) for `namespaces`, reaching the API server the
 * suites' kubeconfig names with its CA and client certificate, as a Prometheus outside the
 * cluster is configured. Prometheus lists and watches the pods itself, and each container
 * port becomes a target with the `__meta_kubernetes_pod_*` labels the relabelling reads.
 */
export async function kubernetesPodDiscovery(
  namespaces: string[],
): Promise<Record<string, unknown>> {
  const config = parse(await readFile(process.env.KUBECONFIG!, 'utf8')) as {
    'current-context': string;
    contexts: { name: string; context: { cluster: string; user: string } }[];
    clusters: { name: string; cluster: { server: string; 'certificate-authority': string } }[];
    users: { name: string; user: { 'client-certificate': string; 'client-key': string } }[];
  };
  const context = config.contexts.find((c) => c.name === config['current-context'])!.context;
  const cluster = config.clusters.find((c) => c.name === context.cluster)!.cluster;
  const user = config.users.find((u) => u.name === context.user)!.user;
  return {
    role: 'pod',
    api_server: cluster.server,
    namespaces: { names: namespaces },
    tls_config: {
      ca_file: cluster['certificate-authority'],
      cert_file: user['client-certificate'],
      key_file: user['client-key'],
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The Prometheus Operator's scrape configs for the chart's monitors

export interface PodMonitor {
  metadata: { name: string; namespace: string };
  spec: {
    selector: { matchLabels?: Record<string, string> };
    podMetricsEndpoints: { port: string; path?: string; interval?: string }[];
  };
}

export interface ServiceMonitor {
  metadata: { name: string; namespace: string };
  spec: { endpoints: { port: string; path?: string; interval?: string }[] };
}

/** Prometheus's strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes _. */
const sanitize = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * The relabelling the Prometheus Operator generates for a PodMonitor's endpoint (its
 * generatePodMonitorConfig): pods that have finished dropped, the selector's labels and the
 * endpoint's port kept, then the target labels namespace, container, pod, job
 * (<namespace>/<name> of the PodMonitor) and endpoint (the port's name).
 */
export function podMonitorRelabelling(pm: PodMonitor, endpoint = 0): Record<string, unknown>[] {
  const ep = pm.spec.podMetricsEndpoints[endpoint]!;
  return [
    { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
    {
      action: 'drop',
      source_labels: ['__meta_kubernetes_pod_phase'],
      regex: '(Failed|Succeeded)',
    },
    ...Object.entries(pm.spec.selector.matchLabels ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => ({
        action: 'keep',
        source_labels: [
          `__meta_kubernetes_pod_label_${sanitize(k)}`,
          `__meta_kubernetes_pod_labelpresent_${sanitize(k)}`,
        ],
        regex: `(${v});true`,
      })),
    {
      action: 'keep',
      source_labels: ['__meta_kubernetes_pod_container_port_name'],
      regex: ep.port,
    },
    { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
    { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
    { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
    {
      target_label: 'job',
      replacement: `${pm.metadata.namespace}/${pm.metadata.name}`,
    },
    { target_label: 'endpoint', replacement: ep.port },
  ];
}

// ---------------------------------------------------------------------------------------------
// Queries

export interface Series {
  metric: Record<string, string>;
  values?: [number, string][];
  value?: [number, string];
}

async function api<T>(
  base: string,
  p: string,
  params: Record<string, string | string[]>,
): Promise<T> {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params))
    for (const one of Array.isArray(v) ? v : [v]) query.append(k, one);
  const res = await fetch(`${base}${p}?${query.toString()}`);
  const json = (await res.json()) as { status: string; data: T; error?: string };
  if (json.status !== 'success') throw new Error(`${p} ${JSON.stringify(params)}: ${json.error}`);
  return json.data;
}

export const instantQuery = async (base: string, query: string, time?: number): Promise<Series[]> =>
  (
    await api<{ result: Series[] }>(base, '/api/v1/query', {
      query,
      ...(time !== undefined ? { time: String(time) } : {}),
    })
  ).result;

export const rangeQuery = async (
  base: string,
  query: string,
  start: number,
  end: number,
  step: number,
): Promise<Series[]> =>
  (
    await api<{ result: Series[] }>(base, '/api/v1/query_range', {
      query,
      start: String(start),
      end: String(end),
      step: String(step),
    })
  ).result;

/** Values of `label` on series matching `selector` between start and end (Grafana's label_values()). */
export const labelValues = (
  base: string,
  label: string,
  selector: string,
  start: number,
  end: number,
): Promise<string[]> =>
  api<string[]>(base, `/api/v1/label/${encodeURIComponent(label)}/values`, {
    'match[]': selector,
    start: String(start),
    end: String(end),
  });

/** The labels of the targets Prometheus scrapes now. */
export async function activeTargets(
  base: string,
): Promise<{ labels: Record<string, string>; health: string; lastError: string }[]> {
  const res = await fetch(`${base}/api/v1/targets?state=active`);
  const json = (await res.json()) as {
    data: {
      activeTargets: { labels: Record<string, string>; health: string; lastError: string }[];
    };
  };
  return json.data.activeTargets;
}
