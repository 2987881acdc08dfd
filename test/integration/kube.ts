// Helpers for the integration suites: run the real kubectl (the one built with the control
// plane) against the test cluster, and wait on what the API server says, never on time alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Two folders up from test/integration/, whether run from source or compiled into dist/.
const twoUp = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = path.basename(twoUp) === 'dist' ? path.dirname(twoUp) : twoUp;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `binary` in the checkout with `env` (default: this process's); resolves whatever the exit code. */
export function runTool(
  binary: string,
  args: string[],
  input?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { cwd: repoRoot, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    // A tool that exits without reading its input (`get`) makes this write fail with EPIPE:
    // not an error of ours (its exit code and stderr say how it went), and never uncaught.
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

function tool(name: 'EDGEWARDEN_KUBECTL' | 'EDGEWARDEN_HELM'): string {
  const binary = process.env[name];
  if (!binary)
    throw new Error(
      `${name} is not set: run the integration suites through jest.integration.config.js`,
    );
  return binary;
}

/** Runs kubectl; resolves whatever the exit code. */
export const kubectlRun = (args: string[], input?: string): Promise<Result> =>
  runTool(tool('EDGEWARDEN_KUBECTL'), args, input);

export const helmRun = (args: string[]): Promise<Result> => runTool(tool('EDGEWARDEN_HELM'), args);

/** Runs kubectl and returns stdout; throws with stderr if it fails. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await kubectlRun(args, input);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(' ')} failed (${result.code}):\n${result.stderr}`);
  return result.stdout;
}

export async function kubectlJson<T = Record<string, unknown>>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

/** Polls `check` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `kubectl apply` of one object; resolves with kubectl's output, throws on an error. */
export const applyObject = (object: unknown): Promise<string> =>
  kubectl(['apply', '-f', '-'], JSON.stringify(object));

/**
 * A PersistentVolume on a folder of this machine, reserved for one claim, as a storage
 * provisioner would make it; the node's kubelet mounts the folder (this machine is the node).
 */
export const hostPathVolume = (
  name: string,
  folder: string,
  claim: { namespace: string; name: string },
  storage = '2Gi',
): Promise<string> =>
  applyObject({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: {
      capacity: { storage },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: folder },
      claimRef: claim,
    },
  });

/**
 * A claim bound to a hostPathVolume on `folder` (the node's kubelet mounts the folder for it),
 * as a user's claim is once a provisioner has made its volume.
 */
export async function hostPathClaim(
  volumeName: string,
  folder: string,
  claim: { namespace: string; name: string },
  storage = '2Gi',
): Promise<void> {
  await hostPathVolume(volumeName, folder, claim, storage);
  await applyObject({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: claim,
    spec: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage } },
      volumeName,
      storageClassName: '',
    },
  });
}

/** `kubectl create secret generic NAME` in `namespace`, from kubectl's --from-* arguments. */
export const createSecret = (namespace: string, name: string, ...from: string[]): Promise<string> =>
  kubectl(['create', 'secret', 'generic', name, '-n', namespace, ...from]);

/**
 * The Secrets the examples read their source from: router-logs-db (the connection URL, as
 * `user`, at `host`: where the agent reaches PostgreSQL, the node's address for a pod) and
 * router-logs-db-ca (the CA of the test PostgreSQL, whose TLS is verify-full).
 */
export async function createSourceSecrets(
  namespace: string,
  postgres: { port: number; dir: string },
  user: string,
  host = 'localhost',
): Promise<void> {
  await createSecret(
    namespace,
    'router-logs-db',
    `--from-literal=url=postgresql://${user}@${host}:${postgres.port}/postgres`,
  );
  await createSecret(
    namespace,
    'router-logs-db-ca',
    `--from-file=ca.crt=${path.join(postgres.dir, 'ca.crt')}`,
  );
}

/** An AnalysisAgent's `spec.source` reading the Secrets createSourceSecrets makes, verify-full. */
export const SOURCE_SECRETS = {
  secretRef: { name: 'router-logs-db' },
  sslMode: 'verify-full',
  caSecretRef: { name: 'router-logs-db-ca' },
} as const;

/** Creates a namespace with a unique name (and optional labels); returns its name. */
export async function createNamespace(
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await kubectl(['create', 'namespace', name]);
  if (Object.keys(labels).length > 0)
    await kubectl([
      'label',
      'namespace',
      name,
      ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
    ]);
  return name;
}

export const crdNames = [
  'analysisagents.edgewarden.io',
  'modeldeployments.edgewarden.io',
  'exportjobs.edgewarden.io',
];

/**
 * Lets go of the ExportJobs' finalizers, in `namespace` or in all. The operator removes one after
 * cleaning up the export's files; with no operator running (uninstalled, or a suite's over),
 * deleting the ExportJob, its namespace or its CRD would wait for ever.
 */
export async function releaseExportJobs(namespace?: string): Promise<void> {
  const jobs = await kubectlRun([
    'get',
    'exportjobs',
    ...(namespace ? ['-n', namespace] : ['-A']),
    '-o',
    'json',
  ]);
  if (jobs.code !== 0) return;
  const items = (
    JSON.parse(jobs.stdout) as { items: { metadata: { name: string; namespace: string } }[] }
  ).items;
  for (const j of items)
    await kubectlRun([
      'patch',
      'exportjob',
      j.metadata.name,
      '-n',
      j.metadata.namespace,
      '--type=merge',
      '-p',
      '{"metadata":{"finalizers":null}}',
    ]);
}

/** Deletes the CRDs, and with them every object of their kinds. */
export async function deleteCrds(): Promise<void> {
  await releaseExportJobs();
  await kubectl(['delete', 'crd', ...crdNames, '--ignore-not-found', '--timeout=90s']);
}

/** Applies crds/ and waits until the API server has established all three. */
export async function installCrds(): Promise<Result> {
  const result = await kubectlRun([
    'apply',
    '--server-side',
    '--field-manager=edgewarden-tests',
    '-f',
    'crds/',
  ]);
  if (result.code !== 0) throw new Error(`installing crds/ failed:\n${result.stderr}`);
  await kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...crdNames.map((n) => `crd/${n}`),
  ]);
  return result;
}

/**
 * Starts `edgewarden operator` as a process against the test cluster, watching `namespace`,
 * on ports it picks; its stdout and stderr (JSON log lines) are collected in `log()`. Its agent
 * pods run the end-to-end tier's image (EDGEWARDEN_E2E_IMAGE) where there is one; on kwok's
 * fake nodes nothing runs, and the image named is never pulled.
 */
export function startOperator(
  namespace: string,
  args: string[] = [],
): { proc: ChildProcess; log: () => string } {
  let log = '';
  const proc = spawn(
    'node',
    [
      path.join(repoRoot, 'bin/edgewarden.js'),
      'operator',
      '--kubeconfig',
      process.env.KUBECONFIG!,
      '--namespace',
      namespace,
      '--metrics-port',
      '0',
      '--health-port',
      '0',
      '--bind-address',
      '127.0.0.1',
      '--poll',
      '2s',
      '--agent-image',
      process.env.EDGEWARDEN_E2E_IMAGE ?? 'edgewarden:test',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  proc.stdout.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (log += d.toString()));
  return { proc, log: () => log };
}

/** The /metrics text of an operator that startOperator started (its port is in its start log). */
export async function operatorMetrics(operator: { log: () => string }): Promise<string> {
  const port = /"metricsPort":(\d+)/.exec(operator.log())?.[1];
  if (!port) throw new Error(`the operator has not logged its metrics port:\n${operator.log()}`);
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}
