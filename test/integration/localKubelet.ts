// A kubelet for one pod, on this machine: it runs the pod's container as a local process the
// way a container runtime would, from nothing but the Pod object the API server holds and the
// image's Dockerfile. kwok plays the kubelet for every other pod (status only); this one is
// for the contract tests, which must prove that what the operator puts in a pod template is
// enough for the agent (or the exporter) to work:
//  - the environment is exactly the container's `env`: values, Secret and ConfigMap keys read
//    from the API server, downward-API fields; plus the image's PATH and the API server's
//    address in KUBERNETES_SERVICE_HOST/_PORT, as a kubelet adds. Nothing of ours leaks in;
//  - the command is the image's ENTRYPOINT (read from the Dockerfile) with the container's args,
//    run from the image's WORKDIR: the checkout is mounted at /app, node at /nodejs/bin/node,
//    where the distroless image has them;
//  - every volumeMount is a real mount at its mountPath, in a private mount namespace
//    (`unshare --mount`): configMap and secret volumes hold their keys as files, emptyDir and
//    claims are empty folders, and a projected volume holds a real bound service account
//    token from the TokenRequest API (with the cluster's CA and namespace, as admission asks); readOnly mounts and `readOnlyRootFilesystem` are read-only;
//  - the termination message file (terminationMessagePath, /dev/termination-log by default) is
//    a file of the pod's own, bind-mounted there and writable by any user, as the kubelet
//    makes it;
//  - it runs as the pod's runAsUser / runAsGroup / fsGroup, with no new privileges and every
//    capability dropped (`setpriv`), as the `restricted` profile asks;
//  - it then reports the pod's IP as 127.0.0.1 (the process shares this machine's network) and
//    sets the Ready condition from the container's own readiness probe (without one: ready
//    while the container runs), as a kubelet does;
//  - when the container ends, a pod that runs to completion (restartPolicy Never: Job pods)
//    gets its final status as a kubelet reports it: phase Succeeded or Failed, the container's
//    terminated state (exit code, 128+n for signal n, reason, the termination message), Ready
//    False. The Job controller counts the pod, and applies its podFailurePolicy, from that.
//    The pod's activeDeadlineSeconds is enforced (SIGTERM, then SIGKILL after the grace
//    period; phase Failed, reason DeadlineExceeded). A pod of restartPolicy Always is not
//    restarted: only its readiness turns False. OnFailure (restart in place) is refused.
// It needs root (mount namespaces, changing user), which CI has.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';

