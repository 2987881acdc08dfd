// The agent's configuration file, as the operator writes it into the agent's ConfigMap: the
// AnalysisAgent itself (its spec and name), secrets by reference only; and the hash of the
// part of it whose change needs new pods.
import { agentDefaults } from '../../../../agent-runtime/src/contract/index.js';
import type { StoredAgent } from './storedAgent.js';

/** The file's key in the ConfigMap, and its name in the mounted folder. */
export const CONFIG_FILE = 'agent.yaml';
/** The folder the ConfigMap is mounted in: the contract's configuration path, less its file. */
export const CONFIG_DIR = dirOf(agentDefaults.config);

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

/**
 * The hash for the pod template's annotation: a changed configuration rolls the pods, as a
 * changed image does; a change of the rules' tuning does not: the running agent re-reads it
 * (the kubelet updates the mounted file).
 */
export function podConfigHash(agent: StoredAgent): string {
  return configHash(agentConfigFile(withoutRuleTuning(agent)));
}

/** The agent with spec.rules reduced to what needs new pods: the ConfigMaps mounted. */
function withoutRuleTuning(agent: StoredAgent): StoredAgent {
  const { rules, ...spec } = agent.spec;
  return rules?.configMaps?.length
    ? { ...agent, spec: { ...spec, rules: { configMaps: rules.configMaps } } }
    : { ...agent, spec };
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

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}
