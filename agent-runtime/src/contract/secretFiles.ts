// Secrets reach agent and export pods as files, not environment variables (issue 20, Lows):
// the operator mounts each Secret a spec names read-only and sets `<VARIABLE>_FILE` to the
// path of the key's file; the process reads it at its start (secretFile.ts). An environment
// variable is visible to anything that can read the process's environment (a crash dump, a
// child process, `kubectl describe` of a pod spec that copied a value); a file is read once,
// by this process, and the kubelet refreshes it when the Secret changes. The plain variables
// still work, for an agent or an export run by hand.
import { exportEnv } from './export.js';
import { agentEnv } from './index.js';

/** Where the operator mounts the Secrets a pod reads, one folder per Secret. */
export const SECRETS_DIR = '/etc/edgewarden/secrets';

/** The suffix of the variable that names a secret variable's file. */
export const FILE_SUFFIX = '_FILE';

/** The variables whose value may come from a file (`<name>_FILE`): every one a Secret fills. */
export const secretVariables = [
  agentEnv.pgUrl,
  'PGHOST',
  'PGPORT',
  'PGDATABASE',
  'PGUSER',
  'PGPASSWORD',
  agentEnv.redisUrl,
  agentEnv.slackUrl,
  agentEnv.webhookUrl,
  // The Secret of spec.notifications.alertmanager.urlSecretRef (a URL with credentials).
  agentEnv.alertmanagerUrl,
  agentEnv.smtpHost,
  agentEnv.smtpPort,
  agentEnv.smtpUsername,
  agentEnv.smtpPassword,
  agentEnv.smtpTls,
  exportEnv.hashKey,
] as const;

export type SecretVariable = (typeof secretVariables)[number];
