// The test node's pods as the end-to-end suites see them from this machine: through the API
// server (what the kubelet reports, and `kubectl logs`, which the kubelet serves), and, for the
// one thing only the node can do, through its container runtime: kill a container's process
// as a crash would (EDGEWARDEN_E2E_CRICTL, crictl for the node's containerd).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { eventually, kubectlJson, kubectlRun } from '../integration/kube.js';

const exec = promisify(execFile);

interface ContainerState {
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason?: string; message?: string };
}

export interface NodeContainerStatus {
  name: string;
  /** `containerd://<id>`: the container the kubelet runs now (a restart changes it). */
  containerID?: string;
  restartCount: number;
  ready?: boolean;
  state?: ContainerState;
  lastState?: ContainerState;
}

export interface EnvVar {
  name: string;
  valueFrom?: {
    secretKeyRef?: { optional?: boolean };
    configMapKeyRef?: { optional?: boolean };
  };
}

export interface NodePod {
  metadata: { name: string; uid: string; creationTimestamp: string };
  spec: {
    nodeName?: string;
    containers: {
      name: string;
      ports?: { name?: string; containerPort: number }[];
      env?: EnvVar[];
      volumeMounts?: { name: string; mountPath: string }[];
    }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: NodeContainerStatus[];
  };
}

export const getPod = (namespace: string, name: string): Promise<NodePod> =>
  kubectlJson<NodePod>(['get', 'pod', name, '-n', namespace]);

/**
 * The last lines of the pods' logs (`kubectl logs` with a pod name or `-l selector`), for a
 * failure's message: never throws, says why when there is no log to give.
 */
export async function podLogs(namespace: string, target: string[], lines = 200): Promise<string> {
  const r = await kubectlRun([
    'logs',
    '-n',
    namespace,
    `--tail=${lines}`,
    '--prefix',
    '--max-log-requests=10',
    ...target,
  ]);
  return r.code === 0 ? r.stdout : `(no log: ${r.stderr.trim()})`;
}

/** The pod once the node runs it: phase Running, with its pod IP; its log on a timeout. */
export async function runningPod(
  namespace: string,
  name: string,
  timeoutMs = 120_000,
): Promise<NodePod> {
  let last: NodePod | undefined;
  return eventually(
    `pod ${name} running on the node`,
    async () => {
      last = await getPod(namespace, name);
      return last.status?.phase === 'Running' && last.status.podIP ? last : undefined;
    },
    timeoutMs,
  ).catch(async (error: Error) => {
    throw new Error(
      `${error.message}\nstatus: ${JSON.stringify(last?.status)}\nlog:\n${await podLogs(namespace, [name])}`,
    );
  });
}

/** `containerd://<id>` -> `<id>`, the container's id in the node's runtime. */
const runtimeId = (containerID: string): string => containerID.replace(/^[a-z]+:\/\//, '');

/** crictl against the node's containerd (EDGEWARDEN_E2E_CRICTL): its stdout. */
export async function crictl(...args: string[]): Promise<string> {
  const command = process.env.EDGEWARDEN_E2E_CRICTL;
  if (!command) throw new Error('EDGEWARDEN_E2E_CRICTL is not set: run with jest.e2e.config.js');
  return (await exec(command, args, { maxBuffer: 16 << 20 })).stdout;
}

/** The runtime's id of the container the kubelet reports on the pod now (a restart changes it). */
export async function runtimeContainerId(
  namespace: string,
  pod: string,
  container: string,
): Promise<string> {
  const status = (await getPod(namespace, pod)).status?.containerStatuses?.find(
    (c) => c.name === container,
  );
  if (!status?.containerID) throw new Error(`no container ${container} in pod ${pod} yet`);
  return runtimeId(status.containerID);
}

/**
 * SIGKILLs the process of the pod's running container from this machine, as a crash or the
 * OOM killer would: no SIGTERM, no grace period, the kubelet only finds out afterwards. The
 * container is the one the kubelet reports on the pod (its containerID), looked up in the
 * node's containerd with crictl, which gives its process as this machine numbers it.
 */
export async function killContainerProcess(
  namespace: string,
  pod: string,
  container: string,
): Promise<void> {
  const status = (await getPod(namespace, pod)).status?.containerStatuses?.find(
    (c) => c.name === container,
  );
  if (!status?.containerID || !status.state?.running)
    throw new Error(
      `container ${container} of pod ${pod} is not running: ${JSON.stringify(status)}`,
    );
  const stdout = await crictl('inspect', '--output', 'json', runtimeId(status.containerID));
  const inspected = JSON.parse(stdout) as {
    status: { state: string; labels: Record<string, string> };
    info: { pid: number };
  };
  // The runtime's own labels say whose container this is: never kill another pod's process.
  const labels = inspected.status.labels;
  if (
    labels['io.kubernetes.pod.namespace'] !== namespace ||
    labels['io.kubernetes.pod.name'] !== pod ||
    labels['io.kubernetes.container.name'] !== container ||
    inspected.status.state !== 'CONTAINER_RUNNING'
  )
    throw new Error(
      `runtime container ${status.containerID} is not ${namespace}/${pod}/${container} running: ${JSON.stringify(inspected.status)}`,
    );
  process.kill(inspected.info.pid, 'SIGKILL');
}
