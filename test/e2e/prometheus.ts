// A real Prometheus for the end-to-end suites: Debian's `prometheus` package (2.42), started
// as a process on a free loopback port with its own config and a data folder in a temporary
// directory, stopped by its pid.
//
// Debian builds Prometheus without Kubernetes service discovery (`kubernetes_sd_configs` is
// not a field its config knows), so the pods are discovered here instead: an HTTP service
// discovery endpoint (`http_sd_configs`, which Debian's build has) that lists the pods the API
// server holds, each container port a target carrying exactly the `__meta_kubernetes_pod_*`
// labels Prometheus's own `role: pod` discovery gives it (discovery/kubernetes/pod.go). The
// relabelling is then Prometheus's, from the rules the Prometheus Operator writes for the
// chart's PodMonitor (podMonitorRelabelling), so the series get the labels they get in a
// cluster: namespace, pod, container, endpoint, job.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

import { freePort } from '../services/net.js';
import { kubectlJson } from '../integration/kube.js';

export interface PrometheusServer {
  url: string;
  dir: string;
  log(): string;
  stop(): Promise<void>;
}

function binary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), '/usr/bin'])
    try {
      accessSync(path.join(dir, 'prometheus'), constants.X_OK);
      return path.join(dir, 'prometheus');
    } catch {
      // not here
    }
  throw new Error(
    "prometheus is not installed: install Debian's `prometheus` package (`bash .ci/run` does it as root)",
  );
}

/** Starts Prometheus with `config` (a prometheus.yml as an object); resolves once it is ready. */
export async function startPrometheus(config: unknown): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    binary(),
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
// Pod discovery over HTTP

interface PodObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec: {
    nodeName?: string;
    containers: {
      name: string;
      image?: string;
      ports?: { name?: string; containerPort: number; protocol?: string }[];
    }[];
    initContainers?: PodObject['spec']['containers'];
  };
  status?: {
    podIP?: string;
    hostIP?: string;
    phase?: string;
    conditions?: { type: string; status: string }[];
  };
}

/** Prometheus's strutil.SanitizeLabelName: every character outside [a-zA-Z0-9_] becomes _. */
const sanitize = (name: string): string => name.replace(/[^a-zA-Z0-9_]/g, '_');

/** The target groups Prometheus's `role: pod` discovery makes of one pod. */
export function podTargetGroup(pod: PodObject): {
  targets: string[];
  labels: Record<string, string>;
}[] {
  if (!pod.status?.podIP) return []; // pod.go: a pod without an IP has no targets yet
  const m = pod.metadata;
  const controller = m.ownerReferences?.find((o) => o.controller);
  const ready = pod.status.conditions?.find((c) => c.type === 'Ready')?.status ?? 'unknown';
  const podLabels: Record<string, string> = {
    __meta_kubernetes_namespace: m.namespace,
    __meta_kubernetes_pod_name: m.name,
    __meta_kubernetes_pod_ip: pod.status.podIP,
    __meta_kubernetes_pod_ready: ready.toLowerCase(),
    __meta_kubernetes_pod_phase: pod.status.phase ?? '',
    __meta_kubernetes_pod_node_name: pod.spec.nodeName ?? '',
    __meta_kubernetes_pod_host_ip: pod.status.hostIP ?? '',
    __meta_kubernetes_pod_uid: m.uid,
    ...(controller
      ? {
          __meta_kubernetes_pod_controller_kind: controller.kind,
          __meta_kubernetes_pod_controller_name: controller.name,
        }
      : {}),
  };
  for (const [k, v] of Object.entries(m.labels ?? {})) {
    podLabels[`__meta_kubernetes_pod_label_${sanitize(k)}`] = v;
    podLabels[`__meta_kubernetes_pod_labelpresent_${sanitize(k)}`] = 'true';
  }
  for (const [k, v] of Object.entries(m.annotations ?? {})) {
    podLabels[`__meta_kubernetes_pod_annotation_${sanitize(k)}`] = v;
    podLabels[`__meta_kubernetes_pod_annotationpresent_${sanitize(k)}`] = 'true';
  }
  const groups: { targets: string[]; labels: Record<string, string> }[] = [];
  const containers = [
    ...pod.spec.containers.map((c) => ({ c, init: false })),
    ...(pod.spec.initContainers ?? []).map((c) => ({ c, init: true })),
  ];
  for (const { c, init } of containers) {
    const container = {
      __meta_kubernetes_pod_container_name: c.name,
      __meta_kubernetes_pod_container_image: c.image ?? '',
      __meta_kubernetes_pod_container_init: String(init),
    };
    if (!c.ports?.length) {
      // A container without ports is one target at the pod's IP (for relabelling to a port).
      groups.push({ targets: [pod.status.podIP], labels: { ...podLabels, ...container } });
      continue;
    }
    for (const port of c.ports)
      groups.push({
        targets: [`${pod.status.podIP}:${port.containerPort}`],
        labels: {
          ...podLabels,
          ...container,
          __meta_kubernetes_pod_container_port_name: port.name ?? '',
          __meta_kubernetes_pod_container_port_number: String(port.containerPort),
          __meta_kubernetes_pod_container_port_protocol: port.protocol ?? 'TCP',
        },
      });
  }
  return groups;
}

/**
 * An HTTP service-discovery endpoint serving the pods of `namespaces` as Prometheus's pod
 * discovery would see them, read from the API server on every request (Prometheus asks every
 * refresh_interval).
 */
export async function startPodDiscovery(
  namespaces: string[],
): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const groups = [];
        for (const ns of namespaces) {
          const list = await kubectlJson<{ items: PodObject[] }>(['get', 'pods', '-n', ns]);
          groups.push(...list.items.flatMap(podTargetGroup));
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(groups));
      } catch (error) {
        res.writeHead(500).end(String(error));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pods`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
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
