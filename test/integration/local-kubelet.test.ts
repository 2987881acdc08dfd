// Jobs run to completion, for real: the controller manager's Job controller makes the pods,
// the scheduler places them on the kwok node, and the local kubelet (localKubelet.ts) runs
// each pod's container as a process and reports its end as a kubelet does (phase, exit code,
// termination message). kwok's pod-complete stage is not loaded (controlPlane.ts): nothing
// completes a Job pod but its own process. The Job controller then decides from what the
// process did: Complete on exit 0, Failed at once on an exit code its podFailurePolicy fails
// the Job for, another pod after a crash.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { createNamespace, eventually, kubectl, kubectlJson, kubectlRun } from './kube.js';
import { runPodLocally, type LocalPod, type Pod } from './localKubelet.js';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface Job {
  status: {
    active?: number;
    succeeded?: number;
    failed?: number;
    ready?: number;
    terminating?: number;
    conditions?: Condition[];
  };
}
interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
}
type PodObject = Pod & {
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Condition[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      state: { running?: unknown; terminated?: Terminated };
    }[];
  };
};

const CONTAINER = 'work';
let namespace: string;
const running: LocalPod[] = [];

beforeAll(async () => {
  namespace = await createNamespace('kubelet', {
    'pod-security.kubernetes.io/enforce': 'restricted',
  });
});

afterAll(async () => {
  for (const pod of running) await pod.stop().catch(() => undefined);
  if (namespace) await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
}, 60_000);

/** A Job whose one container runs `script` with node, under the restricted profile. */
async function createJob(
  name: string,
  script: string,
  extra: {
    job?: Record<string, unknown>;
    pod?: Record<string, unknown>;
    container?: Record<string, unknown>;
  } = {},
): Promise<void> {
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: {
      ...extra.job,
      template: {
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: CONTAINER,
              image: 'edgewarden:test',
              command: ['/nodejs/bin/node', '-e', script],
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
              ...extra.container,
            },
          ],
          volumes: [{ name: 'scratch', emptyDir: {} }],
          ...extra.pod,
        },
      },
    },
  };
  await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(job));
}

const jobOf = (name: string): Promise<Job> =>
  kubectlJson<Job>(['get', 'job', name, '-n', namespace]);
const isTrue = (j: Job, type: string): Condition | undefined =>
  j.status.conditions?.find((c) => c.type === type && c.status === 'True');

async function podsOf(job: string): Promise<PodObject[]> {
  const list = await kubectlJson<{ items: PodObject[] }>([
    'get',
    'pods',
    '-n',
    namespace,
    '-l',
    `batch.kubernetes.io/job-name=${job}`,
  ]);
  return list.items;
}

const terminatedOf = (p: PodObject | undefined): Terminated | undefined =>
  p?.status?.containerStatuses?.find((c) => c.name === CONTAINER)?.state.terminated;

/** What the API server and the local processes say, for a failure's message. */
async function explain(job: string): Promise<string> {
  const j = await jobOf(job).catch((e: Error) => e.message);
  const pods = await podsOf(job).catch(() => []);
  const kcm = await readFile(
    path.join(path.dirname(process.env.KUBECONFIG!), 'logs', 'kube-controller-manager.log'),
    'utf8',
  ).catch(() => '');
  return [
    `job ${job}: ${JSON.stringify(typeof j === 'string' ? j : j.status)}`,
    ...pods.map(
      (p) =>
        `pod ${p.metadata.name}: ${JSON.stringify({ phase: p.status?.phase, conditions: p.status?.conditions, containerStatuses: p.status?.containerStatuses })}`,
    ),
    ...running.map((r, i) => `local pod ${i} log:\n${r.log()}`),
    `kube-controller-manager (${namespace}):`,
    ...kcm
      .split('\n')
      .filter((l) => l.includes(namespace))
      .slice(-20),
  ].join('\n');
}

/** Waits as `eventually` does, and fails with what the cluster says about the Job. */
async function waitFor<T>(
  job: string,
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  return eventually(what, check, timeoutMs).catch(async (error: Error) => {
    throw new Error(`${error.message}\n${await explain(job)}`);
  });
}

