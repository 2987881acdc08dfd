// The AnalysisAgent's children, as pure functions: golden files for the examples (set
// UPDATE_GOLDEN=1 to rewrite them after an intended change, and review the diff), and the
// properties that must hold whatever the spec.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

import { ResourceValidator } from '../../../../api/src/validate.js';
import {
  agentDefaults,
  agentEnv,
  controlTokenDigest,
} from '../../../../agent-runtime/src/contract/index.js';
import { secretVariables } from '../../../../agent-runtime/src/contract/secretFiles.js';
import { controlToken } from '../modelDeployment/rollout.js';
import { agentChildren, type StoredAgent } from './desired.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../../..');
const settings = {
  agentImage: 'ghcr.io/edgewarden/edgewarden:0.1.0',
  imagePullPolicy: 'IfNotPresent' as const,
};

/** spec.resources' default in the CRD the API server holds (crds/analysisagents.yaml). */
function readCrdDefault(): { requests: Record<string, string>; limits: Record<string, string> } {
  const crd = YAML.parse(readFileSync(path.join(root, 'crds/analysisagents.yaml'), 'utf8')) as {
    spec: {
      versions: {
        schema: {
          openAPIV3Schema: {
            properties: { spec: { properties: { resources: { default: never } } } };
          };
        };
      }[];
    };
  };
  return crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.resources.default;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } };
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  automountServiceAccountToken: boolean;
  containers: {
    env: EnvVar[];
    securityContext: Record<string, unknown>;
    resources: { requests?: unknown; limits?: unknown };
  }[];
  volumes: Record<string, unknown>[];
}
interface StatefulSetShape {
  spec: {
    replicas: number;
    template: { metadata: { annotations: Record<string, string> }; spec: PodSpec };
  };
}
const sts = (a: StoredAgent): StatefulSetShape =>
  agentChildren(a, settings).statefulSet as unknown as StatefulSetShape;
const envOf = (a: StoredAgent): EnvVar[] => sts(a).spec.template.spec.containers[0]!.env;

function agentFrom(yamlText: string, overrides: Record<string, unknown> = {}): StoredAgent {
  const doc = YAML.parse(yamlText) as { spec: object; metadata: object };
  doc.spec = { ...doc.spec, ...overrides };
  const issues = new ResourceValidator().check(doc); // fills in the schema's defaults
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  doc.metadata = {
    ...doc.metadata,
    namespace: 'routers',
    uid: '00000000-0000-4000-8000-000000000001',
    generation: 1,
  };
  return doc as StoredAgent;
}

const example = readFileSync(path.join(root, 'manifests/examples/analysisagent.yaml'), 'utf8');
const minimal = `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ssh-guard }
spec:
  agent: auth
  source: { secretRef: { name: logs-db } }
`;

