import { createHash } from 'node:crypto';

import { offerManifest } from './delivery.js';
import { checkManifestDigest, manifestDigestProblem } from './integrity.js';
import { ModelError } from './manifest.js';

const manifest = Buffer.from('{"threshold": 0.9}');
const digest = createHash('sha256').update(manifest).digest('hex');

test('a manifest with the named sha256 passes; none named, nothing checked', () => {
  expect(() => checkManifestDigest(manifest, digest, 'v2')).not.toThrow();
  expect(() => checkManifestDigest(manifest, undefined, 'v2')).not.toThrow();
});

test('a manifest whose bytes differ is refused with DigestMismatch, never quoting them', () => {
  const changed = Buffer.from('{"threshold": 0.1}');
  let error: unknown;
  try {
    checkManifestDigest(changed, digest, 'v2');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ModelError);
  expect((error as ModelError).reason).toBe('DigestMismatch');
  expect((error as ModelError).message).not.toContain('threshold');
});

test('the offer field is 64 lowercase hex digits, and only beside a manifest', () => {
  expect(manifestDigestProblem(undefined, false)).toBeUndefined();
  expect(manifestDigestProblem(digest, true)).toBeUndefined();
  expect(manifestDigestProblem(digest.toUpperCase(), true)).toContain('64 lowercase hex');
  expect(manifestDigestProblem(digest, false)).toContain('only with manifest');
});

test('an offer whose manifest differs from its manifestSha256 is refused before it is read', async () => {
  const offer = {
    version: 'v2',
    agent: 'dns',
    features: ['lines'],
    source: { inline: '' },
    manifest: { inline: Buffer.from('{"threshold": 0.1}').toString('base64') },
    manifestSha256: digest,
  };
  await expect(offerManifest(offer, '/nonexistent')).rejects.toMatchObject({
    reason: 'DigestMismatch',
  });
  const same = { ...offer, manifest: { inline: manifest.toString('base64') } };
  await expect(offerManifest(same, '/nonexistent')).resolves.toEqual({ threshold: 0.9 });
});