import { eventually, kubectl, kubectlJson, repoRoot } from './kube.js';

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}
/** A projected volume's source: what the ServiceAccount admission plugin puts in a pod. */
interface ProjectedSource {
  serviceAccountToken?: { path: string; expirationSeconds?: number; audience?: string };
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items: { path: string; fieldRef?: { fieldPath: string }; mode?: number }[] };
}
interface Volume {
  name: string;
  projected?: { sources: ProjectedSource[]; defaultMode?: number };
  configMap?: { name: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  secret?: { secretName: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  emptyDir?: Record<string, unknown>;
  persistentVolumeClaim?: { claimName: string };
}
interface Probe {
  httpGet?: { path: string; port: number | string };
}
interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  readinessProbe?: Probe;
  terminationMessagePath?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
  securityContext?: {
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
}
export interface Pod {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    containers: Container[];
    initContainers?: unknown[];
    volumes?: Volume[];
    serviceAccountName?: string;
    restartPolicy?: 'Always' | 'OnFailure' | 'Never';
    activeDeadlineSeconds?: number;
    terminationGracePeriodSeconds?: number;
    securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  };
  status?: { podIP?: string; phase?: string; startTime?: string };
}

/** A container's `state.terminated`, as the kubelet reports it. */
export interface TerminatedState {
  exitCode: number;
  /** Completed (exit 0), Error (any other exit, a signal included), StartError (never ran). */
  reason: 'Completed' | 'Error' | 'StartError';
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export interface LocalPod {
  /** Folder of each volume on this machine, by volume name (to look at what the agent wrote). */
  volumes: Record<string, string>;
  /** The container's stdout and stderr so far. */
  log(): string;
  /** The exact environment the process got. */
  env: Record<string, string>;
  command: string[];
  /** The exit code, or null when a signal ended the process. */
  exited: Promise<number | null>;
  /**
   * For a pod that runs to completion (restartPolicy Never) or ran past its deadline: the
   * container's terminated state, resolved once the pod's final status (phase Succeeded or
   * Failed) is in the API server. Undefined for a restartPolicy Always pod that just exited.
   */
  terminated: Promise<TerminatedState | undefined>;
  /** Sends `signal` (SIGKILL by default) to the container's process at once: a crash, an OOM kill. */
  kill(signal?: NodeJS.Signals): void;
  /** SIGTERM, as a kubelet stops a container, waits for the final status, then cleans up. */
  stop(): Promise<void>;
}

/** The image's ENTRYPOINT, CMD and WORKDIR, from the last stage of the Dockerfile. */
export async function imageConfig(): Promise<{
  entrypoint: string[];
  cmd: string[];
  workdir: string;
}> {
  const text = await readFile(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const stages = text.split(/^FROM\s/m);
  const last = stages[stages.length - 1]!;
  const json = (instruction: string): string[] => {
    const m = new RegExp(`^${instruction}\\s+(\\[.*\\])\\s*$`, 'm').exec(last);
    if (!m) throw new Error(`the Dockerfile's last stage has no ${instruction} in JSON form`);
    return JSON.parse(m[1]!) as string[];
  };
  const workdir = /^WORKDIR\s+(\S+)\s*$/m.exec(last)?.[1] ?? '/';
  return { entrypoint: json('ENTRYPOINT'), cmd: json('CMD'), workdir };
}

const decode = (b64: string): Buffer => Buffer.from(b64, 'base64');

/** The hostPath of the volume a claim is bound to, if it is bound to one. */
async function claimHostPath(namespace: string, claim: string): Promise<string | undefined> {
  const pvc = await kubectlJson<{ spec?: { volumeName?: string } }>([
    'get',
    'pvc',
    claim,
    '-n',
    namespace,
  ]).catch(() => undefined);
  if (!pvc?.spec?.volumeName) return undefined;
  const pv = await kubectlJson<{ spec?: { hostPath?: { path: string } } }>([
    'get',
    'pv',
    pvc.spec.volumeName,
  ]).catch(() => undefined);
  const hostPath = pv?.spec?.hostPath?.path;
  if (hostPath === undefined) return undefined;
  if (!existsSync(hostPath))
    throw new Error(`claim ${claim}: its volume's hostPath ${hostPath} does not exist`);
  return hostPath;
}

async function secretData(namespace: string, name: string): Promise<Record<string, Buffer>> {
  const s = await kubectlJson<{ data?: Record<string, string> }>([
    'get',
    'secret',
    name,
    '-n',
    namespace,
  ]);
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, decode(v)]));
}