function golden(name: string, value: unknown): void {
  const file = path.join(here, 'testdata', `${name}.golden.yaml`);
  const text = YAML.stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

test.each([
  ['example', example, {}],
  ['minimal', minimal, {}],
  [
    'sharded-with-claims',
    minimal,
    { replicas: 3, storage: { type: 'persistentVolumeClaim', size: '2Gi' } },
  ],
])('golden children: %s', (name, text, overrides) => {
  golden(name, agentChildren(agentFrom(text, overrides), settings));
});

describe('whatever the spec', () => {
  const specs = [agentFrom(example), agentFrom(minimal), agentFrom(minimal, { replicas: 4 })];

  test('pods meet the restricted Pod Security Standard, with a read-only root filesystem', () => {
    for (const agent of specs) {
      const pod = sts(agent).spec.template.spec;
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(pod.automountServiceAccountToken).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources.requests).toBeDefined();
        expect(c.resources.limits).toBeDefined();
      }
      for (const v of pod.volumes) expect(v.hostPath).toBeUndefined();
    }
  });

  test('secrets are mounted as files, never copied: the ConfigMap holds names, not values', () => {
    const agent = agentFrom(example);
    const config = (
      agentChildren(agent, settings).configMap as unknown as { data: Record<string, string> }
    ).data['agent.yaml']!;
    expect(config).toContain('router-logs-db');
    const env = envOf(agent);
    // Secrets as files (issue 20, Lows): the variable names the mounted key; no value, no
    // reference in the environment.
    expect(env.find((e) => e.name === `${agentEnv.pgUrl}_FILE`)?.value).toBe(
      '/etc/edgewarden/secrets/router-logs-db/url',
    );
    expect(env.some((e) => e.valueFrom?.secretKeyRef)).toBe(false);
    for (const e of env)
      if (
        /URL|PASSWORD|USER/.test(e.name) &&
        e.name !== agentEnv.redisUrl &&
        !e.name.endsWith('_FILE')
      )
        expect(e.value).toBeUndefined();
    const pod = sts(agent).spec.template.spec;
    expect(pod.volumes).toContainEqual({
      name: 'secret-0',
      secret: { secretName: 'router-logs-db', defaultMode: 0o440 },
    });
  });

  test('model delivery: the pods hold the digest of their token, never the token; claims mount read-only', () => {
    const key = new Uint8Array(32).fill(7);
    const agent = agentFrom(example); // it has spec.model
    const children = agentChildren(agent, { ...settings, controlKey: key }, ['models', 'models']);
    const spec = (children.statefulSet as unknown as StatefulSetShape).spec.template.spec;
    const env = spec.containers[0]!.env;
    const token = controlToken(key, agent.metadata.uid);
    const digest = env.find((e) => e.name === agentEnv.controlTokenSha256)?.value;
    expect(digest).toBe(controlTokenDigest(token));
    expect(JSON.stringify(children)).not.toContain(token);
    // Another agent, another token.
    expect(controlToken(key, 'another-uid')).not.toBe(token);
    expect(spec.volumes.filter((v) => v.persistentVolumeClaim)).toEqual([
      { name: 'model-source-0', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
    ]);
    const mounts = (spec.containers[0] as unknown as { volumeMounts: Record<string, unknown>[] })
      .volumeMounts;
    expect(mounts).toContainEqual({
      name: 'model-source-0',
      mountPath: `${agentDefaults.modelSourceDir}/models`,
      readOnly: true,
    });
    // Without a key (or without spec.model) there is no digest: the agent refuses offers.
    expect(envOf(agent).some((e) => e.name === agentEnv.controlTokenSha256)).toBe(false);
  });

  test('the model URL allowlist reaches the pods of agents with spec.model (issue 20, M1)', () => {
    const lan = { ...settings, modelUrlAllow: '192.168.10.0/24,fd00:1::/64' };
    const envWith = (agent: StoredAgent) =>
      (agentChildren(agent, lan, []).statefulSet as unknown as StatefulSetShape).spec.template.spec
        .containers[0]!.env;
    expect(envWith(agentFrom(example)).find((e) => e.name === agentEnv.modelUrlAllow)).toEqual({
      name: agentEnv.modelUrlAllow,
      value: '192.168.10.0/24,fd00:1::/64',
    });
    expect(envWith(agentFrom(minimal)).some((e) => e.name === agentEnv.modelUrlAllow)).toBe(false);
    expect(envOf(agentFrom(example)).some((e) => e.name === agentEnv.modelUrlAllow)).toBe(false);
  });

  test('the environment uses only the agent contract’s names (its secret files’ too, and Node’s)', () => {
    const known = new Set<string>([
      ...Object.values(agentEnv),
      ...secretVariables.map((v) => `${v}_FILE`),
      'NODE_OPTIONS',
    ]);
    for (const agent of specs) for (const e of envOf(agent)) expect(known).toContain(e.name);
  });

  test('several replicas share the devices; paused scales to zero', () => {
    const shards = (a: StoredAgent) => envOf(a).find((e) => e.name === agentEnv.shardCount)?.value;
    expect(shards(agentFrom(minimal, { replicas: 4 }))).toBe('4');
    expect(shards(agentFrom(minimal))).toBeUndefined();
    expect(sts(agentFrom(minimal, { paused: true })).spec.replicas).toBe(0);
  });

  test('resources a spec leaves out come from the CRD default, as the API server would fill them', () => {
    const resources = (a: StoredAgent) => sts(a).spec.template.spec.containers[0]!.resources;
    const crdDefault = readCrdDefault();
    expect(resources(agentFrom(minimal))).toEqual(crdDefault);
    expect(resources(agentFrom(minimal, { resources: { limits: { memory: '512Mi' } } }))).toEqual({
      requests: crdDefault.requests,
      limits: { ...crdDefault.limits, memory: '512Mi' },
    });
  });

  test('a changed spec changes the pod template (it rolls); the same spec does not', () => {
    const hash = (a: StoredAgent) =>
      sts(a).spec.template.metadata.annotations['edgewarden.io/config-hash'];
    expect(hash(agentFrom(minimal))).toBe(hash(agentFrom(minimal)));
    expect(hash(agentFrom(minimal, { interval: '1m' }))).not.toBe(hash(agentFrom(minimal)));
  });

  test('rule tuning reaches the pods through their ConfigMap without rolling them; a rule ConfigMap is mounted', () => {
    const hash = (a: StoredAgent) =>
      sts(a).spec.template.metadata.annotations['edgewarden.io/config-hash'];
    const config = (a: StoredAgent) =>
      (agentChildren(a, settings).configMap as unknown as { data: Record<string, string> }).data;
    const tuned = agentFrom(minimal, {
      rules: {
        disabled: ['auth.distributed-brute-force'],
        overrides: [{ rule: 'auth.sshd-brute-force', threshold: 10, window: '15m' }],
        allow: { sources: ['192.0.2.10', '10.0.0.0/8'] },
      },
    });
    // The same pods: the agent re-reads spec.rules from the mounted file before each cycle.
    expect(hash(tuned)).toBe(hash(agentFrom(minimal)));
    expect(Object.values(config(tuned))[0]).toContain('auth.sshd-brute-force');
    // A ConfigMap of rule packs: a volume, so adding one rolls the pods; its edits do not.
    const withPacks = agentFrom(minimal, { rules: { configMaps: [{ name: 'site-rules' }] } });
    expect(hash(withPacks)).not.toBe(hash(agentFrom(minimal)));
    const pod = sts(withPacks).spec.template.spec as unknown as {
      volumes: { name: string; configMap?: { name: string } }[];
      containers: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
    };
    expect(pod.volumes).toContainEqual({ name: 'rules-0', configMap: { name: 'site-rules' } });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'rules-0',
      mountPath: '/etc/edgewarden/rules/site-rules',
      readOnly: true,
    });
    expect(
      hash(
        agentFrom(minimal, {
          rules: { configMaps: [{ name: 'site-rules' }], disabled: ['auth.luci-brute-force'] },
        }),
      ),
    ).toBe(hash(withPacks));
  });

  test('the heap is sized to the memory limit, the young generation to the agent', () => {
    // a quarter of the example's 384Mi limit, and 2 MB semi-spaces (bench/pi.mjs)
    expect(envOf(agentFrom(example)).find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(
      '--max-old-space-size=96 --max-semi-space-size=2',
    );
  });
});
