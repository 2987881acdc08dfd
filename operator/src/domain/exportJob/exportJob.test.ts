// The ExportJob's pure core: the window, the Job it becomes, and the status its observations give.
import { exportProgress as progress } from '../../../../test/fixtures/exportProgress.js';
import { exportChildren, exportPlan, exportWindow, type StoredExportJob } from './desired.js';
import { exportPodHold, exportStatus, parseReport } from './status.js';

const job: StoredExportJob = {
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'ExportJob',
  metadata: {
    name: 'weekly',
    namespace: 'net',
    uid: 'u-1',
    creationTimestamp: '2026-11-24T12:00:00Z',
  },
  spec: {
    dataTypes: ['logs', 'anomalies'],
    source: { analysisAgentRef: { name: 'dns' } },
    timeRange: { last: '24h' },
    transform: { hashAddresses: true, hashKeySecretRef: { name: 'export-key' } },
    destination: { persistentVolumeClaim: { claimName: 'exports' }, path: 'reviews/weekly' },
    backoffLimit: 3,
    activeDeadlineSeconds: 900,
  },
};
const settings = {
  agentImage: 'ghcr.io/edgewarden/edgewarden:0.1.0',
  imagePullPolicy: 'IfNotPresent' as const,
};
const source = {
  secretRef: { name: 'router-logs-db' },
  caSecretRef: { name: 'router-logs-db-ca' },
  sslMode: 'verify-full' as const,
};

test('the window: last counts back from creation; from/to as given', () => {
  expect(exportWindow(job.spec, '2026-11-24T12:00:00Z')).toEqual({
    from: '2026-11-23T12:00:00.000Z',
    to: '2026-11-24T12:00:00.000Z',
  });
  expect(
    exportWindow(
      { ...job.spec, timeRange: { from: '2026-11-01T00:00:00Z' } },
      '2026-11-24T12:00:00Z',
    ),
  ).toEqual({
    from: '2026-11-01T00:00:00.000Z',
    to: '2026-11-24T12:00:00.000Z',
  });
  expect(
    exportWindow(
      { ...job.spec, timeRange: { from: '2026-11-25T00:00:00Z' } },
      '2026-11-24T12:00:00Z',
    ),
  ).toMatchObject({
    error: expect.stringContaining('not before') as unknown,
  });
});

type JobShape = {
  metadata: { name: string };
  spec: {
    backoffLimit: number;
    activeDeadlineSeconds: number;
    podFailurePolicy: { rules: { action: string; onExitCodes?: { values: number[] } }[] };
    template: {
      spec: {
        restartPolicy: string;
        automountServiceAccountToken: boolean;
        securityContext: Record<string, unknown>;
        containers: {
          args: string[];
          env: { name: string; value?: string; valueFrom?: unknown }[];
          securityContext: Record<string, unknown>;
          volumeMounts: Record<string, unknown>[];
        }[];
        volumes: Record<string, unknown>[];
      };
    };
  };
};

