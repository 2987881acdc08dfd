// ONNX anomaly models: a directory with `model.onnx` and `manifest.json` (manifest.ts). A
// model is refused unless its bytes match the manifest's sha256 and it takes one row of
// exactly the manifest's features and gives one score per row (from the manifest's `output`,
// or its first), and unless its graph keeps to the operators and sizes graphChecks.ts allows
// (checked on the bytes, before onnxruntime sees them). Inference runs in batches through
// onnxruntime-node. An offered model is loaded here only after the validator process
// (validator.ts) has loaded it within its limits.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import ort from 'onnxruntime-node';

import { checkGraph } from './graphChecks.js';
import { checkManifest, ModelError, type ModelManifest } from './manifest.js';

export { ModelError, type ModelFailureReason, type ModelManifest } from './manifest.js';

// onnxruntime-node keeps a telemetry device id and event database under the home folder
// (~/.cache/Microsoft/DeveloperTools/.onnxruntime) from its first session on: a write outside
// every folder a command is given, which under a read-only root file system fails with a
// warning on stderr at each start. Off, unless ORT_DISABLE_TELEMETRY is set otherwise; it is
// read when the first session is made, after this module has run.
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export class LoadedModel {
  private constructor(
    readonly manifest: ModelManifest,
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
  ) {}

  /**
   * Loads and verifies the model in `dir`; throws ModelError naming what is wrong. `session`
   * adds onnxruntime session options (the validator process turns the memory arena off).
   */
  static async load(
    dir: string,
    session: ort.InferenceSession.SessionOptions = {},
  ): Promise<LoadedModel> {
    const manifestFile = path.join(dir, 'manifest.json');
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(manifestFile, 'utf8'));
    } catch (error) {
      // Not the parser's message: it quotes the file (issue 20, H1).
      const why = (error as NodeJS.ErrnoException).code ?? 'not JSON';
      throw new ModelError('ManifestInvalid', `${manifestFile}: ${why}`);
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
    checkGraph(bytes, modelFile);
    return LoadedModel.open(manifest, modelFile, bytes, session);
  }

  private static async open(
    manifest: ModelManifest,
    modelFile: string,
    bytes: Uint8Array,
    options: ort.InferenceSession.SessionOptions,
  ): Promise<LoadedModel> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        ...options,
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      });
    } catch {
      throw new ModelError(
        'InvalidModel',
        // Not onnxruntime's message: it may quote the bytes' strings (issue 20, H1).
        `${modelFile}: not a model onnxruntime can load`,
      );
    }
    if (session.inputNames.length !== 1 || session.outputNames.length < 1)
      throw new ModelError(
        'InputShapeMismatch',
        `${modelFile}: needs one input and an output, has ${session.inputNames.length} inputs`,
      );
    const outputName = manifest.output?.name ?? session.outputNames[0]!;
    if (!session.outputNames.includes(outputName)) {
      await session.release().catch(() => undefined);
      throw new ModelError(
        'InputShapeMismatch',
        `${modelFile}: has no output of the name in the manifest's output.name (it has ${session.outputNames.length})`,
      );
    }
    const model = new LoadedModel(manifest, session, session.inputNames[0]!, outputName);
    // A trial row of the manifest's width proves the model takes exactly these features.
    try {
      const [score] = await model.score([manifest.features.map(() => 0)]);
      if (score === undefined || !Number.isFinite(score))
        throw new Error('no finite score for a trial row');
    } catch {
      await model.retire();
      throw new ModelError(
        'InputShapeMismatch',
        `${modelFile}: does not take ${manifest.features.length} features (${manifest.features.join(', ')})`,
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
    const { scale, shift } = this.manifest.output ?? { scale: 1, shift: 0 };
    return rows.map((_, i) => scale * values[i * perRow + (perRow - 1)]! + shift);
  }

  /** The row of `features` in the manifest's order (a feature the agent lacks is 0). */
  row(features: Readonly<Record<string, number>>): number[] {
    return this.manifest.features.map((f) => features[f] ?? 0);
  }
}