/** The Job's next pod (one not in `seen`), once scheduled, run by the local kubelet. */
async function runNextPod(
  job: string,
  seen: Set<string> = new Set(),
): Promise<{ name: string; local: LocalPod }> {
  const pod = await waitFor(job, `a new pod of Job ${job}, scheduled`, async () =>
    (await podsOf(job)).find((p) => !seen.has(p.metadata.name) && p.spec.nodeName),
  );
  const local = await runPodLocally(pod);
  running.push(local);
  return { name: pod.metadata.name, local };
}

const podNamed = async (name: string): Promise<PodObject> =>
  kubectlJson<PodObject>(['get', 'pod', name, '-n', namespace]);

test('a pod that exits 0 completes its Job, and its termination message is in its status', async () => {
  const script = `
    const fs = require('fs');
    let rootWritable = true;
    try { fs.writeFileSync('/written', 'x'); } catch { rootWritable = false; }
    fs.writeFileSync('/dev/termination-log', JSON.stringify({ rows: 42, uid: process.getuid(), rootWritable }));
    console.log('exported 42 rows');`;
  await createJob('succeeds', script);
  const { name, local } = await runNextPod('succeeds');
  // Nothing but the process completes the pod: while it has not been reported, the Job runs.
  expect(isTrue(await jobOf('succeeds'), 'Complete')).toBeUndefined();

  const complete = await waitFor('succeeds', 'the Job Complete', async () => {
    const j = await jobOf('succeeds');
    return isTrue(j, 'Complete') ? j : undefined;
  });
  expect(complete.status).toMatchObject({ succeeded: 1 });
  // v1.34: SuccessCriteriaMet first, Complete once the pod's tracking finalizer is gone.
  expect(isTrue(complete, 'SuccessCriteriaMet')).toMatchObject({ reason: 'CompletionsReached' });
  expect(complete.status.active ?? 0).toBe(0);
  expect(complete.status.failed ?? 0).toBe(0);

  const pod = await podNamed(name);
  expect(pod.status?.phase).toBe('Succeeded');
  expect(pod.status?.podIP).toBe('127.0.0.1');
  expect(pod.status?.conditions).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ type: 'Ready', status: 'False', reason: 'PodCompleted' }),
    ]),
  );
  const terminated = terminatedOf(pod);
  expect(terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  // Written by the process, as the pod's user, on a read-only root file system.
  expect(JSON.parse(terminated?.message ?? '')).toEqual({
    rows: 42,
    uid: 65532,
    rootWritable: false,
  });
  expect(await local.terminated).toMatchObject({ exitCode: 0, message: terminated?.message });
  expect(local.log()).toContain('exported 42 rows');
}, 90_000);

