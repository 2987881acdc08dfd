// The ExportJob's pure core as golden files, one a case of the table below: the window, the
// plan, the children (the plan's ConfigMap and the export Job; the cleanup Job too when the
// ExportJob has a TTL) and the status each of its observations gives. Set UPDATE_GOLDEN=1 to
// rewrite them after an intended change, and review the diff; the test never sets it itself.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

import type { AnalysisAgentSpec, ExportJobSpec } from '../../../../api/src/generated/types.js';
import { ResourceValidator } from '../../../../api/src/validate.js';
import type { ExportPlan } from '../../../../agent-runtime/src/contract/export.js';
import { exportProgress as progress } from '../../../../test/fixtures/exportProgress.js';
import { exportChildren, exportPlan, exportWindow, type StoredExportJob } from './desired.js';
import { exportStatus, type ExportObservation } from './status.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const settings = {
  agentImage: 'ghcr.io/edgewarden/edgewarden:0.1.0',
  imagePullPolicy: 'IfNotPresent' as const,
};
const validator = new ResourceValidator();
const CREATED = '2026-11-24T12:00:00Z';
const example = YAML.parse(
  readFileSync(path.join(root, 'manifests/examples/exportjob.yaml'), 'utf8'),
) as { spec: ExportJobSpec };

/** The example ExportJob with `overrides` over its spec, defaults filled in as the API server does. */
function exportJobFrom(overrides: Partial<ExportJobSpec>, drop: (keyof ExportJobSpec)[] = []) {
  const spec: Record<string, unknown> = { ...structuredClone(example.spec), ...overrides };
  for (const field of drop) delete spec[field];
  const doc = { apiVersion: 'edgewarden.io/v1alpha1', kind: 'ExportJob', metadata: {}, spec };
  const issues = validator.check(doc);
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  doc.metadata = {
    name: 'weekly-review',
    namespace: 'net',
    uid: 'u-1',
    creationTimestamp: CREATED,
  };
  return doc as unknown as StoredExportJob;
}

const source = (s: Partial<AnalysisAgentSpec['source']> = {}): AnalysisAgentSpec['source'] => ({
  secretRef: { name: 'router-logs-db' },
  sslMode: 'verify-full',
  preset: 'log_entries',
  ...s,
});
const agentPod = (agent: string, kind: string, i: number) => ({
  agent,
  kind,
  pod: `${agent}-agent-${i}`,
  url: `http://${agent}-agent-${i}.${agent}-agent.net.svc:8080`,
});
const file = (name: string, records: number) => ({
  name,
  records,
  bytes: records * 100,
  sha256: 'e3b0c44298fc1c149afbf4c8996fb924',
});
const complete = {
  succeeded: 1,
  startTime: '2026-11-24T12:00:05Z',
  completionTime: '2026-11-24T12:04:00Z',
  conditions: [{ type: 'Complete', status: 'True' }],
};
const failedJob = (reason: string, message?: string) => ({
  failed: 1,
  startTime: '2026-11-24T12:00:05Z',
  conditions: [
    { type: 'Failed', status: 'True', reason, message, lastTransitionTime: '2026-11-24T12:02:00Z' },
  ],
});

interface ExportCase {
  name: string;
  spec?: Partial<ExportJobSpec>;
  /** Fields of the example's spec to leave out. */
  drop?: (keyof ExportJobSpec)[];
  /** The source of the AnalysisAgent the logs are read as; absent when it is not there. */
  source?: AnalysisAgentSpec['source'];
  anomalies?: ExportPlan['anomalies'];
  /** Observations, each named, to the status they give. */
  observations: Record<string, ExportObservation>;
}

