// Pod parts that agent and export pods share: reading the PostgreSQL source (its Secret by
// reference, its CA mounted), the restricted security contexts, and V8's heap sized to the
// container. Names of variables come from the agent runtime's contract.
import type { AnalysisAgentSpec } from '../../../api/src/generated/types.js';
import { agentEnv } from '../../../agent-runtime/src/contract/index.js';
import { quantityBytes } from '../../../api/src/quantity.js';
import { heapMegabytes } from './heapSize.js';

export type EnvVar = Record<string, unknown>;
type Volume = Record<string, unknown>;

/** The image's non-root user. */
export const RUN_AS = 65532;
const PG_CA_DIR = '/etc/edgewarden/pg-ca';

export const fromSecret = (
  name: string,
  secret: string,
  key: string,
  optional = false,
): EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key, ...(optional ? { optional: true } : {}) } },
});

/** The source Secret (either `url` or libpq's parts, each optional) and the CA file's path. */
export function sourceEnvironment(source: AnalysisAgentSpec['source']): EnvVar[] {
  const secret = source.secretRef.name;
  const env = [
    fromSecret(agentEnv.pgUrl, secret, 'url', true),
    fromSecret('PGHOST', secret, 'host', true),
    fromSecret('PGPORT', secret, 'port', true),
    fromSecret('PGDATABASE', secret, 'database', true),
    fromSecret('PGUSER', secret, 'username', true),
    fromSecret('PGPASSWORD', secret, 'password', true),
  ];
  if (source.caSecretRef)
    env.push({
      name: agentEnv.pgCaFile,
      value: `${PG_CA_DIR}/${source.caSecretRef.key ?? 'ca.crt'}`,
    });
  return env;
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

/** NODE_OPTIONS sizing V8's heap to the memory limit (left alone it grows past what is live). */
export function heapEnvironment(memoryLimit: string | undefined): EnvVar[] {
  const heap = heapMegabytes(quantityBytes(memoryLimit));
  return heap === undefined
    ? []
    : [{ name: 'NODE_OPTIONS', value: `--max-old-space-size=${heap}` }];
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
