// What an AnalysisAgent should be in the cluster, as a pure function of its spec and the
// operator's settings: a ServiceAccount, a ConfigMap holding the agent's configuration, a
// headless Service, and a StatefulSet of agent pods.
//
// A StatefulSet, not a Deployment: the API promises that each pod analyses a disjoint share
// of the devices and keeps its own claim, which needs a stable pod index (the shard) and
// per-pod volume claims. Pods meet the `restricted` Pod Security Standard with a read-only
// root filesystem; secrets reach them only as Secret references (env valueFrom, a mounted
// Secret for the CA), never copied into the ConfigMap. Environment, mounts and port come from
// the agent runtime's published contract.
import { openApiSchemas } from '../../../../api/src/generated/schemas.js';
import type { AnalysisAgent } from '../../../../api/src/generated/types.js';
import {
  agentDefaults,
  agentEnv,
  agentPaths,
  controlTokenDigest,
} from '../../../../agent-runtime/src/contract/index.js';
import { childName, labelsFor, ownerReference, type Child } from '../children.js';
import { controlToken } from '../modelDeployment/rollout.js';
import {
  containerSecurityContext,
  heapEnvironment,
  podSecurityContext,
  sourceEnvironment,
  sourceVolumes,
  type EnvVar,
  fromSecret,
} from '../podParts.js';

/** An AnalysisAgent as the API server returns it: named, namespaced, with a uid. */
export type StoredAgent = AnalysisAgent & {
  metadata: { name: string; namespace: string; uid: string; generation?: number };
};

