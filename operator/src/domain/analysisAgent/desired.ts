// What an AnalysisAgent should be in the cluster, as a pure function of its spec and the
// operator's settings: a ServiceAccount, a ConfigMap holding the agent's configuration, a
// headless Service, a StatefulSet of agent pods, and (unless the operator is told not to) a
// NetworkPolicy that lets only the operator, export pods and scrapers reach them.
//
// A StatefulSet, not a Deployment: the API promises that each pod analyses a disjoint share
// of the devices and keeps its own claim, which needs a stable pod index (the shard) and
// per-pod volume claims. Pods meet the `restricted` Pod Security Standard with a read-only
// root filesystem; secrets reach them only as Secret references (env valueFrom, a mounted
// Secret for the CA), never copied into the ConfigMap. Environment, mounts and port come from
// the agent runtime's published contract.
import { openApiSchemas } from '../../../../api/src/generated/schemas.js';
import { agentDefaults, agentPaths } from '../../../../agent-runtime/src/contract/index.js';
import { childName, labelsFor, ownerReference, type Child } from '../children.js';
import {
  containerSecurityContext,
  podSecurityContext,
  secretFileVolumes,
  sourceVolumes,
} from '../podParts.js';
import { CONFIG_DIR, CONFIG_FILE, agentConfigFile, podConfigHash } from './configFile.js';
import { agentEnvironment, agentSecretFiles } from './environment.js';
import { agentNetworkPolicy, type AgentNetworkPolicySettings } from './networkPolicy.js';
import { desiredReplicas } from './replicas.js';
import type { StoredAgent } from './storedAgent.js';

export type { StoredAgent } from './storedAgent.js';

export interface OperatorSettings {
  /** The agent image (the edgewarden image; its entrypoint is `edgewarden`). */
  agentImage: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * Ranges (comma-separated CIDRs) besides public addresses that model URLs may reach: LAN
   * model servers (`--model-url-allow`, issue 20 M1). Unset: public addresses only.
   */
  modelUrlAllow?: string;
  /**
   * The operator's key for model delivery: each agent's pods get the SHA-256 of their token
   * (an HMAC of the agent's uid), never the token. Unset: the pods refuse model offers.
   */
  controlKey?: Uint8Array;
  /**
   * Tables beyond the presets' that sources may name, as schema.table (domain/sourceTables.ts:
   * parseAllowedSourceTables); unset or empty: the presets' tables only (issue 20, M4).
   */
  allowedSourceTables?: readonly string[];
  /** Who may reach the agents' pods; unset: no NetworkPolicy (`--agent-network-policy=false`). */
  networkPolicy?: AgentNetworkPolicySettings;
  /**
   * Alertmanager's URL for agents whose spec names none (`--alertmanager-url`, issue 21);
   * unset: such agents send no alerts to Alertmanager.
   */
  alertmanagerUrl?: string;
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

/** The metadata all the children share: one name, the agent's labels, the agent as owner. */
type ChildMeta = {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: Record<string, unknown>[];
};

export interface AgentChildren {
  serviceAccount: Child;
  configMap: Child;
  service: Child;
  statefulSet: Child;
  /** Only when the operator's settings ask for one. */
  networkPolicy?: Child;
}

/** Requests and limits: the spec's, over the CRD's default for whatever it leaves out. */
function agentResources(spec: StoredAgent['spec']): {
  requests: Record<string, string | number>;
  limits: Record<string, string | number>;
} {
  return {
    requests: { ...DEFAULT_RESOURCES.requests, ...spec.resources?.requests },
    limits: { ...DEFAULT_RESOURCES.limits, ...spec.resources?.limits },
  };
}

/** Labels matching the agent's pods (and nothing else of it). */
function agentSelector(agent: StoredAgent): Record<string, string> {
  return {
    'app.kubernetes.io/instance': agent.metadata.name,
    'app.kubernetes.io/component': AGENT_COMPONENT,
  };
}

type Volume = Record<string, unknown>;

/**
 * The pod's volumes and the container's mounts: configuration, data (unless a claim per pod
 * holds it), the model folder, /tmp, the model claims, the user's rule packs, the source's CA.
 */
function agentVolumes(
  agent: StoredAgent,
  configMap: string,
  modelClaims: readonly string[],
): { volumes: Volume[]; mounts: Volume[] } {
  const spec = agent.spec;
  const storage = spec.storage ?? {};
  const volumes: Volume[] = [
    {
      name: 'config',
      configMap: { name: configMap, items: [{ key: CONFIG_FILE, path: CONFIG_FILE }] },
    },
    // Room for three versions of the largest model an agent takes (MAX_MODEL_BYTES, 32 MiB).
    { name: 'model', emptyDir: { sizeLimit: '128Mi' } },
    { name: 'tmp', emptyDir: { sizeLimit: '16Mi' } },
  ];
  if (storage.type !== 'persistentVolumeClaim')
    volumes.push({
      name: 'data',
      emptyDir: storage.size ? { sizeLimit: String(storage.size) } : {},
    });
  const mounts: Volume[] = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
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
  (spec.rules?.configMaps ?? []).forEach(({ name: rulesMap }, i) => {
    volumes.push({ name: `rules-${i}`, configMap: { name: rulesMap } });
    mounts.push({
      name: `rules-${i}`,
      mountPath: `${agentDefaults.rulesDir}/${rulesMap}`,
      readOnly: true,
    });
  });
  const ca = sourceVolumes(spec.source);
  volumes.push(...ca.volumes);
  mounts.push(...ca.mounts);
  // The Secrets the agent reads, as files (the environment names their paths).
  const secrets = secretFileVolumes(agentSecretFiles(spec));
  volumes.push(...secrets.volumes);
  mounts.push(...secrets.mounts);
  return { volumes, mounts };
}

const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
  httpGet: { path, port: 'http' },
  periodSeconds,
  timeoutSeconds: 3,
  failureThreshold,
});

