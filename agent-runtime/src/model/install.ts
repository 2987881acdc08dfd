// Installing a model offered to a running agent (the ModelDeployment rollout's delivery): the
// bytes are checked against their sha256, their graph against the operators and sizes our
// models keep to (graphChecks.ts), written under versions/<id>/ (a hash of the manifest made
// from the offer, checksum included), loaded and trial-scored by onnxruntime in a validator
// process with a memory and a time limit (validator.ts), then loaded by the agent, and only
// then made current by an atomic switch of the `current` symlink, which the model watcher
// serves. A refused offer changes nothing that serves: the previous version goes on scoring,
// and the error names the reason (ChecksumMismatch, InvalidModel, InputShapeMismatch,
// FeatureMismatch, ManifestInvalid, UnsupportedModel, ModelExceedsLimits,
// ValidationExceededLimits).
// An offer may bring the model's own manifest.json (its output mapping, training summary and
// provenance): the manifest served is then that one, with the offer's version and threshold,
// so a rolled-out model scores as it does from its folder and is checked for drift.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  mkdir,
  readdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import path from 'node:path';

import type { GoldenResult } from './golden.js';
import { checkGraph } from './graphChecks.js';
import { checkManifest, ModelError, type ModelManifest } from './manifest.js';
import { loadModel } from './loadModel.js';
import type { LoadedModel } from './model.js';
import { validateInChild, type ValidatorLimits } from './validator.js';

/** What the operator offers an agent, its bytes fetched. */
export interface ModelOffer {
  version: string;
  agent: string;
  features: string[];
  threshold?: number;
  /** Hex SHA-256 the bytes must have; unset: whatever they hash to (the answer says). */
  sha256?: string;
  /** The ONNX bytes. */
  bytes: Uint8Array;
  /**
   * The model's manifest.json as parsed (from `edgewarden train` or train_sklearn.py). Its
   * agent, features (in order) and sha256 must be the offer's and the bytes'; its output,
   * summary and provenance are served, and its threshold when the offer has none.
   */
  manifest?: unknown;
}

export interface InstallOptions {
  /** The agent kind that would serve it. */
  agent: string;
  /** The features that agent's extractor gives each window: a model may take only these. */
  available: readonly string[];
  /** The golden sample: recent windows' features, scored by the model before it serves. */
  golden: readonly Readonly<Record<string, number>>[];
  /** Check everything, then throw the model away: nothing on disk or serving changes. */
  dryRun?: boolean;
  /** The threshold when neither the offer nor its manifest sets one (spec.thresholds.score). */
  defaultThreshold?: number;
  /** The validator process's limits (validator.ts's VALIDATOR_LIMITS unless set). */
  validatorLimits?: ValidatorLimits;
}

export interface InstallResult {
  /** The loaded model, made current (unset for a dry run). */
  model?: LoadedModel;
  sha256: string;
  golden: GoldenResult;
}

/** Versions kept on disk besides the current one (a model is at most 32 MiB; the volume 128). */
const KEEP_VERSIONS = 1;

export const CURRENT_LINK = 'current';
export const VERSIONS_DIR = 'versions';

/**
 * Validates the offer and (unless a dry run) makes it the current model under `modelDir`.
 * Throws ModelError, leaving the current version in place, when the bytes do not match their
 * sha256, the model does not load, takes other inputs than its features, asks for a feature
 * the agent does not extract, or gives a non-finite score on the golden sample.
 */
export async function installModel(
  modelDir: string,
  offer: ModelOffer,
  options: InstallOptions,
): Promise<InstallResult> {
  if (offer.agent !== options.agent)
    throw new ModelError(
      'ManifestInvalid',
      `a model for the ${offer.agent} agent offered to the ${options.agent} agent`,
    );
  const unknown = offer.features.filter((f) => !options.available.includes(f));
  if (unknown.length > 0)
    throw new ModelError(
      'FeatureMismatch',
      `model ${offer.version}: the ${options.agent} agent does not extract ${unknown.join(', ')} (it gives ${options.available.join(', ')})`,
    );
  const sha256 = createHash('sha256').update(offer.bytes).digest('hex');
  if (offer.sha256 !== undefined && sha256 !== offer.sha256.toLowerCase())
    throw new ModelError(
      'ChecksumMismatch',
      `model ${offer.version}: sha256 ${sha256} does not match the expected ${offer.sha256}`,
    );
  const trained = trainedManifest(offer, sha256);
  // Before onnxruntime sees the bytes, anywhere: no operator or size our models do not use.
  checkGraph(offer.bytes, `model ${offer.version}`);
  const threshold = offer.threshold ?? trained?.threshold ?? options.defaultThreshold;
  const manifest = checkManifest(
    {
      ...trained,
      version: offer.version,
      agent: offer.agent,
      features: offer.features,
      ...(threshold !== undefined ? { threshold } : {}),
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
  let model: LoadedModel | undefined;
  let golden: GoldenResult;
  try {
    await writeFile(path.join(staging, 'model.onnx'), offer.bytes);
    await writeFile(path.join(staging, 'manifest.json'), manifestText);
    // onnxruntime sees the model first in the validator process; the agent loads it only after.
    golden = await validateInChild(
      staging,
      options.golden,
      `model ${offer.version}`,
      options.validatorLimits,
    );
    if (!options.dryRun) model = await loadModel(staging);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  if (!model) {
    await rm(staging, { recursive: true, force: true });
    return { sha256, golden };
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
  await utimes(dir, new Date(), new Date()); // the newest for pruning, even when installed before
  await prune(versions, id);
  return { model, sha256, golden };
}

/**
 * The offer's own manifest.json, checked, and checked against the offer: the same agent, the
 * same features in the same order (another order would feed the model the wrong columns), and
 * these bytes. Undefined when the offer brings none.
 */
function trainedManifest(offer: ModelOffer, sha256: string): ModelManifest | undefined {
  if (offer.manifest === undefined) return undefined;
  const what = `the manifest of model ${offer.version}`;
  const trained = checkManifest(offer.manifest, what);
  // The messages name what the spec and our own hash say, never what the manifest holds: a
  // manifest may be any Secret's bytes (issue 20, H1).
  if (trained.agent !== offer.agent)
    throw new ModelError('ManifestInvalid', `${what} is for another agent than ${offer.agent}`);
  if (trained.features.join(',') !== offer.features.join(','))
    throw new ModelError(
      'FeatureMismatch',
      `${what} has other features than the offer (spec.features: ${offer.features.join(', ')}): the same names in the same order are needed`,
    );
  if (trained.sha256 !== sha256)
    throw new ModelError(
      'ChecksumMismatch',
      `${what} is for bytes of another sha256, not these (${sha256})`,
    );
  return trained;
}

/** Serves no model: removes the `current` link (the versions stay until pruned). */
export async function uninstallModel(modelDir: string): Promise<void> {
  await rm(path.join(modelDir, CURRENT_LINK), { force: true });
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
