// The pure part of a ModelDeployment rollout: which agents it serves, what each agent pod
// should serve in each phase, how many pods a canary step moves, whether a step passed its
// analysis, and the history and conditions the status shows. The controller does the I/O.
import { createHash, createHmac } from 'node:crypto';

import type {
  ModelDeployment,
  ModelDeploymentSpec,
  ModelDeploymentStatus,
  ModelDeploymentStatusHistoryItem,
  ModelDeploymentStatusRollout,
  ModelDeploymentStatusStable,
} from '../../../../api/src/generated/types.js';
import type {
  ModelOfferRequest,
  ServedModel,
} from '../../../../agent-runtime/src/contract/index.js';
import { stableJson } from '../../runtime/hash.js';
import { refusalText } from './refusalText.js';

export type StoredModelDeployment = ModelDeployment & {
  metadata: { name: string; namespace: string; uid: string; generation?: number };
};
export type Rollout = ModelDeploymentStatusRollout;
export type Stable = ModelDeploymentStatusStable;
export type HistoryItem = ModelDeploymentStatusHistoryItem;
type Selector = NonNullable<ModelDeploymentSpec['selector']>;

/** A model as it is served: the fields an agent reports and a rollout compares. */
export interface ModelIdentity {
  version: string;
  sha256: string;
  features: readonly string[];
  threshold?: number;
}

/** What a pod should serve: the target, or the stable version (none before the first). */
export type Want = 'target' | 'stable';

/**
 * The canary's limits: a step fails when the new model flags more than twice the share of
 * windows the old one did, and at least 5 points more (small rates are noisy); with no old
 * rate to compare (a first model), when it flags more than half of them.
 */
export const CANARY_RATE_FACTOR = 2;
export const CANARY_RATE_MARGIN = 0.05;
export const CANARY_FIRST_MODEL_LIMIT = 0.5;
/**
 * Fewer windows than this scored in a step's analysis window say nothing about a model's
 * anomaly rate: one window, the one an attack fell in, is 100%. Such a step is not judged on
 * the rate (load failures and inference errors still fail it), and its Event says so.
 */
export const CANARY_MIN_WINDOWS = 10;

/** The bearer token for one agent's pods: an HMAC of its uid under the operator's key. */
export function controlToken(key: Uint8Array, agentUid: string): string {
  return createHmac('sha256', key).update(`edgewarden-control:${agentUid}`).digest('hex');
}

/** The digest of the spec fields a rollout is for: a new digest is a new rollout. */
export function revisionOf(
  spec: Pick<ModelDeploymentSpec, 'version' | 'source' | 'features' | 'threshold'>,
): string {
  const { version, source, features, threshold } = spec;
  return createHash('sha256')
    .update(stableJson({ version, source, features, threshold }))
    .digest('hex')
    .slice(0, 32);
}

