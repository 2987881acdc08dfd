// Where an offer's bytes are, as the agent pod is told: the content of ConfigMap or Secret keys
// (base64, read here from the API server), URLs, or files on the claim the pod mounts.
import type { ModelOfferRequest } from '../../../../agent-runtime/src/contract/index.js';
import type { Stable } from '../../domain/modelDeployment/rollout.js';
import { RESOURCES } from '../../domain/resources.js';
import {
  ApiError,
  resourcePath,
  type KubeClient,
  type KubeObject,
  type Resource,
} from '../../runtime/kubeClient.js';
import { OfferRefused } from './offerRefused.js';

type KeyedObject = KubeObject & {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
};

/** The label a ConfigMap or Secret must carry, set to "true", to be read as a model source. */
export const MODEL_SOURCE_LABEL = 'edgewarden.io/model-source';

/** An object's labels, read as metadata only (never its data); undefined when it does not exist. */
async function sourceLabels(
  client: KubeClient,
  resource: Resource,
  namespace: string,
  name: string,
): Promise<Record<string, string> | undefined> {
  try {
    const meta = await client.request<KubeObject>('GET', resourcePath(resource, namespace, name), {
      accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
    });
    return meta.metadata.labels ?? {};
  } catch (error) {
    if (error instanceof ApiError && error.notFound) return undefined;
    // A Secret in a namespace where the operator may read none (a cluster-wide install grants no
    // Secret reads; docs/security.md): retried each poll, as the grant may come.
    if (error instanceof ApiError && error.status === 403)
      throw new OfferRefused(
        'SourceForbidden',
        `the operator may not read ${resource.kind} ${name} in ${namespace}: list the namespace in the chart's operator.secretNamespaces, or use a ConfigMap source`,
        0,
      );
    throw error;
  }
}

/** The offer's source and manifest for a model's source. */
export async function modelSource(
  client: KubeClient,
  namespace: string,
  source: Stable['source'],
): Promise<Pick<ModelOfferRequest, 'source' | 'manifest' | 'manifestSha256'>> {
  if (source.http)
    return {
      source: { url: source.http.url },
      ...(source.http.manifestUrl
        ? {
            manifest: { url: source.http.manifestUrl },
            // Pinned by the schema beside manifestUrl; the agent refuses other bytes (issue 20).
            ...(source.http.manifestSha256 ? { manifestSha256: source.http.manifestSha256 } : {}),
          }
        : {}),
    };
  if (source.persistentVolumeClaim) {
    const { claimName, path, manifestPath } = source.persistentVolumeClaim;
    return {
      source: { file: `${claimName}/${path}` },
      ...(manifestPath ? { manifest: { file: `${claimName}/${manifestPath}` } } : {}),
    };
  }
  const ref = source.configMap ?? source.secret!;
  const kind = source.configMap ? 'ConfigMap' : 'Secret';
  const resource = source.configMap ? RESOURCES.configMap : RESOURCES.secret;
  // Its labels first, metadata only: an object not labelled as a model source is not read at
  // all, so a ModelDeployment cannot carry any Secret's bytes to an agent (issue 20, H1).
  const labels = await sourceLabels(client, resource, namespace, ref.name);
  if (!labels) throw new OfferRefused('SourceNotFound', `${kind} ${ref.name} does not exist`, 0);
  if (labels[MODEL_SOURCE_LABEL] !== 'true')
    throw new OfferRefused(
      'SourceNotLabelled',
      `${kind} ${ref.name} is not labelled ${MODEL_SOURCE_LABEL}: "true", which a model source must be`,
      0,
    );
  const object = await client.find<KeyedObject>(resource, namespace, ref.name);
  if (!object) throw new OfferRefused('SourceNotFound', `${kind} ${ref.name} does not exist`, 0);
  const inline = (key: string): { inline: string } => {
    // Secret data and ConfigMap binaryData are base64 already; ConfigMap data is text.
    const value =
      (source.configMap ? object.binaryData?.[key] : object.data?.[key]) ??
      (source.configMap && object.data?.[key] !== undefined
        ? Buffer.from(object.data[key], 'utf8').toString('base64')
        : undefined);
    if (value === undefined)
      throw new OfferRefused('SourceNotFound', `${kind} ${ref.name} has no key ${key}`, 0);
    return { inline: value };
  };
  return {
    source: inline(ref.key),
    ...(ref.manifestKey ? { manifest: inline(ref.manifestKey) } : {}),
  };
}