export interface OperatorSettings {
  /** The agent image (the edgewarden image; its entrypoint is `edgewarden`). */
  agentImage: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * The operator's key for model delivery: each agent's pods get the SHA-256 of their token
   * (an HMAC of the agent's uid), never the token. Unset: the pods refuse model offers.
   */
  controlKey?: Uint8Array;
}

export const AGENT_COMPONENT = 'agent';
type Resources = { requests: Record<string, string>; limits: Record<string, string> };
/**
 * Default resources, sized for a Raspberry Pi 5 shared with other workloads: the CRD's own
 * default of spec.resources (api/schema/analysisagent.yaml), which the API server fills in when
 * a spec has none, and the operator uses for whatever part of it a spec leaves out.
 */
export const DEFAULT_RESOURCES = openApiSchemas.AnalysisAgent.properties!.spec!.properties!
  .resources!.default as Resources;
const CONFIG_FILE = 'agent.yaml';

export interface AgentChildren {
  serviceAccount: Child;
  configMap: Child;
  service: Child;
  statefulSet: Child;
}

/** The agent's configuration file: the resource itself (spec, name), secrets by reference only. */
export function agentConfigFile(agent: StoredAgent): string {
  const manifest = {
    apiVersion: agent.apiVersion,
    kind: agent.kind,
    metadata: { name: agent.metadata.name, namespace: agent.metadata.namespace },
    spec: agent.spec,
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** The pod's environment: the contract's variables, secrets by reference. */
export function agentEnvironment(
  agent: StoredAgent,
  memoryLimit: string | undefined,
  controlKey?: Uint8Array,
): EnvVar[] {
  const spec = agent.spec;
  const name = (n: string): EnvVar => ({ name: n });
  const env: EnvVar[] = [
    { ...name(agentEnv.config), value: `${dirOf(agentDefaults.config)}/${CONFIG_FILE}` },
    { ...name(agentEnv.dataDir), value: agentDefaults.dataDir },
    { ...name(agentEnv.modelDir), value: agentDefaults.modelDir },
    { ...name(agentEnv.port), value: String(agentDefaults.port) },
    { ...name(agentEnv.pod), valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ...sourceEnvironment(spec.source),
  ];
  if (controlKey && spec.model)
    env.push({
      ...name(agentEnv.controlTokenSha256),
      value: controlTokenDigest(controlToken(controlKey, agent.metadata.uid)),
    });
  if (spec.cache?.secretRef)
    env.push(
      fromSecret(agentEnv.redisUrl, spec.cache.secretRef.name, spec.cache.secretRef.key ?? 'url'),
    );
  else if (spec.cache?.url) env.push({ ...name(agentEnv.redisUrl), value: spec.cache.url });
  const n = spec.notifications;
  if (n?.slack)
    env.push(
      fromSecret(
        agentEnv.slackUrl,
        n.slack.webhookSecretRef.name,
        n.slack.webhookSecretRef.key ?? 'url',
      ),
    );
  if (n?.webhook)
    env.push(
      fromSecret(
        agentEnv.webhookUrl,
        n.webhook.urlSecretRef.name,
        n.webhook.urlSecretRef.key ?? 'url',
      ),
    );
  if (n?.email) {
    const secret = n.email.smtpSecretRef.name;
    env.push(
      fromSecret(agentEnv.smtpHost, secret, 'host'),
      fromSecret(agentEnv.smtpPort, secret, 'port', true),
      fromSecret(agentEnv.smtpUsername, secret, 'username', true),
      fromSecret(agentEnv.smtpPassword, secret, 'password', true),
      fromSecret(agentEnv.smtpTls, secret, 'tls', true),
    );
  }
  const replicas = spec.paused ? 0 : (spec.replicas ?? 1);
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

/** The agent with spec.rules reduced to what needs new pods: the ConfigMaps mounted. */
function withoutRuleTuning(agent: StoredAgent): StoredAgent {
  const { rules, ...spec } = agent.spec;
  return rules?.configMaps?.length
    ? { ...agent, spec: { ...spec, rules: { configMaps: rules.configMaps } } }
    : { ...agent, spec };
}

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}

/**
 * The agent's children. `modelClaims`: PersistentVolumeClaims holding its ModelDeployment's
 * model (the target's and the stable version's), mounted read-only under modelSourceDir.
 */
export function agentChildren(
  agent: StoredAgent,
  settings: OperatorSettings,
  modelClaims: readonly string[] = [],
): AgentChildren {
  const spec = agent.spec;
  const name = childName(agent.metadata.name, 'agent');
  const namespace = agent.metadata.namespace;
  const labels = labelsFor(agent.metadata.name, AGENT_COMPONENT, {
    'edgewarden.io/agent': spec.agent,
  });
  const selector = {
    'app.kubernetes.io/instance': agent.metadata.name,
    'app.kubernetes.io/component': AGENT_COMPONENT,
  };
  const owner = [ownerReference(agent)];
  const meta = { name, namespace, labels, ownerReferences: owner };
  const config = agentConfigFile(agent);
  const resources = {
    requests: { ...DEFAULT_RESOURCES.requests, ...spec.resources?.requests },
    limits: { ...DEFAULT_RESOURCES.limits, ...spec.resources?.limits },
  };
  const storage = spec.storage ?? {};
  const claim = storage.type === 'persistentVolumeClaim';
  const volumes: Record<string, unknown>[] = [
    { name: 'config', configMap: { name, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] } },
    // Room for three versions of the largest model an agent takes (MAX_MODEL_BYTES, 32 MiB).
    { name: 'model', emptyDir: { sizeLimit: '128Mi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
  ];
  if (!claim)
    volumes.push({
      name: 'data',
      emptyDir: storage.size ? { sizeLimit: String(storage.size) } : {},
    });
  const mounts: Record<string, unknown>[] = [
    { name: 'config', mountPath: dirOf(agentDefaults.config), readOnly: true },
    { name: 'data', mountPath: agentDefaults.dataDir },
    { name: 'model', mountPath: agentDefaults.modelDir },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  [...new Set(modelClaims)].sort().forEach((claimName, i) => {
    volumes.push({
      name: `model-source-${i}`,
      persistentVolumeClaim: { claimName, readOnly: true },
    });
    mounts.push({
      name: `model-source-${i}`,
      mountPath: `${agentDefaults.modelSourceDir}/${claimName}`,
      readOnly: true,
    });
  });
  // Rule packs of the user's own, each ConfigMap in a folder of its name; edits of their
  // contents reach the running agent the same way as the tuning does.
  (spec.rules?.configMaps ?? []).forEach(({ name: configMap }, i) => {
    volumes.push({ name: `rules-${i}`, configMap: { name: configMap } });
    mounts.push({
      name: `rules-${i}`,
      mountPath: `${agentDefaults.rulesDir}/${configMap}`,
      readOnly: true,
    });
  });
  const ca = sourceVolumes(spec.source);
  volumes.push(...ca.volumes);
  mounts.push(...ca.mounts);
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  });
  const podTemplate = {
    metadata: {
      labels,
      // A changed configuration rolls the pods, as a changed image does; a change of the rules'
      // tuning does not: the running agent re-reads it (the kubelet updates the mounted file).
      annotations: {
        'edgewarden.io/config-hash': configHash(agentConfigFile(withoutRuleTuning(agent))),
      },
    },
    spec: {
      serviceAccountName: name,
      automountServiceAccountToken: false, // the agent never talks to the API server
      enableServiceLinks: false,
      securityContext: podSecurityContext,
      nodeSelector: spec.nodeSelector,
      tolerations: spec.tolerations,
      terminationGracePeriodSeconds: 30,
      containers: [
        {
          name: 'agent',
          image: settings.agentImage,
          imagePullPolicy: settings.imagePullPolicy,
          args: ['agent'],
          env: agentEnvironment(agent, String(resources.limits.memory), settings.controlKey),
          ports: [{ name: 'http', containerPort: agentDefaults.port, protocol: 'TCP' }],
          readinessProbe: probe(agentPaths.ready, 10, 3),
          livenessProbe: probe(agentPaths.health, 20, 3),
          startupProbe: probe(agentPaths.health, 2, 30),
          resources,
          volumeMounts: mounts,
          securityContext: containerSecurityContext,
        },
      ],
      volumes,
    },
  };
  return {
    serviceAccount: {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: meta,
      automountServiceAccountToken: false,
    },
    configMap: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta,
      data: { [CONFIG_FILE]: config },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        // Headless: each pod has its own name, for the operator's status polls and scraping.
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector,
        ports: [{ name: 'http', port: agentDefaults.port, targetPort: 'http', protocol: 'TCP' }],
      },
    },
    statefulSet: {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: meta,
      spec: {
        replicas: spec.paused ? 0 : (spec.replicas ?? 1),
        serviceName: name,
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: selector },
        updateStrategy: { type: 'RollingUpdate' },
        persistentVolumeClaimRetentionPolicy: claim
          ? { whenDeleted: 'Retain', whenScaled: 'Retain' }
          : undefined,
        template: podTemplate,
        volumeClaimTemplates: claim
          ? [
              {
                apiVersion: 'v1',
                kind: 'PersistentVolumeClaim',
                metadata: { name: 'data', labels },
                spec: {
                  accessModes: ['ReadWriteOnce'],
                  storageClassName: storage.storageClassName,
                  resources: { requests: { storage: String(storage.size ?? '1Gi') } },
                },
              },
            ]
          : undefined,
      },
    },
  };
}

function configHash(text: string): string {
  // FNV-1a, 32 bits: a change detector for an annotation, not a security measure.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