async function configMapData(namespace: string, name: string): Promise<Record<string, Buffer>> {
  const c = await kubectlJson<{
    data?: Record<string, string>;
    binaryData?: Record<string, string>;
  }>(['get', 'configmap', name, '-n', namespace]);
  return {
    ...Object.fromEntries(Object.entries(c.data ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
    ...Object.fromEntries(Object.entries(c.binaryData ?? {}).map(([k, v]) => [k, decode(v)])),
  };
}

/**
 * KUBERNETES_SERVICE_HOST and _PORT, which a kubelet gives every container (enableServiceLinks
 * or not): the `kubernetes` Service's ClusterIP, which kube-proxy routes to the API server.
 * There is no kube-proxy here, so they name the API server's own address, where that
 * ClusterIP would lead.
 */
async function apiServerEnv(): Promise<Record<string, string>> {
  const server = new URL(
    await kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}']),
  );
  return {
    KUBERNETES_SERVICE_HOST: server.hostname,
    KUBERNETES_SERVICE_PORT: server.port || '443',
    KUBERNETES_SERVICE_PORT_HTTPS: server.port || '443',
  };
}

/** A downward-API field of the pod. */
function podField(pod: Pod, fieldPath: string): string {
  if (fieldPath === 'metadata.name') return pod.metadata.name;
  if (fieldPath === 'metadata.namespace') return pod.metadata.namespace;
  if (fieldPath === 'metadata.uid') return pod.metadata.uid;
  if (fieldPath === 'spec.serviceAccountName') return pod.spec.serviceAccountName ?? 'default';
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (m) return pod.metadata[m[1] as 'labels' | 'annotations']?.[m[2]!] ?? '';
  throw new Error(`fieldRef ${fieldPath} is not supported by the local kubelet`);
}

/** The container's environment, resolved as the kubelet does. */
export async function resolveEnv(pod: Pod, container: Container): Promise<Record<string, string>> {
  if (container.envFrom?.length) throw new Error('envFrom is not supported by the local kubelet');
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.value !== undefined) {
      // $(VAR) references to earlier variables, as the kubelet expands them.
      env[v.name] = v.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, n: string) =>
        n in env ? env[n]! : all,
      );
      continue;
    }
    const from = v.valueFrom;
    if (from?.fieldRef) {
      env[v.name] = podField(pod, from.fieldRef.fieldPath);
      continue;
    }
    const ref = from?.secretKeyRef ?? from?.configMapKeyRef;
    if (!ref) throw new Error(`env ${v.name}: no value and no supported valueFrom`);
    const read = from?.secretKeyRef ? secretData : configMapData;
    const data: Record<string, Buffer> = await read(pod.metadata.namespace, ref.name).catch(
      (error: unknown) => {
        if (ref.optional) return {};
        throw error;
      },
    );
    const value = data[ref.key];
    if (value === undefined) {
      if (ref.optional) continue;
      throw new Error(
        `env ${v.name}: key ${ref.key} not in ${ref.name} (CreateContainerConfigError)`,
      );
    }
    env[v.name] = value.toString('utf8');
  }
  return env;
}

/** Fills a volume's folder as the kubelet would; returns the folder. */
/** Writes the keys of a configMap or secret (all, or the items listed) as files in `dir`. */
async function writeKeys(
  dir: string,
  what: string,
  data: Record<string, Buffer>,
  items: KeyToPath[] | undefined,
  defaultMode: number,
): Promise<void> {
  for (const item of items ?? Object.keys(data).map((key): KeyToPath => ({ key, path: key }))) {
    const value = data[item.key];
    if (value === undefined) throw new Error(`${what}: no key ${item.key}`);
    const file = path.join(dir, item.path);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, value);
    await chmod(file, item.mode ?? defaultMode);
  }
}

/**
 * A projected volume, as the kubelet fills it. The service account token is a real one: the
 * TokenRequest API (through kubectl) issues it for the pod's ServiceAccount, bound to this pod
 * and with the expiry asked for, so the API server authenticates the process as that account
 * and RBAC decides what it may do. The kubelet renews it at 80% of its life; tests run far
 * shorter than the hour admission asks for, so it is not renewed here.
 */
