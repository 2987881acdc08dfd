// Where an offer's bytes are, as the agent pod is told: the content of ConfigMap or Secret keys
// (base64, read here from the API server), URLs, or files on the claim the pod mounts.
import type { ModelOfferRequest } from '../../../../agent-runtime/src/contract/index.js';
import type { Stable } from '../../domain/modelDeployment/rollout.js';
import { RESOURCES } from '../../domain/resources.js';
import type { KubeClient, KubeObject } from '../../runtime/kubeClient.js';
import { OfferRefused } from './offerRefused.js';

type KeyedObject = KubeObject & {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
};

/** The offer's source and manifest for a model's source. */
export async function modelSource(
  client: KubeClient,
  namespace: string,
  source: Stable['source'],
): Promise<Pick<ModelOfferRequest, 'source' | 'manifest'>> {
  if (source.http)
    return {
      source: { url: source.http.url },
      ...(source.http.manifestUrl ? { manifest: { url: source.http.manifestUrl } } : {}),
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
  const object = await client.find<KeyedObject>(
    source.configMap ? RESOURCES.configMap : RESOURCES.secret,
    namespace,
    ref.name,
  );
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
