import type { Cache } from './informer.js';
import type { KubeClient, KubeObject, Resource } from './kubeClient.js';
import { ChildConflictError, controlledBy, inTheWay, refuseForeign } from './ownership.js';

const CM: Resource = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
const SA: Resource = {
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  plural: 'serviceaccounts',
  namespaced: true,
};

const ref = (uid: string, controller?: boolean) => ({
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'AnalysisAgent',
  name: 'dns',
  uid,
  ...(controller === undefined ? {} : { controller }),
});

const object = (name: string, metadata: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', ...metadata },
});

/** A client whose metadata GETs find `objects` by name, counting them. */
function fakeClient(objects: KubeObject[]): KubeClient & { gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    findMetadata: (_r: Resource, _ns: string | undefined, name: string) => {
      gets.push(name);
      return Promise.resolve(objects.find((o) => o.metadata.name === name));
    },
  } as unknown as KubeClient & { gets: string[] };
}

const cacheOf = (objects: KubeObject[]) =>
  ({ get: (_ns: string, name: string) => objects.find((o) => o.metadata.name === name) }) as
    Cache<KubeObject> | undefined;

const child = (kind: string, name: string) => ({ kind, metadata: { name, namespace: 'ns' } });

describe('controlledBy', () => {
  test('only an owner reference with controller: true and the uid', () => {
    expect(controlledBy(object('a', { ownerReferences: [ref('u1', true)] }), 'u1')).toBe(true);
    expect(controlledBy(object('a', { ownerReferences: [ref('u1', false)] }), 'u1')).toBe(false);
    expect(controlledBy(object('a', { ownerReferences: [ref('u1')] }), 'u1')).toBe(false);
    expect(controlledBy(object('a', { ownerReferences: [ref('u2', true)] }), 'u1')).toBe(false);
    expect(controlledBy(object('a'), 'u1')).toBe(false);
    expect(controlledBy(object('a', { ownerReferences: [ref('u1', true)] }), undefined)).toBe(
      false,
    );
  });
});

describe('inTheWay', () => {
  test('nothing there, or ours: nothing in the way; the cache is read before the server', async () => {
    const client = fakeClient([]);
    const ours = object('dns-agent', { ownerReferences: [ref('u1', true)] });
    const place = { resource: CM, cache: cacheOf([ours]), child: child('ConfigMap', 'dns-agent') };
    expect(await inTheWay(client, 'u1', place)).toBeUndefined();
    expect(client.gets).toEqual([]);
    const absent = { resource: CM, cache: cacheOf([]), child: child('ConfigMap', 'dns-agent') };
    expect(await inTheWay(client, 'u1', absent)).toBeUndefined();
    expect(client.gets).toEqual(['dns-agent']);
  });

  test("an object the caches do not hold, someone else's or another owner's, is in the way", async () => {
    const client = fakeClient([
      object('plain'),
      object('other', {
        ownerReferences: [ref('u2', true)],
        deletionTimestamp: '2026-01-01T00:00:00Z',
      }),
    ]);
    expect(
      await inTheWay(client, 'u1', { resource: CM, child: child('ConfigMap', 'plain') }),
    ).toEqual({ kind: 'ConfigMap', name: 'plain', deleting: false });
    expect(
      await inTheWay(client, 'u1', { resource: CM, child: child('ConfigMap', 'other') }),
    ).toEqual({
      kind: 'ConfigMap',
      name: 'other',
      controller: 'AnalysisAgent/dns',
      deleting: true,
    });
  });
});

describe('refuseForeign', () => {
  const owner = { kind: 'AnalysisAgent', metadata: { uid: 'u1' } };

  test('names every object in the way, and how to resolve it', async () => {
    const client = fakeClient([object('dns-agent')]);
    const error = await refuseForeign(client, owner, [
      { resource: SA, child: child('ServiceAccount', 'dns-agent') },
      { resource: CM, child: child('ConfigMap', 'dns-agent') },
      { resource: CM, child: child('ConfigMap', 'absent') },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChildConflictError);
    const conflict = error as ChildConflictError;
    expect(conflict.reason).toBe('ChildConflict');
    expect(conflict.code).toBe('EW_CHILD_CONFLICT');
    expect(conflict.message).toBe(
      'ServiceAccount "dns-agent" already exists, not created by this resource; ' +
        'ConfigMap "dns-agent" already exists, not created by this resource: the AnalysisAgent ' +
        'does not take over objects it did not create; delete or rename them, or rename the AnalysisAgent',
    );
  });

  test('children all ours or absent: no error', async () => {
    const client = fakeClient([object('mine', { ownerReferences: [ref('u1', true)] })]);
    await expect(
      refuseForeign(client, owner, [
        { resource: CM, child: child('ConfigMap', 'mine') },
        { resource: CM, child: child('ConfigMap', 'absent') },
      ]),
    ).resolves.toBeUndefined();
  });
});