test('the Job: restricted, fails fast on a bad spec, secrets only as mounted files, the claim mounted', () => {
  const plan = exportPlan(job, { from: 'a', to: 'b' }, source, []);
  const { job: j, configMap } = exportChildren(job, plan, settings);
  const k = j as unknown as JobShape;
  expect(k.metadata.name).toBe('weekly-export');
  expect(k.spec).toMatchObject({ backoffLimit: 3, activeDeadlineSeconds: 900 });
  expect(k.spec.podFailurePolicy.rules).toEqual([
    { action: 'FailJob', onExitCodes: { containerName: 'export', operator: 'In', values: [3] } },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
  ]);
  const pod = k.spec.template.spec;
  expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false });
  expect(pod.securityContext).toMatchObject({
    runAsNonRoot: true,
    seccompProfile: { type: 'RuntimeDefault' },
  });
  expect(pod.containers[0]!.securityContext).toMatchObject({
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  });
  const env = pod.containers[0]!.env;
  expect(env.find((e) => e.name === 'EDGEWARDEN_EXPORT_DIR')?.value).toBe('/export/reviews/weekly');
  // Secrets as files (issue 20, Lows): the variables name the mounted keys, no value is copied.
  expect(env.find((e) => e.name === 'EDGEWARDEN_EXPORT_HASH_KEY_FILE')?.value).toBe(
    '/etc/edgewarden/secrets/export-key/key',
  );
  expect(env.find((e) => e.name === 'EDGEWARDEN_PG_URL_FILE')?.value).toBe(
    '/etc/edgewarden/secrets/router-logs-db/url',
  );
  expect(
    env.some((e) => e.valueFrom !== undefined && 'secretKeyRef' in (e.valueFrom as object)),
  ).toBe(false);
  expect(pod.volumes).toEqual(
    expect.arrayContaining([
      { name: 'secret-0', secret: { secretName: 'router-logs-db', defaultMode: 0o440 } },
      { name: 'secret-1', secret: { secretName: 'export-key', defaultMode: 0o440 } },
    ]),
  );
  expect(pod.containers[0]!.volumeMounts).toEqual(
    expect.arrayContaining([
      { name: 'secret-0', mountPath: '/etc/edgewarden/secrets/router-logs-db', readOnly: true },
      { name: 'secret-1', mountPath: '/etc/edgewarden/secrets/export-key', readOnly: true },
    ]),
  );
  for (const e of env)
    if (/URL|PASSWORD|KEY/.test(e.name) && !e.name.endsWith('_FILE'))
      expect(e.value).toBeUndefined();
  expect(pod.volumes).toContainEqual({
    name: 'destination',
    persistentVolumeClaim: { claimName: 'exports' },
  });
  expect(pod.volumes).toContainEqual({
    name: 'pg-ca',
    secret: { secretName: 'router-logs-db-ca' },
  });
  // The plan holds names, never a Secret's value.
  expect(JSON.parse((configMap.data as Record<string, string>)['plan.json']!)).toMatchObject({
    name: 'weekly',
    uid: 'u-1',
    from: 'a',
    to: 'b',
    logs: { source },
    anomalies: [],
  });
  // The cleanup Job: the same claim, `export --clean`, no database.
  const clean = exportChildren(job, plan, settings, true).job as unknown as JobShape;
  expect(clean.metadata.name).toBe('weekly-cleanup');
  expect(clean.spec.template.spec.containers[0]!.args).toEqual(['export', '--clean']);
  expect(
    clean.spec.template.spec.containers[0]!.env.some((e) => e.name.startsWith('EDGEWARDEN_PG')),
  ).toBe(false);
});

