// The children an AnalysisAgent's reconcile applies, and the inputs read beside them: each child
// applied only when its inputs changed (the input hash on the cached copy), the referenced Secrets
// that do not exist (metadata only), and the claims of its ModelDeployment's sources.
import type { AgentChildren, StoredAgent } from '../../domain/analysisAgent/desired.js';
import { referencedSecrets } from '../../domain/analysisAgent/status.js';
import type { Child } from '../../domain/children.js';
import { RESOURCES } from '../../domain/resources.js';
import { INPUT_HASH_ANNOTATION, inputHash } from '../../runtime/hash.js';
import type { Cache } from '../../runtime/informer.js';
import { ApiError, type KubeObject, type Resource } from '../../runtime/kubeClient.js';
import { controlledBy, refuseForeign, type ChildPlace } from '../../runtime/ownership.js';
import { TerminalError } from '../../runtime/terminalError.js';
import type { AgentContext } from './context.js';

/** Applies a child unless the cached copy was made from the same inputs; whether it applied. */
async function applyChild(
  ctx: AgentContext,
  resource: Resource,
  cache: Cache<KubeObject>,
  child: Child,
): Promise<boolean> {
  const hash = inputHash(child);
  const current = cache.get(child.metadata.namespace, child.metadata.name);
  if (current?.metadata.annotations?.[INPUT_HASH_ANNOTATION] === hash) return false;
  try {
    await ctx.client.apply(resource, {
      ...child,
      metadata: {
        ...child.metadata,
        annotations: { ...child.metadata.annotations, [INPUT_HASH_ANNOTATION]: hash },
      },
    } as KubeObject);
  } catch (error) {
    // The server finds the child the spec makes invalid: the same spec makes the same child.
    if (error instanceof ApiError && error.status === 422)
      throw new TerminalError('InvalidChild', error.message, { cause: error });
    throw error;
  }
  return true;
}

/**
 * The NetworkPolicy when the operator makes none (`--agent-network-policy=false`): one this
 * agent controls, made while it did, is deleted; anyone else's is left alone.
 */
async function pruneNetworkPolicy(
  ctx: AgentContext,
  agent: StoredAgent & KubeObject,
  name: string,
): Promise<void> {
  const current = ctx.networkPolicies.get(agent.metadata.namespace, name);
  if (current && controlledBy(current, agent.metadata.uid))
    await ctx.client.delete(RESOURCES.networkPolicy, agent.metadata.namespace, name);
}

/**
 * Applies the agent's children: first those its pods need (the NetworkPolicy before any pod
 * listens), then the StatefulSet; whether the StatefulSet changed. A missing Secret does not
 * stop them: the pods wait for it. An object in the place of any of them that the agent does not
 * control stops them all (ChildConflictError): pods must not run with another's ConfigMap or
 * ServiceAccount, nor under a NetworkPolicy that is not theirs.
 */
export async function applyAgentChildren(
  ctx: AgentContext,
  agent: StoredAgent & KubeObject,
  children: AgentChildren,
): Promise<boolean> {
  const policy = children.networkPolicy;
  const places: ChildPlace[] = [
    {
      resource: RESOURCES.serviceAccount,
      cache: ctx.serviceAccounts,
      child: children.serviceAccount,
    },
    { resource: RESOURCES.configMap, cache: ctx.configMaps, child: children.configMap },
    { resource: RESOURCES.service, cache: ctx.services, child: children.service },
    { resource: RESOURCES.statefulSet, cache: ctx.statefulSets, child: children.statefulSet },
  ];
  if (policy)
    places.push({ resource: RESOURCES.networkPolicy, cache: ctx.networkPolicies, child: policy });
  await refuseForeign(ctx.client, agent, places);
  await applyChild(ctx, RESOURCES.serviceAccount, ctx.serviceAccounts, children.serviceAccount);
  await applyChild(ctx, RESOURCES.configMap, ctx.configMaps, children.configMap);
  await applyChild(ctx, RESOURCES.service, ctx.services, children.service);
  if (policy) await applyChild(ctx, RESOURCES.networkPolicy, ctx.networkPolicies, policy);
  else await pruneNetworkPolicy(ctx, agent, children.statefulSet.metadata.name);
  return applyChild(ctx, RESOURCES.statefulSet, ctx.statefulSets, children.statefulSet);
}

/** Which referenced Secrets exist: metadata only, so the operator never holds their values. */
export async function missingSecrets(
  ctx: AgentContext,
  agent: StoredAgent,
): Promise<{ name: string; field: string }[]> {
  const missing: { name: string; field: string }[] = [];
  for (const ref of referencedSecrets(agent)) {
    try {
      await ctx.client.request(
        'GET',
        `/api/v1/namespaces/${agent.metadata.namespace}/secrets/${ref.name}`,
        {
          accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
        },
      );
    } catch (error) {
      if (error instanceof ApiError && error.notFound) missing.push(ref);
      // Not granted here (a cluster-wide install reads no Secrets: docs/security.md): the pod
      // says it instead, as the kubelet's CreateContainerConfigError (`secret "x" not found`).
      else if (error instanceof ApiError && error.status === 403) return missing;
      else throw error;
    }
  }
  return missing;
}

/** Claims of the agent's ModelDeployment sources (its target and its stable version). */
export function modelClaims(ctx: AgentContext, agent: StoredAgent): string[] {
  const md = agent.spec.model && ctx.models.get(agent.metadata.namespace, agent.spec.model.name);
  if (!md || md.spec.agent !== agent.spec.agent) return [];
  return [md.spec.source, md.status?.stable?.source]
    .map((s) => s?.persistentVolumeClaim?.claimName)
    .filter((c): c is string => c !== undefined);
}
