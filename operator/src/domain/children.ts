// What every child of one of our resources shares: a deterministic name, the usual labels,
// and a controller owner reference, so the garbage collector removes it with its owner.
import { createHash } from 'node:crypto';

export interface Child {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Record<string, unknown>[];
  };
  [field: string]: unknown;
}

export interface Owner {
  apiVersion: string;
  kind: string;
  metadata: { name: string; uid?: string };
}

/** `<owner>-<suffix>`, shortened with a hash when over 63 characters (a DNS label). */
export function childName(owner: string, suffix: string): string {
  const name = `${owner}-${suffix}`;
  if (name.length <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  return `${name.slice(0, 63 - suffix.length - 10).replace(/-+$/, '')}-${hash}-${suffix}`;
}

export function labelsFor(
  instance: string,
  component: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'edgewarden',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/component': component,
    'app.kubernetes.io/managed-by': 'edgewarden-operator',
    ...extra,
  };
}

export function ownerReference(owner: Owner): Record<string, unknown> {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}
