// The agent's side of a ModelDeployment rollout: who may offer a model (a bearer token whose
// SHA-256 the pod was started with), what an offer must hold, and where its bytes and its
// manifest.json come from (inline, downloaded over HTTP(S) with a size cap from an address the
// policy allows, or a file on the read-only model source volume). Installing them is
// install.ts's job.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';

import {
  MAX_MANIFEST_BYTES,
  MAX_MODEL_BYTES,
  type ModelOfferRequest,
  type ModelOfferSource,
} from '../contract/index.js';
import { PUBLIC_ONLY, type AddressPolicy } from './addressPolicy.js';
import { checkManifestDigest, manifestDigestProblem } from './integrity.js';
import { ModelError, type ModelFailureReason } from './manifest.js';
import { DownloadError, safeDownload } from './safeFetch.js';

// The token check lives with the API's other checks (issue 20, H2).
export { authorized } from '../http/tokens.js';

const SHA256 = /^[a-f0-9]{64}$/;
const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Checks PUT /model's body; returns the request or a message naming the bad field. */
export function parseOffer(body: unknown): ModelOfferRequest | string {
  const b = body as Partial<Record<keyof ModelOfferRequest, unknown>> | null;
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return 'body: not a JSON object';
  if (typeof b.version !== 'string' || b.version === '') return 'version: a non-empty string';
  if (typeof b.agent !== 'string') return 'agent: a string';
  if (!isStringArray(b.features) || b.features.length === 0)
    return 'features: a non-empty list of names';
  if (b.threshold !== undefined && (typeof b.threshold !== 'number' || !(b.threshold >= 0)))
    return 'threshold: a number from 0 to 1';
  if (b.sha256 !== undefined && (typeof b.sha256 !== 'string' || !SHA256.test(b.sha256)))
    return 'sha256: 64 lowercase hex digits';
  if (b.dryRun !== undefined && typeof b.dryRun !== 'boolean') return 'dryRun: a boolean';
  const source = sourceProblem('source', b.source);
  if (source) return source;
  if ('url' in (b.source as object) && b.sha256 === undefined)
    return 'sha256: required with source.url';
  if (b.manifest !== undefined) {
    const manifest = sourceProblem('manifest', b.manifest);
    if (manifest) return manifest;
  }
  const digest = manifestDigestProblem(b.manifestSha256, b.manifest !== undefined);
  if (digest) return digest;
  return b as ModelOfferRequest;
}

/** What is wrong with an offer's source (or manifest) field, if anything. */
function sourceProblem(field: string, value: unknown): string | undefined {
  const source = value as Record<string, unknown> | undefined;
  const keys = source && typeof source === 'object' ? Object.keys(source) : [];
  if (keys.length !== 1 || !['inline', 'url', 'file'].includes(keys[0]!))
    return `${field}: exactly one of inline, url, file`;
  if (typeof source![keys[0]!] !== 'string') return `${field}.${keys[0]}: a string`;
  if (keys[0] === 'url' && !/^https?:\/\//.test(source!.url as string))
    return `${field}.url: an http(s) URL`;
  return undefined;
}

/** How a URL source is downloaded: from which addresses, within how long. */
export interface SourceFetching {
  /** Public addresses only unless the administrator allowed more (addressPolicy.ts). */
  addresses: AddressPolicy;
  timeoutMs: number;
}
const FETCHING: SourceFetching = { addresses: PUBLIC_ONLY, timeoutMs: 60_000 };

/** The offer's bytes: decoded, downloaded or read; never more than MAX_MODEL_BYTES. */
export async function offerBytes(
  offer: ModelOfferRequest,
  sourceDir: string,
  fetching: Partial<SourceFetching> = {},
): Promise<Uint8Array> {
  return fetchSource(
    offer.source,
    sourceDir,
    { ...FETCHING, ...fetching },
    {
      field: 'source',
      limit: MAX_MODEL_BYTES,
      tooBig: 'InvalidModel',
    },
  );
}

/**
 * The offer's manifest.json, parsed (unchecked: installModel checks it), or undefined when
 * the offer names none. Never more than MAX_MANIFEST_BYTES.
 */
export async function offerManifest(
  offer: ModelOfferRequest,
  sourceDir: string,
  fetching: Partial<SourceFetching> = {},
): Promise<unknown> {
  if (offer.manifest === undefined) return undefined;
  const bytes = await fetchSource(
    offer.manifest,
    sourceDir,
    { ...FETCHING, ...fetching },
    {
      field: 'manifest',
      limit: MAX_MANIFEST_BYTES,
      tooBig: 'ManifestInvalid',
    },
  );
  checkManifestDigest(bytes, offer.manifestSha256, offer.version);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    // Never the parser's message: it quotes the bytes, and they may be any Secret's (issue 20, H1).
    throw new ModelError(
      'ManifestInvalid',
      `the manifest of model ${offer.version} is not JSON (${bytes.length} bytes, sha256 ${createHash('sha256').update(bytes).digest('hex').slice(0, 12)})`,
    );
  }
}

/** The bytes of an offer's source or manifest; refused with `tooBig` past `limit` bytes. */
async function fetchSource(
  source: ModelOfferSource,
  sourceDir: string,
  fetching: SourceFetching,
  what: { field: 'source' | 'manifest'; limit: number; tooBig: ModelFailureReason },
): Promise<Uint8Array> {
  const { field, limit } = what;
  const tooBig = (name: string): ModelError =>
    new ModelError(what.tooBig, `${name} is larger than ${limit} bytes`);
  if ('inline' in source) {
    const bytes = Buffer.from(source.inline, 'base64');
    if (bytes.length > limit) throw tooBig(field === 'source' ? 'the model' : 'the manifest');
    return bytes;
  }
  if ('url' in source) return download(source.url, fetching, tooBig, limit);
  const root = path.resolve(sourceDir);
  const file = path.resolve(root, source.file);
  if (!file.startsWith(root + path.sep))
    throw new ModelError('ManifestInvalid', `${field}.file: ${source.file} is outside the volume`);
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new ModelError(
      'ModelMissing',
      `${source.file} on the model source volume: ${(error as NodeJS.ErrnoException).code ?? 'cannot be opened'}`,
    );
  }
  try {
    if ((await handle.stat()).size > limit) throw tooBig(source.file);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The bytes at `url`, from an address the policy allows (safeFetch.ts, issue 20 M1). */
async function download(
  url: string,
  fetching: SourceFetching,
  tooBig: (what: string) => ModelError,
  limit: number,
): Promise<Uint8Array> {
  try {
    return await safeDownload(url, fetching.addresses, { limit, timeoutMs: fetching.timeoutMs });
  } catch (error) {
    if (!(error instanceof DownloadError)) throw error;
    // The URL is the user's, but its query may hold a credential: messages name only the host.
    if (error.kind === 'tooBig') throw tooBig(error.message);
    if (error.kind === 'refused')
      throw new ModelError('SourceAddressRefused', `download from ${error.message}`);
    throw new ModelError('DownloadFailed', `download from ${error.message}`);
  }
}
