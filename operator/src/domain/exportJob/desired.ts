// What an ExportJob should be in the cluster, as a pure function of it, the AnalysisAgent
// whose source it reads, the agent pods whose anomalies it reads, and the operator's
// settings: a ConfigMap holding the export plan (made once: the window and the pods are
// fixed when the export starts, so a retried pod exports the same rows) and a Job running
// `edgewarden export` in a restricted pod that mounts the destination claim. The same pod
// spec with `--clean` removes the files when the ExportJob expires. An export that reads
// anomalies gets the read tokens of their agents in a Secret of its own, mounted as files
// (issue 20, H2): never an environment value, never in its plan or status.
import type {
  AnalysisAgentSpec,
  ExportJob,
  ExportJobSpec,
} from '../../../../api/src/generated/types.js';
import { withSchemaDefaults } from '../../../../api/src/defaults.js';
import { parseDuration } from '../../../../api/src/duration.js';
import {
  exportDefaults,
  exportEnv,
  exportExit,
  exportPaths,
  type ExportPlan,
} from '../../../../agent-runtime/src/contract/export.js';
import { childName, labelsFor, ownerReference, type Child } from '../children.js';
import {
  containerSecurityContext,
  heapEnvironment,
  podSecurityContext,
  secretFileEnvironment,
  secretFileVolumes,
  sourceCaEnvironment,
  sourceSecretFiles,
  sourceVolumes,
  type EnvVar,
  type SecretKeyFile,
} from '../podParts.js';
import type { OperatorSettings } from '../analysisAgent/desired.js';

export type StoredExportJob = ExportJob & {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    creationTimestamp?: string;
    generation?: number;
  };
};

export const EXPORT_COMPONENT = 'export';
export const CLEANUP_COMPONENT = 'export-cleanup';
/** Held while an ExportJob with a TTL has files to remove. */
export const FILES_FINALIZER = 'edgewarden.io/export-files';
const PLAN_FILE = 'plan.json';
/** Read and readable by the pod's group (its fsGroup) only. */
const TOKEN_FILE_MODE = 0o440;

/** The name of the Secret holding the read tokens of the agents an ExportJob reads. */
export const agentTokensSecretName = (job: StoredExportJob): string =>
  childName(job.metadata.name, 'agent-tokens');
export const EXPORT_CONTAINER_RESOURCES = {
  requests: { cpu: '100m', memory: '96Mi' },
  limits: { cpu: '1', memory: '256Mi' },
};

