// What every controller is built from (main builds it once): the API client, the log, the event
// recorder, the metrics, and one shared informer per kind and label selector, so two controllers
// that read pods read one cache of them, held in memory once.
import type { Logger } from '../../../api/src/log.js';
import type { ControllerMetrics } from './controller.js';
import type { EventRecorder } from './events.js';
import { Informer, NamespacedInformers, type Cache } from './informer.js';
import type { KubeClient, KubeObject, Resource } from './kubeClient.js';

/** The cache of `resource` (with `labelSelector`): the same one for every caller. */
export type InformerFor = <T extends KubeObject>(
  resource: Resource,
  labelSelector?: string,
) => Cache<T>;

export interface ControllerEnv {
  client: KubeClient;
  log: Logger;
  events: EventRecorder;
  metrics: ControllerMetrics;
  informer: InformerFor;
  now: () => Date;
}

/**
 * Informers of `namespaces` (unset or empty: all), one per kind and selector. An operator
 * limited to several namespaces has no right to list a kind cluster-wide: one per namespace.
 */
export function sharedInformers(
  client: KubeClient,
  log: Logger,
  namespaces: readonly string[] = [],
): InformerFor {
  const unique = [...new Set(namespaces)];
  const made = new Map<string, Cache<KubeObject>>();
  const make = (resource: Resource, labelSelector?: string): Cache<KubeObject> => {
    if (unique.length <= 1)
      return new Informer(client, resource, log, { namespace: unique[0], labelSelector });
    return new NamespacedInformers(
      new Map(
        unique.map((namespace) => [
          namespace,
          new Informer(client, resource, log, { namespace, labelSelector }),
        ]),
      ),
    );
  };
  return <T extends KubeObject>(resource: Resource, labelSelector?: string): Cache<T> => {
    const key = `${resource.apiVersion}/${resource.plural}?${labelSelector ?? ''}`;
    let cache = made.get(key);
    if (!cache) made.set(key, (cache = make(resource, labelSelector)));
    return cache as Cache<T>;
  };
}
