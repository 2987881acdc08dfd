// Installing a model offered to a running agent (the ModelDeployment rollout's delivery): the
// bytes are checked against their sha256, written under versions/<id>/ (a hash of the manifest
// made from the offer, checksum included), loaded and trial-scored by onnxruntime, and only then made current by
// an atomic switch of the `current` symlink, which the model watcher serves. A refused offer
// changes nothing that serves: the previous version goes on scoring, and the error names the
// reason (ChecksumMismatch, InvalidModel, InputShapeMismatch, ManifestInvalid).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { checkManifest, ModelError } from './manifest.js';
import { LoadedModel } from './model.js';

/** What the operator offers an agent. */
export interface ModelOffer {
  version: string;
  agent: string;
  features: string[];
  threshold?: number;
  /** Hex SHA-256 of the ONNX bytes; the bytes must match it. */
  sha256: string;
  /** The ONNX bytes. */
  bytes: Uint8Array;
}

/** Versions kept on disk besides the current one (for a quick look at what served before). */
const KEEP_VERSIONS = 2;

export const CURRENT_LINK = 'current';
export const VERSIONS_DIR = 'versions';

/**
 * Validates the offer and makes it the current model under `modelDir`. Resolves with the
 * loaded model (the caller hands it to the watcher); throws ModelError and leaves the current
 * version in place otherwise.
 */
export async function installModel(
  modelDir: string,
  offer: ModelOffer,
  expectedAgent: string,
): Promise<LoadedModel> {
  if (offer.agent !== expectedAgent)
    throw new ModelError(
      'ManifestInvalid',
      `a model for the ${offer.agent} agent offered to the ${expectedAgent} agent`,
    );
  const sha256 = createHash('sha256').update(offer.bytes).digest('hex');
  if (sha256 !== offer.sha256.toLowerCase())
    throw new ModelError(
      'ChecksumMismatch',
      `model ${offer.version}: sha256 ${sha256} does not match the expected ${offer.sha256}`,
    );
  const manifest = checkManifest(
    {
      version: offer.version,
      agent: offer.agent,
      features: offer.features,
      ...(offer.threshold !== undefined ? { threshold: offer.threshold } : {}),
      sha256,
    },
    `model ${offer.version}`,
  );
  // Staged apart, loaded there, then renamed into place: a refused offer never touches a
  // version on disk (the same bytes with other features must not overwrite a served one).
  const versions = path.join(modelDir, VERSIONS_DIR);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const id = createHash('sha256').update(manifestText).digest('hex').slice(0, 32);
  const dir = path.join(versions, id);
  const staging = path.join(versions, `.incoming-${process.pid}-${Date.now()}`);
  await mkdir(staging, { recursive: true });
  let model: LoadedModel;
  try {
    await writeFile(path.join(staging, 'model.onnx'), offer.bytes);
    await writeFile(path.join(staging, 'manifest.json'), manifestText);
    model = await LoadedModel.load(staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  if (existsSync(dir))
    await rm(staging, { recursive: true, force: true }); // the same offer again
  else await rename(staging, dir);
  // The switch: a new symlink renamed over the old one is atomic.
  const link = path.join(modelDir, CURRENT_LINK);
  const temporary = `${link}.${process.pid}.tmp`;
  await rm(temporary, { force: true });
  await symlink(path.join(VERSIONS_DIR, id), temporary);
  await rename(temporary, link);
  await prune(versions, id);
  return model;
}

/** Removes old versions but the newest few (by directory time), never the current one. */
async function prune(versions: string, current: string): Promise<void> {
  const entries = await readdir(versions);
  const dated = await Promise.all(
    entries
      .filter((e) => e !== current && !e.startsWith('.incoming-'))
      .map(async (e) => ({ e, t: (await stat(path.join(versions, e))).mtimeMs })),
  );
  dated.sort((a, b) => b.t - a.t);
  for (const { e } of dated.slice(KEEP_VERSIONS))
    await rm(path.join(versions, e), { recursive: true, force: true });
}

/** Where the served model's files are: `current` when a rollout installed one, else the folder itself. */
export async function servedModelDir(modelDir: string): Promise<string> {
  const link = path.join(modelDir, CURRENT_LINK);
  const target = await readlink(link).catch(() => undefined);
  return target === undefined ? modelDir : path.resolve(modelDir, target);
}
