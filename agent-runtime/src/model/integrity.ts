// The manifest's integrity (issue 20, Lows): a manifest.json sets the model's threshold and
// output scale, so one downloaded over http (or changed on its server) could silently change
// what an agent flags. The ModelDeployment pins its SHA-256 (source.http.manifestSha256,
// required with manifestUrl), and the bytes must have it before they are even parsed.
import { createHash } from 'node:crypto';

import { ModelError } from './manifest.js';

const SHA256 = /^[a-f0-9]{64}$/;

/** What is wrong with an offer's manifestSha256 field, if anything (parseOffer's wording). */
export function manifestDigestProblem(
  manifestSha256: unknown,
  hasManifest: boolean,
): string | undefined {
  if (manifestSha256 === undefined) return undefined;
  if (typeof manifestSha256 !== 'string' || !SHA256.test(manifestSha256))
    return 'manifestSha256: 64 lowercase hex digits';
  if (!hasManifest) return 'manifestSha256: only with manifest';
  return undefined;
}

/**
 * Refuses `bytes` whose SHA-256 is not `expected` (when one is given), with the generic reason
 * DigestMismatch: the message names the model version and the digests' first characters,
 * never the bytes.
 */
export function checkManifestDigest(
  bytes: Uint8Array,
  expected: string | undefined,
  version: string,
): void {
  if (expected === undefined) return;
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected)
    throw new ModelError(
      'DigestMismatch',
      `the manifest of model ${version} does not have the sha256 the offer names (${actual.slice(0, 12)}, not ${expected.slice(0, 12)})`,
    );
}
