// A kubelet for one pod, on this machine: it runs the pod's container as a local process the
// way a container runtime would, from nothing but the Pod object the API server holds and the
// image's Dockerfile. kwok plays the kubelet for every other pod (status only); this one is
// for the contract tests, which must prove that what the operator puts in a pod template is
// enough for the agent to work:
//  - the environment is exactly the container's `env`: values, Secret and ConfigMap keys read
//    from the API server, downward-API fields; plus the image's PATH. Nothing of ours leaks in;
//  - the command is the image's ENTRYPOINT (read from the Dockerfile) with the container's args,
//    run from the image's WORKDIR: the checkout is mounted at /app, node at /nodejs/bin/node,
//    where the distroless image has them;
//  - every volumeMount is a real mount at its mountPath, in a private mount namespace
//    (`unshare --mount`): configMap and secret volumes hold their keys as files, emptyDir and
//    claims are empty folders; readOnly mounts and `readOnlyRootFilesystem` are read-only;
//  - it runs as the pod's runAsUser / runAsGroup / fsGroup, with no new privileges and every
//    capability dropped (`setpriv`), as the `restricted` profile asks;
//  - it then reports the pod's IP as 127.0.0.1 (the process shares this machine's network) and
//    sets the Ready condition from the container's own readiness probe, as a kubelet does.
// It needs root (mount namespaces, changing user), which CI has.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { kubectl, kubectlJson, repoRoot } from './kube.js';

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
interface Volume {
  name: string;
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
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; subPath?: string }[];
  readinessProbe?: Probe;
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
    securityContext?: { runAsUser?: number; runAsGroup?: number; fsGroup?: number };
  };
  status?: { podIP?: string; phase?: string };
}

export interface LocalPod {
  /** Folder of each volume on this machine, by volume name (to look at what the agent wrote). */
  volumes: Record<string, string>;
  /** The container's stdout and stderr so far. */
  log(): string;
  /** The exact environment the process got. */
  env: Record<string, string>;
  command: string[];
  exited: Promise<number | null>;
  /** SIGTERM, as a kubelet stops a container, then cleans up. */
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
async function prepareVolume(pod: Pod, volume: Volume, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
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
    const items = source.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const item of items) {
      const value = data[item.key];
      if (value === undefined) throw new Error(`volume ${volume.name}: no key ${item.key}`);
      const file = path.join(dir, item.path);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, value);
      await chmod(file, (item as KeyToPath).mode ?? source.defaultMode ?? 0o644);
    }
    return;
  }
  if (volume.emptyDir || volume.persistentVolumeClaim) return;
  throw new Error(
    `volume ${volume.name}: only configMap, secret, emptyDir and claims are supported`,
  );
}

/** Sets the pod's IP and its Ready condition, as a kubelet reports them. */
async function reportStatus(pod: Pod, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const status = ready ? 'True' : 'False';
  const patch = (type: string, body: unknown): Promise<string> =>
    kubectl([
      'patch',
      'pod',
      pod.metadata.name,
      '-n',
      pod.metadata.namespace,
      '--subresource=status',
      `--type=${type}`,
      '-p',
      JSON.stringify(body),
    ]);
  // The IP lists are replaced whole (a merge patch); conditions are merged by type.
  await patch('merge', { status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } });
  await patch('strategic', {
    status: {
      conditions: [
        { type: 'Ready', status, lastTransitionTime: now },
        { type: 'ContainersReady', status, lastTransitionTime: now },
      ],
    },
  });
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the pod's one container as a local process and keeps its status (IP, readiness) up to
 * date in the API server until stopped.
 */
export async function runPodLocally(pod: Pod): Promise<LocalPod> {
  if (process.getuid?.() !== 0)
    throw new Error(
      'the local kubelet needs root (mount namespaces, setpriv): run the tests as root, as CI does',
    );
  if (pod.spec.containers.length !== 1 || pod.spec.initContainers?.length)
    throw new Error('the local kubelet runs pods of exactly one container');
  const container = pod.spec.containers[0]!;
  const work = await mkdtemp(path.join(tmpdir(), `kubelet-${pod.metadata.name}-`));
  await chmod(work, 0o755);
  const podSecurity = pod.spec.securityContext ?? {};
  const security = container.securityContext ?? {};
  const uid = security.runAsUser ?? podSecurity.runAsUser;
  const gid = security.runAsGroup ?? podSecurity.runAsGroup ?? uid;
  const fsGroup = podSecurity.fsGroup;
  if (uid === undefined || gid === undefined)
    throw new Error('the pod sets no runAsUser: the local kubelet will not run it as root');

  const volumes: Record<string, string> = {};
  for (const v of pod.spec.volumes ?? []) {
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
    ...(await resolveEnv(pod, container)),
  };

  // Mount points that do not exist on this machine are made (and removed afterwards).
  const made: string[] = [];
  const mountPoint = async (p: string, file = false): Promise<void> => {
    const missing: string[] = [];
    for (let d = file ? path.dirname(p) : p; !existsSync(d); d = path.dirname(d))
      missing.unshift(d);
    for (const d of missing) {
      await mkdir(d);
      made.push(d);
    }
    if (file && !existsSync(p)) {
      await writeFile(p, '');
      made.push(p);
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
  // A target that holds later sources (/tmp holds our work folder) is mounted last.
  binds.sort(
    (a, b) =>
      Number(binds.some((x) => x.source.startsWith(`${a.target}/`))) -
      Number(binds.some((x) => x.source.startsWith(`${b.target}/`))),
  );
  for (const b of binds) await mountPoint(b.target, b.target === '/nodejs/bin/node');

  const script = [
    'set -e',
    ...binds.flatMap((b) => [
      `mount --bind ${shellQuote(b.source)} ${shellQuote(b.target)}`,
      ...(b.readOnly ? [`mount -o remount,bind,ro ${shellQuote(b.target)}`] : []),
    ]),
    // Last: a bind made after this would inherit the read-only flag.
    ...(security.readOnlyRootFilesystem ? ['mount -o remount,bind,ro /'] : []),
    `cd ${shellQuote(container.workingDir ?? image.workdir)}`,
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
    ].join(' '),
  ].join('\n');
  const proc: ChildProcess = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', script],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  proc.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

  // The readiness probe, every second, reported on the pod as the kubelet reports it.
  const probe = container.readinessProbe?.httpGet;
  const port =
    typeof probe?.port === 'number'
      ? probe.port
      : container.ports?.find((p) => p.name === probe?.port)?.containerPort;
  let stopped = false;
  let lastReady: boolean | undefined;
  const prober = (async () => {
    while (!stopped) {
      let ready = false;
      if (probe && port)
        ready = await fetch(`http://127.0.0.1:${port}${probe.path}`, {
          signal: AbortSignal.timeout(1000),
        }).then(
          (r) => r.ok,
          () => false,
        );
      if (ready !== lastReady && !stopped) {
        await reportStatus(pod, ready).catch((error: Error) => {
          output += `local kubelet: status not reported: ${error.message}\n`;
        });
        lastReady = ready;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();

  return {
    volumes,
    env,
    command,
    log: () => output,
    exited,
    async stop() {
      stopped = true;
      await prober;
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
      // Our mount points only, and only while empty (rmdir refuses otherwise).
      for (const p of made.reverse())
        await rm(p)
          .catch(() => rmdir(p))
          .catch(() => undefined);
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
