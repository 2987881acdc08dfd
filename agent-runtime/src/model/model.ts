// ONNX anomaly models: a directory with `model.onnx` and `manifest.json` (version, agent,
// ordered feature names, threshold, sha256). A model is refused unless its bytes match the
// manifest's sha256 and it takes one row of exactly the manifest's features and gives one
// score per row. Inference runs in batches through onnxruntime-node.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';

import { ResourceValidator } from '../../../api/src/validate.js';
import type { AgentName } from '../agents/types.js';

export interface ModelManifest {
  version: string;
  agent: AgentName;
  features: string[];
  threshold: number;
  sha256: string;
}

export type ModelFailureReason =
  'ManifestInvalid' | 'ModelMissing' | 'ChecksumMismatch' | 'InvalidModel' | 'InputShapeMismatch';

export class ModelError extends Error {
  readonly code = 'EW_MODEL';
  constructor(
    readonly reason: ModelFailureReason,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

const validator = new ResourceValidator();

/**
 * Checks a manifest with the ModelDeployment schema itself (the CRD's rules for version,
 * agent, features and threshold), so a manifest and a ModelDeployment cannot disagree.
 */
function checkManifest(value: unknown, file: string): ModelManifest {
  const m = value as Partial<ModelManifest> | null;
  if (m === null || typeof m !== 'object')
    throw new ModelError('ManifestInvalid', `${file}: not a JSON object`);
  if (typeof m.sha256 !== 'string' || !/^[a-f0-9]{64}$/.test(m.sha256))
    throw new ModelError('ManifestInvalid', `${file}: sha256: must be 64 lowercase hex characters`);
  const asResource = {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'manifest' },
    spec: {
      agent: m.agent,
      version: m.version,
      features: m.features,
      threshold: m.threshold,
      source: { http: { url: 'https://manifest.invalid/model.onnx', sha256: m.sha256 } },
    },
  };
  const issues = validator.check(asResource).filter((i) => i.field.startsWith('spec.'));
  const extra = Object.keys(m).filter(
    (k) => !['version', 'agent', 'features', 'threshold', 'sha256'].includes(k),
  );
  if (typeof m.threshold !== 'number')
    issues.push({ field: 'spec.threshold', message: 'Required value' });
  if (issues.length > 0 || extra.length > 0) {
    const lines = [
      ...issues.map((i) => `${i.field.replace(/^spec\./, '')}: ${i.message}`),
      ...extra.map((k) => `${k}: unknown field`),
    ];
    throw new ModelError('ManifestInvalid', `${file}: ${lines.join('; ')}`);
  }
  return m as ModelManifest;
}

export class LoadedModel {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  /** Loads and verifies the model in `dir`; throws ModelError naming what is wrong. */
  static async load(dir: string): Promise<LoadedModel> {
    const manifestFile = path.join(dir, 'manifest.json');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(manifestFile, 'utf8'));
    } catch (error) {
      throw new ModelError('ManifestInvalid', `${manifestFile}: ${(error as Error).message}`);
    }
    const manifest = checkManifest(raw, manifestFile);
    const modelFile = path.join(dir, 'model.onnx');
    const bytes = await readFile(modelFile).catch(() => {
      throw new ModelError('ModelMissing', `${modelFile}: cannot be read`);
    });
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== manifest.sha256)
      throw new ModelError(
        'ChecksumMismatch',
        `${modelFile}: sha256 ${sha256} does not match the manifest's ${manifest.sha256}`,
      );
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      });
    } catch (error) {
      throw new ModelError(
        'InvalidModel',
        `${modelFile}: not a model onnxruntime can load: ${(error as Error).message}`,
      );
    }
    if (session.inputNames.length !== 1 || session.outputNames.length < 1)
      throw new ModelError(
        'InputShapeMismatch',
        `${modelFile}: needs one input and an output, has ${session.inputNames.length} inputs`,
      );
    const model = new LoadedModel(
      manifest,
      session,
      session.inputNames[0]!,
      session.outputNames[0]!,
    );
    // A trial row of the manifest's width proves the model takes exactly these features.
    try {
      const [score] = await model.score([manifest.features.map(() => 0)]);
      if (score === undefined || !Number.isFinite(score))
        throw new Error('no finite score for a trial row');
    } catch (error) {
      await model.retire();
      throw new ModelError(
        'InputShapeMismatch',
        `${modelFile}: does not take ${manifest.features.length} features (${manifest.features.join(', ')}): ${(error as Error).message}`,
      );
    }
    return model;
  }

  private inFlight = 0;
  private retired = false;

  /** One score per row; each row holds the manifest's features, in its order. */
  async score(rows: readonly number[][]): Promise<number[]> {
    if (rows.length === 0) return [];
    this.inFlight++;
    try {
      return await this.run(rows);
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) await this.session.release().catch(() => undefined);
    }
  }

  /** Releases the model once no scoring is using it (a swapped-out model may still be busy). */
  async retire(): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    if (this.inFlight === 0) await this.session.release().catch(() => undefined);
  }

  private async run(rows: readonly number[][]): Promise<number[]> {
    const width = this.manifest.features.length;
    const data = new Float32Array(rows.length * width);
    rows.forEach((row, i) => data.set(row, i * width));
    const result = await this.session.run({
      [this.inputName]: new ort.Tensor('float32', data, [rows.length, width]),
    });
    const output = result[this.outputName];
    if (!output) throw new Error(`model gave no ${this.outputName}`);
    const values = Array.from(output.data as Float32Array, Number);
    // [N] or [N, 1] gives one score per row; [N, 2] (probabilities of normal/anomalous) the second.
    const perRow = values.length / rows.length;
    return rows.map((_, i) => values[i * perRow + (perRow - 1)]!);
  }

  /** The row of `features` in the manifest's order (a feature the agent lacks is 0). */
  row(features: Readonly<Record<string, number>>): number[] {
    return this.manifest.features.map((f) => features[f] ?? 0);
  }
}