test('an exit code the podFailurePolicy fails the Job for fails it at once, with no retry', async () => {
  await createJob(
    'bad-spec',
    `require('fs').writeFileSync('/dev/termination-log', 'unknown column: bytes_out'); process.exit(3);`,
    {
      job: {
        backoffLimit: 2,
        podFailurePolicy: {
          rules: [
            {
              action: 'FailJob',
              onExitCodes: { containerName: CONTAINER, operator: 'In', values: [3] },
            },
            { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
          ],
        },
      },
    },
  );
  const { name, local } = await runNextPod('bad-spec');
  expect(await local.exited).toBe(3);

  const failed = await waitFor('bad-spec', 'the Job Failed', async () => {
    const j = await jobOf('bad-spec');
    return isTrue(j, 'Failed') ? j : undefined;
  });
  expect(isTrue(failed, 'Failed')).toMatchObject({
    reason: 'PodFailurePolicy',
    message: expect.stringContaining(
      `Container ${CONTAINER} for pod ${namespace}/${name} failed with exit code 3 matching FailJob rule at index 0`,
    ) as unknown,
  });
  expect(failed.status).toMatchObject({ failed: 1 });
  // v1.34: the interim FailureTarget first, then Failed, both with the rule's reason.
  expect(isTrue(failed, 'FailureTarget')).toMatchObject({ reason: 'PodFailurePolicy' });
  expect(failed.status.active ?? 0).toBe(0);
  // The Job is finished: its controller makes no other pod.
  expect((await podsOf('bad-spec')).map((p) => p.metadata.name)).toEqual([name]);

  const pod = await podNamed(name);
  expect(pod.status?.phase).toBe('Failed');
  expect(terminatedOf(pod)).toMatchObject({
    exitCode: 3,
    reason: 'Error',
    message: 'unknown column: bytes_out',
  });
}, 90_000);

test('a pod killed mid-run is failed with exit 137, and the Job runs another to success', async () => {
  // Both pods run the same script: it waits for a file in its emptyDir, then ends well.
  const script = `
    const fs = require('fs');
    console.log('waiting for /scratch/go');
    const timer = setInterval(() => {
      if (!fs.existsSync('/scratch/go')) return;
      clearInterval(timer);
      fs.writeFileSync('/dev/termination-log', 'done on the second try');
    }, 100);`;
  await createJob('retried', script, {
    job: { backoffLimit: 2 },
    container: { terminationMessagePolicy: 'FallbackToLogsOnError' },
  });

  const first = await runNextPod('retried');
  await waitFor('retried', 'the first pod to run', () =>
    Promise.resolve(first.local.log().includes('waiting for /scratch/go') ? true : undefined),
  );
  // No readiness probe: ready while the container runs, as the Job controller counts it.
  await waitFor('retried', 'the running pod counted ready', async () =>
    (await jobOf('retried')).status.ready === 1 ? true : undefined,
  );
  first.local.kill('SIGKILL');
  expect(await first.local.exited).toBeNull(); // ended by the signal, not by an exit call
  const killed = await waitFor('retried', 'the killed pod Failed', async () => {
    const p = await podNamed(first.name);
    return p.status?.phase === 'Failed' ? p : undefined;
  });
  // 128 + SIGKILL, as a runtime reports it; no message file, so the log's tail (the policy).
  expect(terminatedOf(killed)).toMatchObject({
    exitCode: 137,
    reason: 'Error',
    message: 'waiting for /scratch/go\n',
  });

  // The Job controller counts the failure and, after its back-off, makes a second pod.
  const second = await runNextPod('retried', new Set([first.name]));
  await waitFor('retried', 'the second pod to run', () =>
    Promise.resolve(second.local.log().includes('waiting for /scratch/go') ? true : undefined),
  );
  await writeFile(path.join(second.local.volumes.scratch!, 'go'), '');
  expect(await second.local.exited).toBe(0);

  const complete = await waitFor('retried', 'the Job Complete', async () => {
    const j = await jobOf('retried');
    return isTrue(j, 'Complete') ? j : undefined;
  });
  expect(complete.status).toMatchObject({ succeeded: 1, failed: 1 });
  expect(complete.status.active ?? 0).toBe(0);
  expect(terminatedOf(await podNamed(second.name))).toMatchObject({
    exitCode: 0,
    reason: 'Completed',
    message: 'done on the second try',
  });
  expect((await podsOf('retried')).length).toBe(2);
}, 120_000);

test('a pod past its activeDeadlineSeconds is stopped and failed, reason DeadlineExceeded', async () => {
  await createJob(
    'deadline',
    `console.log('working'); setInterval(() => undefined, 1000);`,
    // The pod's deadline (the Job's own is enforced by its controller, deleting pods).
    { job: { backoffLimit: 0 }, pod: { activeDeadlineSeconds: 3 } },
  );
  const { name, local } = await runNextPod('deadline');
  expect(await local.exited).toBeNull(); // SIGTERM, which node does not handle
  const failed = await waitFor('deadline', 'the Job Failed', async () => {
    const j = await jobOf('deadline');
    return isTrue(j, 'Failed') ? j : undefined;
  });
  expect(isTrue(failed, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
  const pod = await podNamed(name);
  expect(pod.status).toMatchObject({ phase: 'Failed', reason: 'DeadlineExceeded' });
  expect(terminatedOf(pod)).toMatchObject({ exitCode: 143, reason: 'Error' });
}, 60_000);
