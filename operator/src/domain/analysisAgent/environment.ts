// The environment of an agent pod's container: the agent runtime contract's variables, the
// files of the source, cache and notification Secrets (never their values), the digests of
// its API tokens, the shard of a pod among several, and V8's heap sized to the container's
// memory limit.
import { agentDefaults, agentEnv } from '../../../../agent-runtime/src/contract/index.js';
import { agentTokenEnvironment } from '../agentTokens.js';
import {
  heapEnvironment,
  secretFileEnvironment,
  sourceCaEnvironment,
  sourceSecretFiles,
  type EnvVar,
  type SecretKeyFile,
} from '../podParts.js';
import { CONFIG_DIR, CONFIG_FILE } from './configFile.js';
import { desiredReplicas } from './replicas.js';
import type { StoredAgent } from './storedAgent.js';

/** A URL from a Secret's key, `url` unless the reference names another. */
const urlFile = (variable: string, ref: { name: string; key?: string }): SecretKeyFile => ({
  variable,
  secret: ref.name,
  key: ref.key ?? 'url',
});

/**
 * The Secrets' keys the agent reads, as files (issue 20, Lows): the source's, the cache's and
 * the notifications'. desired.ts mounts the same list (secretFileVolumes).
 */
export function agentSecretFiles(spec: StoredAgent['spec']): SecretKeyFile[] {
  const files = sourceSecretFiles(spec.source);
  if (spec.cache?.secretRef) files.push(urlFile(agentEnv.redisUrl, spec.cache.secretRef));
  const n = spec.notifications;
  if (n?.slack) files.push(urlFile(agentEnv.slackUrl, n.slack.webhookSecretRef));
  if (n?.webhook) files.push(urlFile(agentEnv.webhookUrl, n.webhook.urlSecretRef));
  // Alertmanager's URL with credentials (issue 21); a plain `url` the agent reads from its config.
  if (n?.alertmanager?.urlSecretRef)
    files.push(urlFile(agentEnv.alertmanagerUrl, n.alertmanager.urlSecretRef));
  if (n?.email) {
    const secret = n.email.smtpSecretRef.name;
    for (const [variable, key] of [
      [agentEnv.smtpHost, 'host'],
      [agentEnv.smtpPort, 'port'],
      [agentEnv.smtpUsername, 'username'],
      [agentEnv.smtpPassword, 'password'],
      [agentEnv.smtpTls, 'tls'],
    ] as const)
      files.push({ variable, secret, key });
  }
  return files;
}

/**
 * The operator's Alertmanager (--alertmanager-url, issue 21) for an agent whose spec names none
 * (neither url nor urlSecretRef); the spec's own wins.
 */
function defaultAlertmanager(spec: StoredAgent['spec'], url: string | undefined): EnvVar[] {
  const am = spec.notifications?.alertmanager;
  if (!url || am?.url || am?.urlSecretRef) return [];
  return [{ name: agentEnv.alertmanagerUrl, value: url }];
}

/** The pod's environment: the contract's variables, the Secrets' files. */
export function agentEnvironment(
  agent: StoredAgent,
  memoryLimit: string | undefined,
  controlKey?: Uint8Array,
  modelUrlAllow?: string,
  alertmanagerUrl?: string,
): EnvVar[] {
  const spec = agent.spec;
  const name = (n: string): EnvVar => ({ name: n });
  const env: EnvVar[] = [
    { ...name(agentEnv.config), value: `${CONFIG_DIR}/${CONFIG_FILE}` },
    { ...name(agentEnv.dataDir), value: agentDefaults.dataDir },
    { ...name(agentEnv.modelDir), value: agentDefaults.modelDir },
    { ...name(agentEnv.port), value: String(agentDefaults.port) },
    { ...name(agentEnv.pod), valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...sourceCaEnvironment(spec.source),
    ...secretFileEnvironment(agentSecretFiles(spec)),
    ...defaultAlertmanager(spec, alertmanagerUrl),
  ];
  // The digests of its control, read and triage tokens, always: without them its API refuses all but
  // the probes (issue 20, H2).
  if (controlKey) env.push(...agentTokenEnvironment(controlKey, agent.metadata.uid));
  // The LAN ranges a model URL may reach besides public addresses (issue 20, M1).
  if (modelUrlAllow && spec.model)
    env.push({ ...name(agentEnv.modelUrlAllow), value: modelUrlAllow });
  if (!spec.cache?.secretRef && spec.cache?.url)
    env.push({ ...name(agentEnv.redisUrl), value: spec.cache.url });
  const replicas = desiredReplicas(spec);
  if (replicas > 1)
    env.push(
      { ...name(agentEnv.shardCount), value: String(replicas) },
      {
        ...name(agentEnv.shardIndex),
        valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
      },
    );
  // V8's heap sized to the container: left alone it grows well past what is live (bench/).
  env.push(...heapEnvironment(memoryLimit));
  return env;
}
