// The namespace's two token Secrets (issue 21): `edgewarden-viewer-tokens` holds each
// AnalysisAgent's read token, `edgewarden-triager-tokens` its triage token, one key per agent
// name. RBAC grants them by name (the edgewarden-viewer and edgewarden-triager ClusterRoles), so
// `kubectl edgewarden` reaches agents with tokens the user's own rights let it read. Shared by
// every agent of the namespace: each owns the Secret (an owner reference, not a controller one),
// so the garbage collector deletes it with the last agent; a deleted agent's key goes on the
// next reconcile of any agent there. Pure: the I/O is controllers/analysisAgent/tokenSecrets.ts.
import type { OwnerReference } from '../../runtime/kubeClient.js';

export const VIEWER_TOKENS_SECRET = 'edgewarden-viewer-tokens';
export const TRIAGER_TOKENS_SECRET = 'edgewarden-triager-tokens';

/** The label that marks the Secrets as the operator's (and an object of the name as someone else's without it). */
export const TOKEN_SECRET_LABELS = { 'app.kubernetes.io/managed-by': 'edgewarden' };

const AGENT_API_VERSION = 'edgewarden.io/v1alpha1';
const AGENT_KIND = 'AnalysisAgent';

/** What the core needs of a Secret as read from the server. */
export interface TokenSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    resourceVersion?: string;
  };
  type?: string;
  data?: Record<string, string>;
}

/** One AnalysisAgent of the namespace that exists (not being deleted), with its token. */
export interface AgentToken {
  name: string;
  uid: string;
  token: string;
}

export type TokenSecretPlan =
  | { action: 'none' }
  | { action: 'create' | 'update'; secret: TokenSecret }
  /** An object of the name that the operator did not make: left alone. */
  | { action: 'foreign' };

const isAgentRef = (r: OwnerReference): boolean =>
  r.kind === AGENT_KIND && r.apiVersion.startsWith('edgewarden.io/');

function ownerRefs(existing: OwnerReference[], agents: AgentToken[]): OwnerReference[] {
  // Others' owner references stay; the AnalysisAgents' are exactly the agents that exist.
  const others = existing.filter((r) => !isAgentRef(r));
  const ours = agents.map((a) => ({
    apiVersion: AGENT_API_VERSION,
    kind: AGENT_KIND,
    name: a.name,
    uid: a.uid,
  }));
  return [...others, ...ours];
}

const sameRefs = (a: OwnerReference[], b: OwnerReference[]): boolean =>
  a.length === b.length &&
  a.every((r, i) => r.uid === b[i]!.uid && r.name === b[i]!.name && r.kind === b[i]!.kind);

const sameData = (a: Record<string, string>, b: Record<string, string>): boolean =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * What to do so that the Secret `name` of `namespace` holds a key per agent of `agents` (its
 * token, base64) and an owner reference to each, and nothing of agents that are gone. `existing`
 * is the Secret as read (undefined: there is none). No agents: nothing (the garbage collector
 * removes the Secret with its last owner).
 */
export function tokenSecretPlan(
  name: string,
  namespace: string,
  existing: TokenSecret | undefined,
  agents: AgentToken[],
): TokenSecretPlan {
  const sorted = [...agents].sort((a, b) => a.name.localeCompare(b.name));
  const data = Object.fromEntries(
    sorted.map((a) => [a.name, Buffer.from(a.token).toString('base64')]),
  );
  // With no agent left, an owner-less Secret would never be collected: leave it to the GC.
  if (sorted.length === 0) return { action: 'none' };
  if (!existing) {
    const metadata = {
      name,
      namespace,
      labels: { ...TOKEN_SECRET_LABELS },
      ownerReferences: ownerRefs([], sorted),
    };
    return {
      action: 'create',
      secret: { apiVersion: 'v1', kind: 'Secret', metadata, type: 'Opaque', data },
    };
  }
  const labels = existing.metadata.labels ?? {};
  const managed = Object.entries(TOKEN_SECRET_LABELS).every(([k, v]) => labels[k] === v);
  if (!managed) return { action: 'foreign' };
  const refs = ownerRefs(existing.metadata.ownerReferences ?? [], sorted);
  const current = existing.metadata.ownerReferences ?? [];
  if (sameRefs(current, refs) && sameData(existing.data ?? {}, data)) return { action: 'none' };
  return {
    action: 'update',
    secret: { ...existing, metadata: { ...existing.metadata, ownerReferences: refs }, data },
  };
}