async function prepareProjected(pod: Pod, volume: Volume, dir: string): Promise<void> {
  const mode = volume.projected!.defaultMode ?? 0o644;
  const ns = pod.metadata.namespace;
  const optionally = (optional: boolean | undefined) => (error: unknown) => {
    if (optional) return {};
    throw error;
  };
  for (const source of volume.projected!.sources) {
    if (source.serviceAccountToken) {
      const t = source.serviceAccountToken;
      const token = await kubectl([
        'create',
        'token',
        pod.spec.serviceAccountName ?? 'default',
        '-n',
        ns,
        '--bound-object-kind=Pod',
        `--bound-object-name=${pod.metadata.name}`,
        `--bound-object-uid=${pod.metadata.uid}`,
        `--duration=${t.expirationSeconds ?? 3600}s`,
        ...(t.audience ? [`--audience=${t.audience}`] : []),
      ]);
      await writeKeys(
        dir,
        volume.name,
        { token: Buffer.from(token.trim()) },
        [{ key: 'token', path: t.path }],
        mode,
      );
    } else if (source.configMap) {
      const c = source.configMap;
      const data = await configMapData(ns, c.name).catch(optionally(c.optional));
      await writeKeys(dir, `volume ${volume.name}`, data, c.items, mode);
    } else if (source.secret) {
      const c = source.secret;
      const data = await secretData(ns, c.name).catch(optionally(c.optional));
      await writeKeys(dir, `volume ${volume.name}`, data, c.items, mode);
    } else if (source.downwardAPI) {
      for (const item of source.downwardAPI.items) {
        if (!item.fieldRef)
          throw new Error(`volume ${volume.name}: only fieldRef downward-API items are supported`);
        const file = path.join(dir, item.path);
        await writeFile(file, podField(pod, item.fieldRef.fieldPath));
        await chmod(file, item.mode ?? mode);
      }
    } else {
      throw new Error(`volume ${volume.name}: a projected source the local kubelet does not know`);
    }
  }
}

async function prepareVolume(pod: Pod, volume: Volume, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (volume.projected) return prepareProjected(pod, volume, dir);
  const source = volume.configMap
    ? {
        data: () => configMapData(pod.metadata.namespace, volume.configMap!.name),
        ...volume.configMap,
      }
    : volume.secret
      ? {
          data: () => secretData(pod.metadata.namespace, volume.secret!.secretName),
          ...volume.secret,
        }
      : undefined;
  if (source) {
    const data = await source.data();
    await writeKeys(dir, `volume ${volume.name}`, data, source.items, source.defaultMode ?? 0o644);
    return;
  }
  if (volume.emptyDir || volume.persistentVolumeClaim) return;
  throw new Error(
    `volume ${volume.name}: only configMap, secret, projected, emptyDir and claims are supported`,
  );
}

/** Now, as the API server stores times (RFC 3339, whole seconds). */
const timestamp = (at = new Date()): string => at.toISOString().replace(/\.\d+Z$/, 'Z');