/** The window [from, to): `last` counts back from when the ExportJob was created. */
export function exportWindow(
  spec: ExportJobSpec,
  createdAt: string,
): { from: string; to: string } | { error: string } {
  const created = Date.parse(createdAt);
  if (spec.timeRange.last) {
    const ms = parseDuration(spec.timeRange.last);
    if (ms === undefined)
      return { error: `timeRange.last: not a duration: ${spec.timeRange.last}` };
    return { from: new Date(created - ms).toISOString(), to: new Date(created).toISOString() };
  }
  const from = spec.timeRange.from!;
  const to = spec.timeRange.to ?? new Date(created).toISOString();
  if (Date.parse(from) >= Date.parse(to))
    return { error: `timeRange: from ${from} is not before to ${to}` };
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

export function exportPlan(
  job: StoredExportJob,
  window: { from: string; to: string },
  logsSource: AnalysisAgentSpec['source'] | undefined,
  anomalies: ExportPlan['anomalies'],
): ExportPlan {
  const m = job.metadata;
  return {
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    spec: job.spec,
    ...window,
    ...(logsSource ? { logs: { source: logsSource } } : {}),
    ...(job.spec.dataTypes.includes('anomalies') ? { anomalies: anomalies ?? [] } : {}),
  };
}

type Volume = Record<string, unknown>;

/**
 * The pod's volumes and the container's mounts: the plan, the destination claim, /tmp, and
 * (to export, not to clean) the CA of the logs' source.
 */
function exportVolumes(
  spec: ExportJobSpec,
  plan: ExportPlan,
  planName: string,
  clean: boolean,
): { volumes: Volume[]; mounts: Volume[] } {
  const volumes: Volume[] = [
    { name: 'plan', configMap: { name: planName, items: [{ key: PLAN_FILE, path: PLAN_FILE }] } },
    {
      name: 'destination',
      persistentVolumeClaim: { claimName: spec.destination.persistentVolumeClaim.claimName },
    },
    { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
  ];
  const mounts: Volume[] = [
    { name: 'plan', mountPath: dirOf(exportDefaults.plan), readOnly: true },
    { name: 'destination', mountPath: exportDefaults.volume },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (!clean && plan.logs) {
    const ca = sourceVolumes(plan.logs.source);
    volumes.push(...ca.volumes);
    mounts.push(...ca.mounts);
  }
  if (!clean) {
    const secrets = secretFileVolumes(exportSecretFiles(spec, plan));
    volumes.push(...secrets.volumes);
    mounts.push(...secrets.mounts);
  }
  if (!clean && plan.anomalies?.length) {
    const secretName = childName(plan.name, 'agent-tokens');
    volumes.push({ name: 'agent-tokens', secret: { secretName, defaultMode: TOKEN_FILE_MODE } });
    mounts.push({ name: 'agent-tokens', mountPath: exportDefaults.agentTokens, readOnly: true });
  }
  return { volumes, mounts };
}

/**
 * The Secrets' keys an export reads, as files (issue 20, Lows): the logs' source's, and the
 * hashing key. exportVolumes mounts the same list.
 */
function exportSecretFiles(spec: ExportJobSpec, plan: ExportPlan): SecretKeyFile[] {
  const files = plan.logs ? sourceSecretFiles(plan.logs.source) : [];
  const hashKey = spec.transform?.hashKeySecretRef;
  if (spec.transform?.hashAddresses && hashKey)
    files.push({ variable: exportEnv.hashKey, secret: hashKey.name, key: hashKey.key ?? 'key' });
  return files;
}

/**
 * The container's environment: the contract's variables; to export (not to clean), the files
 * of the source's and the hashing key's Secrets, and V8's heap sized to the container.
 */
function exportEnvironment(spec: ExportJobSpec, plan: ExportPlan, clean: boolean): EnvVar[] {
  const env: EnvVar[] = [
    { name: exportEnv.plan, value: `${dirOf(exportDefaults.plan)}/${PLAN_FILE}` },
    { name: exportEnv.dir, value: `${exportDefaults.volume}/${spec.destination.path}` },
    { name: exportEnv.port, value: String(exportDefaults.port) },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  if (clean) return env;
  if (plan.logs) env.push(...sourceCaEnvironment(plan.logs.source));
  env.push(...secretFileEnvironment(exportSecretFiles(spec, plan)));
  env.push(...heapEnvironment(EXPORT_CONTAINER_RESOURCES.limits.memory));
  return env;
}

/** The pod template: restricted, never restarted in place (the Job makes a new pod). */
function exportPodTemplate(
  spec: ExportJobSpec,
  plan: ExportPlan,
  settings: OperatorSettings,
  names: { plan: string; labels: Record<string, string> },
  clean: boolean,
): Record<string, unknown> {
  const { volumes, mounts } = exportVolumes(spec, plan, names.plan, clean);
  const container = {
    name: 'export',
    image: settings.agentImage,
    imagePullPolicy: settings.imagePullPolicy,
    args: clean ? ['export', '--clean'] : ['export'],
    env: exportEnvironment(spec, plan, clean),
    ports: clean ? [] : [{ name: 'http', containerPort: exportDefaults.port, protocol: 'TCP' }],
    resources: EXPORT_CONTAINER_RESOURCES,
    volumeMounts: mounts,
    securityContext: containerSecurityContext,
    // The exporter writes its final progress here: the operator reads it from the pod status.
    terminationMessagePath: exportDefaults.terminationMessage,
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
  return {
    metadata: { labels: names.labels },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false, // the exporter never talks to the API server
      enableServiceLinks: false,
      securityContext: podSecurityContext,
      terminationGracePeriodSeconds: 30,
      containers: [container],
      volumes,
    },
  };
}

/** A bad spec fails the Job at once; an evicted or preempted pod does not count as a failure. */
const podFailurePolicy = () => ({
  rules: [
    {
      action: 'FailJob',
      onExitCodes: { containerName: 'export', operator: 'In', values: [exportExit.badSpec] },
    },
    { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
  ],
});

/** The cleanup Job's own limits: removing files is quick, and worth a couple of tries. */
const CLEANUP_LIMITS = { backoffLimit: 2, activeDeadlineSeconds: 600 };

/** The export Job's retries and deadline, as the spec sets them or its schema defaults them. */
function exportLimits(spec: ExportJobSpec): {
  backoffLimit: number;
  activeDeadlineSeconds: number;
} {
  const d = withSchemaDefaults('ExportJob', {
    backoffLimit: spec.backoffLimit,
    activeDeadlineSeconds: spec.activeDeadlineSeconds,
  });
  return { backoffLimit: d.backoffLimit!, activeDeadlineSeconds: d.activeDeadlineSeconds! };
}

export interface ExportChildren {
  configMap: Child;
  job: Child;
}

/** The plan's ConfigMap and the export Job (or, with `clean`, the Job that removes the files). */
export function exportChildren(
  job: StoredExportJob,
  plan: ExportPlan,
  settings: OperatorSettings,
  clean = false,
): ExportChildren {
  const spec = job.spec;
  const namespace = job.metadata.namespace;
  const planName = childName(job.metadata.name, 'export-plan');
  const labels = labelsFor(job.metadata.name, clean ? CLEANUP_COMPONENT : EXPORT_COMPONENT);
  const owner = [ownerReference(job)];
  return {
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: planName,
        namespace,
        labels: labelsFor(job.metadata.name, EXPORT_COMPONENT),
        ownerReferences: owner,
      },
      data: { [PLAN_FILE]: `${JSON.stringify(plan, null, 2)}\n` },
    },
    job: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: childName(job.metadata.name, clean ? 'cleanup' : 'export'),
        namespace,
        labels,
        ownerReferences: owner,
      },
      spec: {
        ...(clean ? CLEANUP_LIMITS : exportLimits(spec)),
        podFailurePolicy: podFailurePolicy(),
        template: exportPodTemplate(spec, plan, settings, { plan: planName, labels }, clean),
      },
    },
  };
}

/**
 * The Secret of the read tokens of the agents an export reads anomalies from, a key per agent
 * (the file the exporter reads: exportDefaults.agentTokens/<agent>), owned by the ExportJob.
 * `tokens`: agent name -> its read token (agentTokens.ts readToken).
 */
export function exportTokenSecret(job: StoredExportJob, tokens: Record<string, string>): Child {
  const data = Object.fromEntries(
    Object.entries(tokens)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([agent, token]) => [agent, Buffer.from(token).toString('base64')]),
  );
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: agentTokensSecretName(job),
      namespace: job.metadata.namespace,
      labels: labelsFor(job.metadata.name, EXPORT_COMPONENT),
      ownerReferences: [ownerReference(job)],
    },
    type: 'Opaque',
    data,
  };
}

/** GET /progress of an export pod, for the operator's polls. */
export const EXPORT_PROGRESS_PATH = exportPaths.progress;

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}