const cases: ExportCase[] = [
  {
    name: 'example',
    source: source(),
    anomalies: [agentPod('dns', 'dns', 0), agentPod('dns', 'dns', 1)],
    observations: {
      starting: { job: { active: 1 }, ttlSecondsAfterFinished: 604800 },
      running: {
        job: { active: 1, startTime: '2026-11-24T12:00:05Z' },
        progress: progress({ recordsDone: 4500, recordsTotal: 10000, bytes: 81920 }),
        ttlSecondsAfterFinished: 604800,
      },
      succeeded: {
        job: complete,
        progress: progress({
          state: 'succeeded',
          recordsDone: 10000,
          recordsTotal: 10000,
          bytes: 163840,
          files: [
            file('weekly-review-logs-0001.jsonl.gz', 9000),
            file('weekly-review-anomalies-0001.jsonl.gz', 1000),
          ],
          manifest: 'weekly-review.manifest.json',
        }),
        ttlSecondsAfterFinished: 604800,
      },
    },
  },
  {
    name: 'csv-from-to-custom-preset',
    spec: {
      dataTypes: ['logs'],
      format: 'csv',
      compression: 'none',
      timeRange: { from: '2026-11-01T00:00:00Z', to: '2026-11-08T00:00:00Z' },
      transform: { timestamps: 'keep' },
      maxFileSize: '1Gi',
      batchSize: 5000,
    },
    drop: ['filters', 'ttlSecondsAfterFinished'],
    source: source({
      preset: 'custom',
      sslMode: 'require',
      table: 'syslog.lines',
      columns: { timestamp: 'logged_at', message: 'text', host: 'device', id: 'seq' },
      watermark: 'id',
    }),
    observations: {
      counting: {
        job: { active: 1, startTime: '2026-11-24T12:00:05Z' },
        progress: progress({ state: 'counting' }),
      },
      'succeeded with validation': {
        job: complete,
        progress: progress({
          state: 'succeeded',
          recordsDone: 120,
          recordsTotal: 120,
          bytes: 12000,
          files: [file('weekly-review-logs-0001.csv', 120)],
          filesOmitted: 2,
          manifest: 'weekly-review.manifest.json',
          validation: {
            rows: 120,
            nullRates: { host: 0.25, message: 0 },
            duplicates: 3,
            rejectedRows: 1,
            rejected: { BadTimestamp: 1 },
            outOfRange: 0,
          },
        }),
      },
    },
  },
  {
    name: 'json-anomalies-only',
    spec: {
      dataTypes: ['anomalies'],
      format: 'json',
      timeRange: { last: '168h' },
      filters: { agents: ['dns', 'auth'], minSeverity: 'high' },
    },
    drop: ['source'],
    anomalies: [agentPod('dns', 'dns', 0), agentPod('ssh-guard', 'auth', 0)],
    observations: {
      'waiting for the pod': { job: {}, ttlSecondsAfterFinished: 604800 },
      'nothing to export': {
        job: complete,
        progress: progress({ state: 'succeeded', recordsTotal: 0 }),
        ttlSecondsAfterFinished: 604800,
      },
    },
  },
  {
    name: 'hashed-with-key-and-ca',
    spec: {
      transform: { hashAddresses: true, hashKeySecretRef: { name: 'export-key', key: 'hmac' } },
    },
    source: source({
      preset: 'SystemEvents',
      caSecretRef: { name: 'router-logs-db-ca' },
      programs: ['dnsmasq'],
    }),
    anomalies: [agentPod('dns', 'dns', 0)],
    observations: {
      'missing secret': {
        job: { active: 1, startTime: '2026-11-24T12:00:05Z' },
        waiting: {
          reason: 'CreateContainerConfigError',
          message: 'secret "export-key" not found',
        },
        ttlSecondsAfterFinished: 604800,
      },
    },
  },
  {
    name: 'hashed-random-key-resumed',
    spec: { transform: { hashAddresses: true }, backoffLimit: 5 },
    source: source({ preset: 'messages', sslMode: 'disable' }),
    anomalies: [],
    observations: {
      'resumed after a retry': {
        job: { active: 1, failed: 1, startTime: '2026-11-24T12:00:05Z' },
        progress: progress({ recordsDone: 6000, recordsTotal: 8000, bytes: 4096, resumedAt: 3000 }),
      },
      'a retry that cannot be placed': {
        job: { active: 1, failed: 1 },
        progress: progress({ recordsDone: 3000, recordsTotal: 8000 }),
        unscheduled: { reason: 'Unschedulable', message: '0/1 nodes are available' },
      },
    },
  },
  {
    name: 'no-retries-failed',
    spec: { backoffLimit: 0, activeDeadlineSeconds: 600 },
    source: source(),
    anomalies: [agentPod('dns', 'dns', 0)],
    observations: {
      'bad column': {
        job: failedJob('PodFailurePolicy'),
        progress: progress({
          state: 'failed',
          error: { reason: 'UnknownColumn', message: 'column "msg" does not exist' },
        }),
        ttlSecondsAfterFinished: 604800,
      },
      'past its deadline': {
        job: failedJob('DeadlineExceeded', 'Job was active longer than specified deadline'),
        ttlSecondsAfterFinished: 604800,
      },
    },
  },
  {
    name: 'missing-claim',
    spec: {
      destination: { persistentVolumeClaim: { claimName: 'no-such-claim' }, path: 'a/b' },
    },
    drop: ['ttlSecondsAfterFinished'],
    source: source(),
    anomalies: [],
    observations: {
      unschedulable: {
        job: { active: 1, startTime: '2026-11-24T12:00:05Z' },
        unscheduled: {
          reason: 'Unschedulable',
          message: '0/1 nodes are available: persistentvolumeclaim "no-such-claim" not found.',
        },
      },
    },
  },
  {
    // The AnalysisAgent is not there (yet): no plan, no children; the export waits for it.
    name: 'missing-agent',
    observations: {
      blocked: {
        blocked: {
          reason: 'AnalysisAgentNotFound',
          message: 'source.analysisAgentRef: no AnalysisAgent "dns" in net',
          permanent: false,
        },
        ttlSecondsAfterFinished: 604800,
      },
    },
  },
  {
    // A window that cannot be: no plan, no children; a terminal error, failed at once.
    name: 'bad-time-range',
    spec: { timeRange: { from: '2026-11-25T00:00:00Z' } },
    observations: {
      failed: {
        blocked: {
          reason: 'BadTimeRange',
          message: 'timeRange: from 2026-11-25T00:00:00Z is not before to 2026-11-24T12:00:00.000Z',
          permanent: true,
        },
        ttlSecondsAfterFinished: 604800,
      },
    },
  },
];