describe('status', () => {
  test('running: the percent and records, for the printer column', () => {
    const s = exportStatus({
      job: { active: 1, startTime: '2026-11-24T12:00:01Z' },
      progress: progress({ recordsDone: 4500, recordsTotal: 10000, bytes: 123 }),
    });
    expect(s.phase).toBe('Running');
    expect(s.progress).toEqual({
      recordsDone: 4500,
      recordsTotal: 10000,
      percent: 45,
      bytes: 123,
      summary: '45% (4500/10000)',
    });
    expect(s.conditions.find((c) => c.type === 'Running')).toMatchObject({
      status: 'True',
      reason: 'Exporting',
    });
  });
  test('succeeded: files, validation, and when it expires', () => {
    const files = [{ name: 'weekly-logs-0001.jsonl.gz', records: 10, bytes: 99, sha256: 'ab' }];
    const s = exportStatus({
      job: {
        succeeded: 1,
        completionTime: '2026-11-24T12:10:00Z',
        conditions: [{ type: 'Complete', status: 'True' }],
      },
      progress: progress({
        state: 'succeeded',
        recordsDone: 10,
        recordsTotal: 10,
        files,
        manifest: 'weekly.manifest.json',
      }),
      ttlSecondsAfterFinished: 60,
    });
    expect(s).toMatchObject({
      phase: 'Succeeded',
      files,
      completionTime: '2026-11-24T12:10:00Z',
      expiresAt: '2026-11-24T12:11:00.000Z',
    });
    expect(s.progress?.percent).toBe(100);
  });
  test("failed: the exporter's own reason, with the Job's", () => {
    const s = exportStatus({
      job: {
        failed: 1,
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'PodFailurePolicy',
            lastTransitionTime: '2026-11-24T12:01:00Z',
          },
        ],
      },
      progress: parseReport(
        JSON.stringify(
          progress({
            state: 'failed',
            error: { reason: 'UnknownColumn', message: 'column "msg" does not exist' },
          }),
        ),
      ),
    });
    expect(s.phase).toBe('Failed');
    expect(s.conditions.find((c) => c.type === 'Failed')).toEqual({
      type: 'Failed',
      status: 'True',
      reason: 'UnknownColumn',
      message: 'column "msg" does not exist (Job: PodFailurePolicy)',
    });
    expect(s.completionTime).toBe('2026-11-24T12:01:00Z');
  });
  test('pending: blocked by a missing AnalysisAgent, or a pod that waits', () => {
    expect(
      exportStatus({
        blocked: { reason: 'AnalysisAgentNotFound', message: 'no dns', permanent: false },
      }),
    ).toMatchObject({ phase: 'Pending' });
    const waiting = exportStatus({
      job: { active: 1 },
      waiting: { reason: 'ImagePullBackOff', message: 'no image' },
    });
    expect(waiting.phase).toBe('Pending');
    expect(waiting.conditions[0]).toMatchObject({
      reason: 'ImagePullBackOff',
      message: 'no image',
    });
  });
  test("unschedulable: Pending with the scheduler's reason and message, not failed", () => {
    const scheduler =
      '0/1 nodes are available: persistentvolumeclaim "edgewarden-exports" not found. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.';
    // What the API server holds for a pod the scheduler could not place: phase Pending, no
    // container status yet, and PodScheduled=False with the scheduler's reason.
    const hold = exportPodHold({
      phase: 'Pending',
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: scheduler },
      ],
    });
    expect(hold).toEqual({ unscheduled: { reason: 'Unschedulable', message: scheduler } });
    // The Job counts a pending pod as active: that alone must not read as running.
    const s = exportStatus({ job: { active: 1, startTime: '2026-11-24T12:00:01Z' }, ...hold });
    expect(s.phase).toBe('Pending');
    expect(s.conditions).toEqual([
      {
        type: 'Running',
        status: 'False',
        reason: 'Unschedulable',
        message: `the export pod cannot be scheduled: ${scheduler}`,
      },
      {
        type: 'Succeeded',
        status: 'False',
        reason: 'Pending',
        message: `the export pod cannot be scheduled: ${scheduler}`,
      },
      // Transient: a claim or a node may appear; activeDeadlineSeconds bounds the wait.
      {
        type: 'Failed',
        status: 'False',
        reason: 'Pending',
        message: `the export pod cannot be scheduled: ${scheduler}`,
      },
    ]);
    // A retry's pod that cannot be placed keeps the figures of the run before in view.
    const retry = exportStatus({
      job: { active: 1, failed: 1 },
      progress: progress({ recordsDone: 10, recordsTotal: 40 }),
      ...hold,
    });
    expect(retry).toMatchObject({ phase: 'Pending', progress: { summary: '25% (10/40)' } });
    // A finished Job wins over a leftover pod's condition.
    expect(
      exportStatus({ job: { conditions: [{ type: 'Complete', status: 'True' }] }, ...hold }).phase,
    ).toBe('Succeeded');
  });
  test('what holds an export pod: the scheduler first, then a waiting container', () => {
    expect(exportPodHold(undefined)).toEqual({});
    expect(
      exportPodHold({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }],
      }),
    ).toEqual({}); // starting, as it should
    expect(
      exportPodHold({
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [
          { state: { waiting: { reason: 'ImagePullBackOff', message: 'no such image' } } },
        ],
      }),
    ).toEqual({ waiting: { reason: 'ImagePullBackOff', message: 'no such image' } });
    expect(
      exportPodHold({
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }],
      }),
    ).toEqual({ unscheduled: { reason: 'SchedulingGated' } });
    // A pod that is on its node and running holds nothing.
    expect(
      exportPodHold({ phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] }),
    ).toEqual({});
  });
  test('a termination message that is not a report is ignored', () => {
    expect(parseReport('Error: something')).toBeUndefined();
    expect(parseReport(undefined)).toBeUndefined();
  });
});
