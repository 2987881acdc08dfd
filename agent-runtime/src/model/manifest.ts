// A model's manifest.json: what the model is (version, agent, ordered features, threshold,
// sha256 of model.onnx), how to read its output, and, for models edgewarden trains, where it
// came from and a summary of its training features for drift checks. Checked with the
// ModelDeployment schema itself, so a manifest and a ModelDeployment cannot disagree.
import { apiVersion, ResourceValidator } from '../../../api/src/validate.js';
import type { AgentName } from '../agents/types.js';

/** One feature over the training windows: 101 quantiles are 0%, 1%, ..., 100%. */
export interface FeatureSummary {
  count: number;
  mean: number;
  std: number;
  quantiles: number[];
}

/**
 * Which output holds the score, and how it becomes an anomaly score (higher is more
 * anomalous): score = scale · value + shift. A scikit-learn IsolationForest exported with
 * skl2onnx gives `scores` = score_samples − offset_, so { name: 'scores', scale: −1,
 * shift: −offset_ } makes it −score_samples, the same scale as edgewarden's own models.
 */
export interface ModelOutput {
  name: string;
  scale: number;
  shift: number;
}

export interface ModelManifest {
  version: string;
  agent: AgentName;
  features: string[];
  threshold: number;
  sha256: string;
  output?: ModelOutput;
  trainingRows?: number;
  timeRange?: { from: string; to: string };
  windowSeconds?: number;
  createdAt?: string;
  trainer?: Record<string, unknown>;
  summary?: Record<string, FeatureSummary>;
}

export type ModelFailureReason =
  | 'ManifestInvalid'
  | 'ModelMissing'
  | 'ChecksumMismatch'
  | 'DigestMismatch'
  | 'InvalidModel'
  | 'InputShapeMismatch'
  | 'FeatureMismatch'
  | 'UnsupportedModel'
  | 'ModelExceedsLimits'
  | 'ValidationExceededLimits'
  | 'DownloadFailed'
  | 'SourceAddressRefused';

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
const KNOWN = new Set([
  'version',
  'agent',
  'features',
  'threshold',
  'sha256',
  'output',
  'trainingRows',
  'timeRange',
  'windowSeconds',
  'createdAt',
  'trainer',
  'summary',
]);

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * A schema issue as a manifest refusal says it: the field's name and what kind of problem, never
 * the value (the validator quotes it, and a manifest may be any Secret's bytes: issue 20, H1).
 */
function withoutValue(message: string): string {
  if (message.startsWith('Unsupported value:')) return 'unsupported value';
  if (message.startsWith('Invalid value:')) return 'invalid value';
  return message; // 'Required value', 'unknown field': no value in them
}

/** A key of the manifest as a message may name it: a short identifier, else only its position. */
const keyName = (key: string, i: number): string =>
  /^[A-Za-z_][A-Za-z0-9_-]{0,39}$/.test(key) ? key : `(key ${i + 1}, not an identifier)`;

/**
 * Checks a parsed manifest.json; throws ModelError('ManifestInvalid') naming each bad field of
 * ours. The message never holds the manifest's own text: no value, and no key it made up.
 */
export function checkManifest(value: unknown, file: string): ModelManifest {
  const m = value as Partial<ModelManifest> | null;
  if (m === null || typeof m !== 'object' || Array.isArray(m))
    throw new ModelError('ManifestInvalid', `${file}: not a JSON object`);
  const problems: string[] = [];
  if (typeof m.sha256 !== 'string' || !/^[a-f0-9]{64}$/.test(m.sha256))
    problems.push('sha256: must be 64 lowercase hex characters');
  const asResource = {
    apiVersion,
    kind: 'ModelDeployment',
    metadata: { name: 'manifest' },
    spec: {
      agent: m.agent,
      version: m.version,
      features: m.features,
      threshold: m.threshold,
      source: { http: { url: 'https://manifest.invalid/model.onnx', sha256: 'a'.repeat(64) } },
    },
  };
  for (const i of validator.check(asResource))
    if (i.field.startsWith('spec.'))
      problems.push(`${i.field.slice(5)}: ${withoutValue(i.message)}`);
  if (typeof m.threshold !== 'number') problems.push('threshold: Required value');
  for (const [i, k] of Object.keys(m).entries())
    if (!KNOWN.has(k)) problems.push(`${keyName(k, i)}: unknown field`);
  if (m.output !== undefined) {
    const o = m.output as Partial<ModelOutput> | null;
    if (typeof o?.name !== 'string' || o.name === '')
      problems.push('output.name: must name one of the model outputs');
    if (!isNumber(o?.scale) || o.scale === 0)
      problems.push('output.scale: must be a non-zero number');
    if (!isNumber(o?.shift)) problems.push('output.shift: must be a number');
  }
  if (m.summary !== undefined) {
    if (m.summary === null || typeof m.summary !== 'object')
      problems.push('summary: must be an object');
    else
      for (const [i, [name, s]] of Object.entries(m.summary).entries()) {
        const q = (s as Partial<FeatureSummary> | null)?.quantiles;
        if (
          !Array.isArray(q) ||
          q.length < 2 ||
          !q.every(isNumber) ||
          q.some((v, i) => i > 0 && v < q[i - 1]!) ||
          !isNumber(s?.count) ||
          s.count < 1
        )
          problems.push(
            `summary.${keyName(name, i)}: needs a count and ascending numeric quantiles`,
          );
      }
  }
  if (problems.length > 0)
    throw new ModelError('ManifestInvalid', `${file}: ${problems.join('; ')}`);
  return m as ModelManifest;
}
