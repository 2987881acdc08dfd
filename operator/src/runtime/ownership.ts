// Children are never adopted. A child's name is deterministic, so an object of that name may
// already be there, made by someone else; a forced server-side apply would take it over (our
// owner reference, our fields), and the garbage collector would delete it with our resource.
// Before a child is written, the object in its place, if any, must be controlled by the
// resource that writes it (an owner reference with `controller: true` and that resource's uid).
// Anything else is a ChildConflict: not written, said in a condition and an Event.
import type { Cache } from './informer.js';
import type { KubeClient, KubeObject, OwnerReference, Resource } from './kubeClient.js';

interface Owned {
  metadata: { ownerReferences?: OwnerReference[] };
}

/** Whether `object` is controlled by the object of `uid` (its controller owner reference). */
export function controlledBy(object: Owned, uid: string | undefined): boolean {
  return (
    uid !== undefined &&
    (object.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid)
  );
}

/** An object in a child's place that its owner does not control. */
export interface ObjectInTheWay {
  kind: string;
  name: string;
  /** Who controls it, if anyone: `Kind/name`. */
  controller?: string;
  /** It is being deleted (the child of an owner of the same name, deleted just before). */
  deleting: boolean;
}

function describe(o: ObjectInTheWay): string {
  const whose = o.controller ? `controlled by ${o.controller}` : 'not created by this resource';
  return `${o.kind} "${o.name}" already exists, ${whose}${o.deleting ? ', being deleted' : ''}`;
}

/**
 * Objects are in the place of a resource's children. Not terminal: the user may delete or rename
 * them, which the operator does not watch (they are not its own), so the reconcile is retried
 * with the work queue's backoff.
 */
export class ChildConflictError extends Error {
  readonly code = 'EW_CHILD_CONFLICT';
  /** The reason of the condition that reports it. */
  readonly reason = 'ChildConflict';

  constructor(
    readonly objects: ObjectInTheWay[],
    owner: string,
  ) {
    super(
      `${objects.map(describe).join('; ')}: the ${owner} does not take over objects it did not ` +
        `create; delete or rename ${objects.length > 1 ? 'them' : 'it'}, or rename the ${owner}`,
    );
    this.name = 'ChildConflictError';
  }
}

/** A child to be written: where it lives, its cache if the controller has one, the object. */
export interface ChildPlace {
  resource: Resource;
  cache?: Cache<KubeObject>;
  child: { kind: string; metadata: { name: string; namespace?: string } };
}

/**
 * The object in a child's place that `uid` does not control, if any. The cache is read first
 * (free); a child not in it (the caches hold only labelled objects) is read from the server,
 * metadata only.
 */
export async function inTheWay(
  client: KubeClient,
  uid: string | undefined,
  place: ChildPlace,
): Promise<ObjectInTheWay | undefined> {
  const { namespace, name } = place.child.metadata;
  const current =
    place.cache?.get(namespace, name) ??
    (await client.findMetadata(place.resource, namespace, name));
  if (!current || controlledBy(current, uid)) return undefined;
  const ref = current.metadata.ownerReferences?.find((r) => r.controller === true);
  return {
    kind: place.child.kind,
    name,
    ...(ref ? { controller: `${ref.kind}/${ref.name}` } : {}),
    deleting: current.metadata.deletionTimestamp !== undefined,
  };
}

/**
 * Throws a ChildConflictError naming every object in the places of `children` that `uid` does
 * not control. A set is refused whole: half a set would run pods with another's configuration
 * or service account.
 */
export async function refuseForeign(
  client: KubeClient,
  owner: { kind: string; metadata: { uid?: string } },
  children: ChildPlace[],
): Promise<void> {
  const found = await Promise.all(children.map((c) => inTheWay(client, owner.metadata.uid, c)));
  const foreign = found.filter((o): o is ObjectInTheWay => o !== undefined);
  if (foreign.length > 0) throw new ChildConflictError(foreign, owner.kind);
}