/** A strategic-merge patch of the pod's status subresource. */
/** Patches the pod's status subresource, as a kubelet reports it. */
export async function patchStatus(
  pod: Pod,
  status: Record<string, unknown>,
  type = 'strategic',
): Promise<void> {
  await kubectl([
    'patch',
    'pod',
    pod.metadata.name,
    '-n',
    pod.metadata.namespace,
    '--subresource=status',
    `--type=${type}`,
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** The pod, once the scheduler has put it on a node (what a kubelet waits for). */
export async function scheduledPod(
  namespace: string,
  name: string,
  timeoutMs = 60_000,
): Promise<Pod> {
  return eventually(
    `pod ${name}, scheduled`,
    async () => {
      const p = await kubectlJson<Pod & { spec: { nodeName?: string } }>([
        'get',
        'pod',
        name,
        '-n',
        namespace,
      ]);
      return p.spec.nodeName ? p : undefined;
    },
    timeoutMs,
  );
}

/** Sets the pod's IP and its Ready condition, as a kubelet reports them. */
async function reportStatus(
  pod: Pod,
  ready: boolean,
  ip: string,
  container?: Record<string, unknown>,
): Promise<void> {
  const now = timestamp();
  const status = ready ? 'True' : 'False';
  // The IP lists are replaced whole (a merge patch); conditions are merged by type.
  await patchStatus(pod, { podIP: ip, podIPs: [{ ip }] }, 'merge');
  await patchStatus(pod, {
    conditions: [
      { type: 'Ready', status, lastTransitionTime: now },
      { type: 'ContainersReady', status, lastTransitionTime: now },
    ],
    // On a node of our own (no kwok), the container's status is ours to report too.
    ...(container ? { containerStatuses: [{ ...container, ready }] } : {}),
  });
}

/**
 * A node of this kubelet's own (test/control-plane/localNode.ts) instead of a kwok node: the
 * pod gets its own network namespace and IP on the node's pod network, and this kubelet
 * reports its whole status (kwok reports none of it).
 */
export interface OwnNode {
  /** The pod's IP, and its network namespace (a name under /run/netns). */
  ip: string;
  netns: string;
  /** The node's IP (status.hostIP). */
  hostIP: string;
  /** The API server's address as the pod reaches it (KUBERNETES_SERVICE_HOST / _PORT). */
  apiServer: { host: string; port: string };
}

// The kubelet's limits (pkg/kubelet/container/runtime.go): a termination message file is read
// to its last 4 KiB; FallbackToLogsOnError takes the last 80 log lines, at most their last 2 KiB.
const MAX_TERMINATION_MESSAGE = 4096;
const MAX_TERMINATION_LOG_LINES = 80;
const MAX_TERMINATION_LOG_BYTES = 2048;

const lastBytes = (data: Buffer, max: number): string =>
  data.subarray(Math.max(0, data.length - max)).toString('utf8');

/** The log's tail, as the kubelet reads it for FallbackToLogsOnError. */
function logTail(output: string): string {
  const lines = output.split(/(?<=\n)/).slice(-MAX_TERMINATION_LOG_LINES);
  return lastBytes(Buffer.from(lines.join('')), MAX_TERMINATION_LOG_BYTES);
}

/**
 * Mount points this process made on the host, with how many running pods use each: a path
 * is removed when its last user stops, not while another pod's namespace still mounts on it
 * (unlinking a mount point detaches the mounts on it in every namespace).
 */
const madeMountPoints = new Map<string, number>();

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the pod's one container as a local process and keeps its status (IP, readiness) up to
 * date in the API server; reports the container's end for a pod that runs to completion.
 */
export async function runPodLocally(pod: Pod, node?: OwnNode): Promise<LocalPod> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the local kubelet needs root (mount namespaces, setpriv): run the tests as root, as CI does',
    );
  if (pod.spec.containers.length !== 1 || pod.spec.initContainers?.length)
    throw new Error('the local kubelet runs pods of exactly one container');
  const restartPolicy = pod.spec.restartPolicy ?? 'Always';
  if (restartPolicy === 'OnFailure')
    throw new Error(
      'restartPolicy OnFailure: a kubelet restarts a failed container in place, which the ' +
        'local kubelet does not do; use Never (as a Job with a podFailurePolicy must)',
    );
  const container = pod.spec.containers[0]!;
  const podSecurity = pod.spec.securityContext ?? {};
  const security = container.securityContext ?? {};
  const uid = security.runAsUser ?? podSecurity.runAsUser;
  const gid = security.runAsGroup ?? podSecurity.runAsGroup ?? uid;
  const fsGroup = podSecurity.fsGroup;
  if (uid === undefined || gid === undefined)
    throw new Error('the pod sets no runAsUser: the local kubelet will not run it as root');
  const mountPaths = (container.volumeMounts ?? []).map((m) => m.mountPath);
  const terminationPath = container.terminationMessagePath ?? '/dev/termination-log';
  if (terminationPath && mountPaths.some((m) => terminationPath.startsWith(`${m}/`)))
    throw new Error(
      `terminationMessagePath ${terminationPath} inside a volume is not supported by the local kubelet`,
    );

  const podIP = node?.ip ?? '127.0.0.1';
  const containerStatus = (startedAt: string): Record<string, unknown> => ({
    name: container.name,
    image: container.image ?? '',
    imageID: '',
    containerID: `local://${pod.metadata.uid}`,
    restartCount: 0,
    started: true,
    state: { running: { startedAt } },
  });
  let started: Pod;
  if (node) {
    // Our own node: the pod starts now, with its own IP, as a kubelet reports it.
    const now = timestamp();
    await patchStatus(
      pod,
      {
        phase: 'Running',
        startTime: now,
        hostIP: node.hostIP,
        hostIPs: [{ ip: node.hostIP }],
        podIP,
        podIPs: [{ ip: podIP }],
      },
      'merge',
    );
    await patchStatus(pod, {
      conditions: [
        { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: 'False', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'False', lastTransitionTime: now },
      ],
      containerStatuses: [{ ...containerStatus(now), ready: false }],
    });
    started = { ...pod, status: { ...pod.status, startTime: now } };
  } else {
    // kwok plays the pod's start on its fake node (phase Running, an IP of its own): wait for
    // it, so that nothing kwok writes can land after the container's end has been reported.
    started = await eventually(
      `kwok to start pod ${pod.metadata.name} on its node`,
      async () => {
        const p = await kubectlJson<Pod>([
          'get',
          'pod',
          pod.metadata.name,
          '-n',
          pod.metadata.namespace,
        ]);
        return p.status?.podIP ? p : undefined;
      },
      30_000,
    );
  }

  const work = await mkdtemp(path.join(tmpdir(), `kubelet-${pod.metadata.name}-`));
  await chmod(work, 0o755);
  const volumes: Record<string, string> = {};
  for (const v of pod.spec.volumes ?? []) {
    // A claim bound to a hostPath volume is that path, as a kubelet mounts it (no ownership
    // change, and it outlives the pod); any other claim is a fresh folder of the pod's own.
    const hostPath = v.persistentVolumeClaim
      ? await claimHostPath(pod.metadata.namespace, v.persistentVolumeClaim.claimName)
      : undefined;
    if (hostPath !== undefined) {
      volumes[v.name] = hostPath;
      continue;
    }
    const dir = path.join(work, 'volumes', v.name);
    await prepareVolume(pod, v, dir);
    // fsGroup: the volume belongs to the group, writable by it, as the kubelet sets it.
    const group = fsGroup ?? gid;
    await run('chown', ['-R', `${v.emptyDir || v.persistentVolumeClaim ? uid : 0}:${group}`, dir]);
    await chmod(dir, v.emptyDir || v.persistentVolumeClaim ? 0o2775 : 0o755);
    volumes[v.name] = dir;
  }
  const image = await imageConfig();
  const command = [
    ...(container.command ?? image.entrypoint),
    ...(container.args ?? (container.command ? [] : image.cmd)),
  ];
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOSTNAME: pod.metadata.name,
    ...(node
      ? {
          KUBERNETES_SERVICE_HOST: node.apiServer.host,
          KUBERNETES_SERVICE_PORT: node.apiServer.port,
          KUBERNETES_SERVICE_PORT_HTTPS: node.apiServer.port,
        }
      : await apiServerEnv()),
    ...(await resolveEnv(pod, container)),
  };

  // Mount points that do not exist on this machine are made (and removed afterwards). Sync
  // calls: two pods started at once must not both think they made the same path.
  const used: string[] = [];
  const mountPoint = (target: string, file: boolean): void => {
    const chain = [target];
    for (let d = path.dirname(target); d !== path.dirname(d); d = path.dirname(d)) chain.unshift(d);
    for (const [i, p] of chain.entries()) {
      if (!existsSync(p)) {
        if (file && i === chain.length - 1) writeFileSync(p, '');
        else mkdirSync(p);
        madeMountPoints.set(p, 0);
      }
      const users = madeMountPoints.get(p);
      if (users === undefined) continue;
      madeMountPoints.set(p, users + 1);
      used.push(p);
    }
  };
  const releaseMountPoints = async (): Promise<void> => {
    // Our mount points only, deepest first, and only while empty (rmdir refuses otherwise).
    for (const p of used.splice(0).reverse()) {
      const users = (madeMountPoints.get(p) ?? 1) - 1;
      if (users > 0) {
        madeMountPoints.set(p, users);
        continue;
      }
      madeMountPoints.delete(p);
      await rm(p)
        .catch(() => rmdir(p))
        .catch(() => undefined);
    }
  };

  const binds: { source: string; target: string; readOnly: boolean }[] = [
    { source: repoRoot, target: '/app', readOnly: true },
    { source: process.execPath, target: '/nodejs/bin/node', readOnly: true },
  ];
  for (const m of container.volumeMounts ?? []) {
    if (m.subPath) throw new Error('subPath mounts are not supported by the local kubelet');
    const source = volumes[m.name];
    if (!source) throw new Error(`volumeMount ${m.mountPath}: no volume ${m.name}`);
    binds.push({ source, target: m.mountPath, readOnly: m.readOnly ?? false });
  }
  // The termination message file: the pod's own, writable by any user (the kubelet makes it
  // 0666), read by this kubelet when the container ends.
  const terminationFile = path.join(work, 'termination-log');
  await writeFile(terminationFile, '');
  await chmod(terminationFile, 0o666);
  if (terminationPath)
    binds.push({ source: terminationFile, target: terminationPath, readOnly: false });
  // A target that holds later sources (/tmp holds our work folder) is mounted last.
  binds.sort(
    (a, b) =>
      Number(binds.some((x) => x.source.startsWith(`${a.target}/`))) -
      Number(binds.some((x) => x.source.startsWith(`${b.target}/`))),
  );
  for (const b of binds) mountPoint(b.target, statSync(b.source).isFile());

  const script = [
    'set -e',
    ...binds.flatMap((b) => [
      `mount --bind ${shellQuote(b.source)} ${shellQuote(b.target)}`,
      ...(b.readOnly ? [`mount -o remount,bind,ro ${shellQuote(b.target)}`] : []),
    ]),
    // Last: a bind made after this would inherit the read-only flag.
    ...(security.readOnlyRootFilesystem ? ['mount -o remount,bind,ro /'] : []),
    `cd ${shellQuote(container.workingDir ?? image.workdir)}`,
    // The container starts here: say so on fd 3, which the container itself does not get.
    'printf started >&3',
    [
      'exec setpriv',
      `--reuid=${uid}`,
      `--regid=${gid}`,
      fsGroup !== undefined ? `--groups=${fsGroup}` : '--clear-groups',
      ...(security.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []),
      ...(security.capabilities?.drop?.includes('ALL')
        ? ['--inh-caps=-all', '--bounding-set=-all']
        : []),
      '--',
      ...command.map(shellQuote),
      '3>&-',
    ].join(' '),
  ].join('\n');
  // On our own node, in the pod's network namespace: its own IP, its own ports.
  const unshare = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script];
  const argv = node ? ['nsenter', `--net=/run/netns/${node.netns}`, ...unshare] : unshare;
  const proc: ChildProcess = spawn(argv[0]!, argv.slice(1), {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  let startedAt: string | undefined;
  const marker = proc.stdio[3] as Readable;
  marker.on('data', () => (startedAt ??= timestamp()));
  const markerClosed = new Promise<void>((resolve) => marker.on('close', () => resolve()));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const exited = ended.then(({ code }) => code);
  const running = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const kill = (signal: NodeJS.Signals = 'SIGKILL'): void => {
    if (running()) proc.kill(signal);
  };

  // activeDeadlineSeconds, counted from the pod's start: the kubelet kills the pod (SIGTERM,
  // SIGKILL after the grace period) and fails it.
  let deadlineExceeded = false;
  const timers: NodeJS.Timeout[] = [];
  if (pod.spec.activeDeadlineSeconds !== undefined) {
    const start = Date.parse(started.status?.startTime ?? '') || Date.now();
    const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
    const left = start + pod.spec.activeDeadlineSeconds * 1000 - Date.now();
    timers.push(
      setTimeout(
        () => {
          deadlineExceeded = true;
          kill('SIGTERM');
          timers.push(setTimeout(() => kill('SIGKILL'), grace * 1000).unref());
        },
        Math.max(0, left),
      ).unref(),
    );
  }

  // The readiness probe, every second, reported on the pod as the kubelet reports it. Without
  // a probe, the container is ready while it runs.
  const probe = container.readinessProbe?.httpGet;
  const port =
    typeof probe?.port === 'number'
      ? probe.port
      : container.ports?.find((p) => p.name === probe?.port)?.containerPort;
  let stopped = false;
  let wake = (): void => undefined;
  let lastReady: boolean | undefined;
  const prober = (async () => {
    while (!stopped) {
      let ready = false;
      if (!container.readinessProbe) ready = startedAt !== undefined && running();
      else if (probe && port)
        ready = await fetch(`http://${podIP}:${port}${probe.path}`, {
          signal: AbortSignal.timeout(1000),
        }).then(
          (r) => r.ok,
          () => false,
        );
      if (ready !== lastReady && !stopped) {
        await reportStatus(
          pod,
          ready,
          podIP,
          node && startedAt ? containerStatus(startedAt) : undefined,
        ).catch((error: Error) => {
          output += `local kubelet: status not reported: ${error.message}\n`;
        });
        lastReady = ready;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  /** Stops the prober, and waits for a status write it has under way. */
  const stopProber = async (): Promise<void> => {
    stopped = true;
    wake();
    await prober;
  };

  // The container's end, reported as the kubelet does. The prober stops first: none of its
  // writes may land after the final status.
  const terminated = (async (): Promise<TerminatedState | undefined> => {
    const { code, signal } = await ended;
    const finishedAt = timestamp();
    for (const t of timers) clearTimeout(t);
    // The last output and the start marker may still be in their pipes.
    await Promise.race([
      Promise.all([markerClosed, new Promise((r) => proc.once('close', r))]),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    if (restartPolicy !== 'Never' && !deadlineExceeded) return undefined;
    await stopProber();

    const containerID = `local://${proc.pid}`;
    let state: TerminatedState;
    if (startedAt === undefined) {
      // The mounts or the working directory failed: the runtime's StartError.
      state = {
        exitCode: 128,
        reason: 'StartError',
        message: `local kubelet: the container did not start: ${lastBytes(Buffer.from(output), MAX_TERMINATION_MESSAGE)}`,
        startedAt: timestamp(new Date(0)),
        finishedAt,
        containerID,
      };
    } else {
      const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
      let message = terminationPath
        ? lastBytes(await readFile(terminationFile), MAX_TERMINATION_MESSAGE)
        : '';
      if (
        message === '' &&
        exitCode !== 0 &&
        container.terminationMessagePolicy === 'FallbackToLogsOnError'
      )
        message = logTail(output);
      state = {
        exitCode,
        reason: exitCode === 0 ? 'Completed' : 'Error',
        ...(message ? { message } : {}),
        startedAt,
        finishedAt,
        containerID,
      };
    }
    const phase = state.exitCode === 0 && !deadlineExceeded ? 'Succeeded' : 'Failed';
    const reason = phase === 'Succeeded' ? 'PodCompleted' : 'PodFailed';
    const now = timestamp();
    // One patch, so that no reader (the Job controller) sees a terminal phase without the
    // exit code. containerStatuses has no merge key: the list is replaced whole.
    await patchStatus(pod, {
      phase,
      ...(deadlineExceeded
        ? {
            reason: 'DeadlineExceeded',
            message: 'Pod was active on the node longer than the specified deadline',
          }
        : {}),
      podIP,
      podIPs: [{ ip: podIP }],
      conditions: [
        { type: 'Ready', status: 'False', reason, lastTransitionTime: now },
        { type: 'ContainersReady', status: 'False', reason, lastTransitionTime: now },
      ],
      containerStatuses: [
        {
          name: container.name,
          image: container.image ?? '',
          imageID: '',
          containerID: state.containerID,
          ready: false,
          restartCount: 0,
          started: false,
          state: { terminated: state },
        },
      ],
    });
    return state;
  })();
  // Whoever awaits it sees a failure; nobody awaiting it must not crash the run.
  terminated.catch((error: Error) => {
    output += `local kubelet: final status not reported: ${error.message}\n`;
  });

  return {
    volumes,
    env,
    command,
    log: () => output,
    exited,
    terminated,
    kill,
    async stop() {
      if (restartPolicy !== 'Never') await stopProber();
      if (running()) {
        proc.kill('SIGTERM');
        await exited;
      }
      await terminated.catch(() => undefined);
      await stopProber();
      await releaseMountPoints();
      await rm(work, { recursive: true, force: true });
    },
  };
}

async function run(command: string, args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')}: exit ${code}`)),
    );
  });
}