/** The agent container: the image's `agent` command, its probes, resources and mounts. */
function agentContainer(
  agent: StoredAgent,
  settings: OperatorSettings,
  mounts: Volume[],
): Record<string, unknown> {
  const resources = agentResources(agent.spec);
  return {
    name: 'agent',
    image: settings.agentImage,
    imagePullPolicy: settings.imagePullPolicy,
    args: ['agent'],
    env: agentEnvironment(
      agent,
      String(resources.limits.memory),
      settings.controlKey,
      settings.modelUrlAllow,
      settings.alertmanagerUrl,
    ),
    ports: [{ name: 'http', containerPort: agentDefaults.port, protocol: 'TCP' }],
    readinessProbe: probe(agentPaths.ready, 10, 3),
    livenessProbe: probe(agentPaths.health, 20, 3),
    startupProbe: probe(agentPaths.health, 2, 30),
    resources,
    volumeMounts: mounts,
    securityContext: containerSecurityContext,
  };
}

/** The StatefulSet's pod template, annotated with the hash of the configuration it runs. */
function agentPodTemplate(
  agent: StoredAgent,
  settings: OperatorSettings,
  meta: ChildMeta,
  modelClaims: readonly string[],
): Record<string, unknown> {
  const spec = agent.spec;
  const { volumes, mounts } = agentVolumes(agent, meta.name, modelClaims);
  return {
    metadata: {
      labels: meta.labels,
      // A changed configuration rolls the pods; a change of the rules' tuning does not.
      annotations: { 'edgewarden.io/config-hash': podConfigHash(agent) },
    },
    spec: {
      serviceAccountName: meta.name,
      automountServiceAccountToken: false, // the agent never talks to the API server
      enableServiceLinks: false,
      securityContext: podSecurityContext,
      nodeSelector: spec.nodeSelector,
      tolerations: spec.tolerations,
      terminationGracePeriodSeconds: 30,
      containers: [agentContainer(agent, settings, mounts)],
      volumes,
    },
  };
}

/** The agent's pods: one per shard, each with its own data claim when storage asks for one. */
function agentStatefulSet(
  agent: StoredAgent,
  settings: OperatorSettings,
  meta: ChildMeta,
  modelClaims: readonly string[],
): Child {
  const spec = agent.spec;
  const storage = spec.storage ?? {};
  const claim = storage.type === 'persistentVolumeClaim';
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta,
    spec: {
      replicas: desiredReplicas(spec),
      serviceName: meta.name,
      podManagementPolicy: 'Parallel',
      selector: { matchLabels: agentSelector(agent) },
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: claim
        ? { whenDeleted: 'Retain', whenScaled: 'Retain' }
        : undefined,
      template: agentPodTemplate(agent, settings, meta, modelClaims),
      volumeClaimTemplates: claim
        ? [
            {
              apiVersion: 'v1',
              kind: 'PersistentVolumeClaim',
              metadata: { name: 'data', labels: meta.labels },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: storage.storageClassName,
                resources: { requests: { storage: String(storage.size ?? '1Gi') } },
              },
            },
          ]
        : undefined,
    },
  };
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
  const labels = labelsFor(agent.metadata.name, AGENT_COMPONENT, {
    'edgewarden.io/agent': agent.spec.agent,
  });
  const meta: ChildMeta = {
    name: childName(agent.metadata.name, 'agent'),
    namespace: agent.metadata.namespace,
    labels,
    ownerReferences: [ownerReference(agent)],
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
      data: { [CONFIG_FILE]: agentConfigFile(agent) },
    },
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta,
      spec: {
        // Headless: each pod has its own name, for the operator's status polls and scraping.
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector: agentSelector(agent),
        ports: [{ name: 'http', port: agentDefaults.port, targetPort: 'http', protocol: 'TCP' }],
      },
    },
    statefulSet: agentStatefulSet(agent, settings, meta, modelClaims),
    ...(settings.networkPolicy && {
      networkPolicy: agentNetworkPolicy(meta, agentSelector(agent), settings.networkPolicy),
    }),
  };
}