/** Whether a label selector (matchLabels and matchExpressions) selects these labels. */
export function selects(
  selector: Selector | undefined,
  labels: Record<string, string> = {},
): boolean {
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {}))
    if (labels[k] !== v) return false;
  for (const e of selector?.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    const ok =
      e.operator === 'In'
        ? inValues
        : e.operator === 'NotIn'
          ? !inValues
          : e.operator === 'Exists'
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

/** Pods a canary step moves: stepPercent per step of the total, at least one, at most all. */
export function canaryCount(total: number, stepPercent: number, step: number): number {
  if (total === 0) return 0;
  return Math.min(total, Math.max(1, Math.ceil((total * stepPercent * step) / 100)));
}

/** Whether a pod's reported model is this one (version, bytes, features and threshold). */
export function serves(
  model: ServedModel | undefined,
  expected: ModelIdentity | undefined,
): boolean {
  if (!expected) return !model?.version;
  return (
    model?.version === expected.version &&
    model.sha256 === expected.sha256 &&
    stableJson(model.features ?? []) === stableJson(expected.features) &&
    (expected.threshold === undefined || model.threshold === expected.threshold)
  );
}

/** What a pod should serve in this phase of the rollout. */
export function wantFor(pod: string, rollout: Rollout | undefined, strategy: string): Want {
  switch (rollout?.phase) {
    case 'Complete':
      return 'target';
    case 'Progressing':
      return strategy === 'Canary' && !(rollout.canaryPods ?? []).includes(pod)
        ? 'stable'
        : 'target';
    case 'Halted':
      return (rollout.canaryPods ?? []).includes(pod) ? 'target' : 'stable';
    default:
      return 'stable';
  }
}

/** The share of windows flagged, over pods' counters; undefined with no windows scored. */
export function flaggedRate(models: (ServedModel | undefined)[]): number | undefined {
  let windows = 0;
  let flagged = 0;
  for (const m of models) {
    windows += m?.scored?.windows ?? 0;
    flagged += m?.scored?.flagged ?? 0;
  }
  return windows > 0 ? flagged / windows : undefined;
}

export type Verdict =
  { pass: true; message: string } | { pass: false; reason: string; message: string };

/**
 * Judges a canary step after its analysis window, from its pods' reports (each serving the
 * target since the step began): load failures, inference errors, and the share of windows
 * flagged against the old model's share on the same pods before the switch.
 */
export function judgeCanary(
  version: string,
  models: { pod: string; model: ServedModel | undefined }[],
  baselineRate: number | undefined,
  stepStartedAt: string,
): Verdict {
  for (const { pod, model } of models) {
    const failure = model?.lastFailure;
    if (failure && failure.time >= stepStartedAt)
      return {
        pass: false,
        reason: 'CanaryLoadFailed',
        message: `${pod}: ${failure.reason}: ${refusalText(failure.message)}`,
      };
    if ((model?.scored?.inferenceErrors ?? 0) > 0)
      return {
        pass: false,
        reason: 'CanaryInferenceErrors',
        message: `${pod}: ${model!.scored!.inferenceErrors} batches of windows failed inference with ${version}`,
      };
  }
  const rate = flaggedRate(models.map((m) => m.model));
  const windows = models.reduce((n, m) => n + (m.model?.scored?.windows ?? 0), 0);
  if (rate === undefined)
    return { pass: true, message: `no windows were scored during the analysis window` };
  if (windows < CANARY_MIN_WINDOWS)
    return {
      pass: true,
      message: `only ${windows} window${windows === 1 ? ' was' : 's were'} scored during the analysis window (fewer than ${CANARY_MIN_WINDOWS}): the anomaly rate is not judged; a longer analysisWindow judges it`,
    };
  const pct = (r: number): string => `${(100 * r).toFixed(1)}%`;
  const limit =
    baselineRate === undefined
      ? CANARY_FIRST_MODEL_LIMIT
      : Math.max(CANARY_RATE_FACTOR * baselineRate, baselineRate + CANARY_RATE_MARGIN);
  const against =
    baselineRate === undefined
      ? `the limit for a first model, ${pct(limit)}`
      : `the previous version's ${pct(baselineRate)} (limit ${pct(limit)})`;
  if (rate > limit)
    return {
      pass: false,
      reason: 'AnomalyRateTooHigh',
      message: `${version} flagged ${pct(rate)} of ${windows} windows on the canary pods, against ${against}`,
    };
  return {
    pass: true,
    message: `${version} flagged ${pct(rate)} of ${windows} windows, against ${against}`,
  };
}

/** The history with an entry added in front (the one serving before marked as replaced), trimmed. */
export function recordHistory(
  history: HistoryItem[],
  entry: HistoryItem,
  limit: number,
  now: string,
): HistoryItem[] {
  const updated =
    entry.outcome === 'Serving'
      ? history.map((h) =>
          h.outcome === 'Serving' ? { ...h, outcome: 'Replaced' as const, servedUntil: now } : h,
        )
      : history;
  return [entry, ...updated].slice(0, limit);
}

/** The stable record of a completed rollout of `spec`. */
export function stableOf(spec: ModelDeploymentSpec, sha256: string): Stable {
  return {
    version: spec.version,
    sha256,
    features: spec.features,
    ...(spec.threshold !== undefined ? { threshold: spec.threshold } : {}),
    source: spec.source,
  };
}

/** The offer of a version to an agent: where its bytes (and its manifest.json, if any) are. */
export function offerOf(
  agent: string,
  model: { version: string; features: readonly string[]; threshold?: number; sha256?: string },
  where: Pick<ModelOfferRequest, 'source' | 'manifest' | 'manifestSha256'>,
  dryRun = false,
): ModelOfferRequest {
  return {
    version: model.version,
    agent,
    features: [...model.features],
    ...(model.threshold !== undefined ? { threshold: model.threshold } : {}),
    ...(model.sha256 ? { sha256: model.sha256 } : {}),
    source: where.source,
    ...(where.manifest ? { manifest: where.manifest } : {}),
    ...(where.manifestSha256 ? { manifestSha256: where.manifestSha256 } : {}),
    ...(dryRun ? { dryRun } : {}),
  };
}

/** Failures a later pass may cure without a spec change (a source created, a pod started). */
export const TRANSIENT_REASONS = new Set([
  'SourceNotFound',
  'SourceNotLabelled',
  'SourceForbidden',
  'DownloadFailed',
  'AgentUnreachable',
  'DeliveryDisabled',
]);
/** Failures that mean the spec itself is wrong, rather than the model's bytes. */
const SPEC_REASONS = new Set([
  'SourceNotFound',
  'SourceNotLabelled',
  'FeatureMismatch',
  'ManifestInvalid',
  // The http URL is on an address the agents refuse (issue 20, M1): the URL or the allowlist.
  'SourceAddressRefused',
]);
/** Failures of the source's object itself, which wait for it to be created or labelled. */
const SOURCE_REASONS = new Set(['SourceNotFound', 'SourceNotLabelled']);

export type Transition = NonNullable<ModelDeploymentStatus['transition']>;

/** The status's transition for a rollout phase (and its last failure, if any). */
export function transitionOf(rollout: Rollout, failureReason: string | undefined): Transition {
  switch (rollout.phase) {
    case 'Complete':
      return 'UpToDate';
    case 'RolledBack':
      return 'RolledBack';
    case 'Failed':
      return failureReason !== undefined && SPEC_REASONS.has(failureReason)
        ? 'InvalidSpec'
        : 'BlockedByFailedLoad';
    default:
      return failureReason !== undefined && SOURCE_REASONS.has(failureReason)
        ? 'InvalidSpec'
        : 'InProgress';
  }
}
