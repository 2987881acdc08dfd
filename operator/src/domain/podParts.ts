// Pod parts that agent and export pods share: Secrets as mounted files (the PostgreSQL
// source's and others), the source's CA mounted, the restricted security contexts, and V8's heap sized to the
// container. Names of variables come from the agent runtime's contract.
import type { AnalysisAgentSpec } from '../../../api/src/generated/types.js';
import { agentEnv } from '../../../agent-runtime/src/contract/index.js';
import { FILE_SUFFIX, SECRETS_DIR } from '../../../agent-runtime/src/contract/secretFiles.js';
import { quantityBytes } from '../../../api/src/quantity.js';
import { heapMegabytes } from './heapSize.js';

export type EnvVar = Record<string, unknown>;
type Volume = Record<string, unknown>;

/** The image's non-root user. */
export const RUN_AS = 65532;
const PG_CA_DIR = '/etc/edgewarden/pg-ca';

/**
 * A Secret's key that a pod reads as a file (issue 20, Lows: secrets as files, not environment
 * variables): the variable it fills, the Secret, the key.
 */
export interface SecretKeyFile {
  variable: string;
  secret: string;
  key: string;
}

/** Where a Secret's key is mounted: a folder per Secret, a file per key. */
const secretFilePath = (ref: SecretKeyFile): string => `${SECRETS_DIR}/${ref.secret}/${ref.key}`;

/**
 * Read by the owner and the pod's group (fsGroup) only: the image's user is not root, and a
 * Secret volume's files belong to root with the group fsGroup.
 */
const SECRET_FILE_MODE = 0o440;

/** `<VARIABLE>_FILE` naming each key's file; the values stay in the Secrets. */
export const secretFileEnvironment = (refs: SecretKeyFile[]): EnvVar[] =>
  refs.map((ref) => ({ name: `${ref.variable}${FILE_SUFFIX}`, value: secretFilePath(ref) }));

/**
 * One read-only volume per Secret the refs name (all its keys: a key the Secret lacks is a
 * missing file, which the runtime reads as unset, as an optional key was), mounted where
 * secretFileEnvironment points.
 */
export function secretFileVolumes(refs: SecretKeyFile[]): { volumes: Volume[]; mounts: Volume[] } {
  const secrets = [...new Set(refs.map((r) => r.secret))];
  return {
    volumes: secrets.map((secretName, i) => ({
      name: `secret-${i}`,
      secret: { secretName, defaultMode: SECRET_FILE_MODE },
    })),
    mounts: secrets.map((secret, i) => ({
      name: `secret-${i}`,
      mountPath: `${SECRETS_DIR}/${secret}`,
      readOnly: true,
    })),
  };
}

/** The source Secret's keys: either `url` or libpq's parts, each optional. */
export function sourceSecretFiles(source: AnalysisAgentSpec['source']): SecretKeyFile[] {
  const secret = source.secretRef.name;
  return [
    [agentEnv.pgUrl, 'url'],
    ['PGHOST', 'host'],
    ['PGPORT', 'port'],
    ['PGDATABASE', 'database'],
    ['PGUSER', 'username'],
    ['PGPASSWORD', 'password'],
  ].map(([variable, key]) => ({ variable: variable!, secret, key: key! }));
}

/** The CA file's path, when the source names a CA Secret (mounted by sourceVolumes). */
export function sourceCaEnvironment(source: AnalysisAgentSpec['source']): EnvVar[] {
  if (!source.caSecretRef) return [];
  return [{ name: agentEnv.pgCaFile, value: `${PG_CA_DIR}/${source.caSecretRef.key ?? 'ca.crt'}` }];
}

/** The CA Secret as a read-only volume, when the source names one. */
export function sourceVolumes(source: AnalysisAgentSpec['source']): {
  volumes: Volume[];
  mounts: Volume[];
} {
  if (!source.caSecretRef) return { volumes: [], mounts: [] };
  return {
    volumes: [{ name: 'pg-ca', secret: { secretName: source.caSecretRef.name } }],
    mounts: [{ name: 'pg-ca', mountPath: PG_CA_DIR, readOnly: true }],
  };
}

/**
 * V8's young generation for the image's processes: 2 MB semi-spaces in place of Node's 16 MB,
 * as the operator runs (OPERATOR_NODE_OPTIONS). The default young generation is sized for
 * throughput and was the largest part of an agent pod's heap: bench/pi.mjs measured heap
 * 64-68 MB with 26 MB live, and 30 MB less RSS per agent with small semi-spaces. 1 MB saved no
 * more memory and cost more CPU: analysing 300,000 lines took 11.9 s of CPU with Node's
 * default, 14.0 s with 2 MB, 14.8 s with 1 MB, 12.4 s with 4 MB (which kept 8-11 MB more).
 * An agent analyses a cycle's lines in a fraction of a second, so the CPU is the cheaper of
 * the two on a Pi.
 */
export const SEMI_SPACE_OPTION = '--max-semi-space-size=2';

/**
 * NODE_OPTIONS sizing V8's heap to the memory limit (left alone it grows past what is live),
 * and its young generation to what the processes allocate (SEMI_SPACE_OPTION).
 */
export function heapEnvironment(memoryLimit: string | undefined): EnvVar[] {
  const heap = heapMegabytes(quantityBytes(memoryLimit));
  return heap === undefined
    ? []
    : [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${heap} ${SEMI_SPACE_OPTION}` }];
}

/** The `restricted` Pod Security Standard, with a read-only root filesystem. */
export const podSecurityContext = {
  runAsNonRoot: true,
  runAsUser: RUN_AS,
  runAsGroup: RUN_AS,
  fsGroup: RUN_AS,
  seccompProfile: { type: 'RuntimeDefault' },
};
export const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};