/** What a case comes to: its window, and when there is a plan, the plan and the children. */
function desiredOf(c: ExportCase): Record<string, unknown> {
  const job = exportJobFrom(c.spec ?? {}, c.drop);
  const window = exportWindow(job.spec, CREATED);
  const logs = job.spec.dataTypes.includes('logs');
  if ('error' in window || (logs && !c.source)) return { window };
  const plan = exportPlan(job, window, c.source, c.anomalies);
  return {
    window,
    plan,
    children: exportChildren(job, plan, settings),
    ...(job.spec.ttlSecondsAfterFinished !== undefined
      ? { cleanup: exportChildren(job, plan, settings, true).job }
      : {}),
  };
}

function golden(name: string, value: unknown): void {
  const goldenFile = path.join(here, 'testdata', `${name}.golden.yaml`);
  const text = YAML.stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN) writeFileSync(goldenFile, text);
  expect(text).toBe(readFileSync(goldenFile, 'utf8'));
}

test.each(cases.map((c) => [c.name, c] as const))('golden export: %s', (name, c) => {
  const status = Object.fromEntries(
    Object.entries(c.observations).map(([what, o]) => [what, exportStatus(o)]),
  );
  golden(name, { ...desiredOf(c), status });
});

test('the bad time range of the table is refused by the window, with the message it carries', () => {
  const c = cases.find((x) => x.name === 'bad-time-range')!;
  expect(exportWindow(exportJobFrom(c.spec!).spec, CREATED)).toEqual({
    error: c.observations.failed!.blocked!.message,
  });
});
