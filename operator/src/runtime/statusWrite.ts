// The status write every controller ends its pass with: only when the status it rebuilt differs
// from the one stored, by server-side apply, with the resourceVersion it was computed from as a
// precondition. If the object changed meanwhile (a spec edit, or deleted and created again under
// the same name) the server refuses the write with 409 Conflict, and the retry computes it anew.
import { stableJson } from './hash.js';
import type { KubeClient, KubeObject, Resource } from './kubeClient.js';

/** Writes `status` on `object` unless it holds that status already; whether it wrote. */
export async function writeStatusIfChanged(
  client: KubeClient,
  resource: Resource,
  object: KubeObject & { status?: unknown },
  status: object,
): Promise<boolean> {
  if (stableJson(status) === stableJson(object.status ?? {})) return false;
  const { name, namespace, resourceVersion } = object.metadata;
  await client.applyStatus(resource, {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name, namespace, resourceVersion },
    status,
  });
  return true;
}
