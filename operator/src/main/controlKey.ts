// The operator's control key: 32 random bytes in a Secret of the operator's namespace, made
// on first start and read after, so every replica and every restart derives the same agent
// tokens (a new key would change every agent pod's token digest and restart them all).
import { randomBytes } from 'node:crypto';

import {
  ApiError,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../runtime/kubeClient.js';

export const CONTROL_KEY_SECRET = 'edgewarden-control-key';
const SECRETS: Resource = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };

type Secret = KubeObject & { data?: Record<string, string> };

export async function ensureControlKey(client: KubeClient, namespace: string): Promise<Uint8Array> {
  const read = (s: Secret | undefined): Uint8Array | undefined => {
    const key = s?.data?.key ? Buffer.from(s.data.key, 'base64') : undefined;
    return key && key.length >= 32 ? key : undefined;
  };
  const existing = read(await client.find<Secret>(SECRETS, namespace, CONTROL_KEY_SECRET));
  if (existing) return existing;
  try {
    await client.create(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: CONTROL_KEY_SECRET,
        namespace,
        labels: {
          'app.kubernetes.io/name': 'edgewarden',
          'app.kubernetes.io/component': 'operator',
        },
      },
      type: 'Opaque',
      data: { key: randomBytes(32).toString('base64') },
    });
  } catch (error) {
    if (!(error instanceof ApiError && error.conflict)) throw error; // another replica made it
  }
  const made = read(await client.find<Secret>(SECRETS, namespace, CONTROL_KEY_SECRET));
  if (!made)
    throw new Error(
      `Secret ${namespace}/${CONTROL_KEY_SECRET} has no usable "key" (32 bytes or more, base64)`,
    );
  return made;
}
