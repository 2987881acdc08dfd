// planRollout as a table: each case is what a pass observed (the pods and what they serve, the
// status earlier passes kept, the answers to this pass's requests so far), and its golden file,
// testdata/plan-<case>.golden.yaml, holds that input beside the plan and status it gives. Set
// UPDATE_GOLDEN=1 to rewrite the files after an intended change, and review the diff; a normal
// run only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

import type { ServedModel } from '../../../../agent-runtime/src/contract/index.js';
import type { ModelDeploymentSpec } from '../../../../api/src/generated/types.js';
import {
  afterAnswers,
  requestsOf,
  type Answer,
  type KeptStatus,
  type ObservedPod,
  type ObservedRollout,
  type Request,
} from './pass.js';
import { planRollout, VALIDATION_ATTEMPTS } from './plan.js';
import { revisionOf, type Rollout, type Stable, type StoredModelDeployment } from './rollout.js';
import { modelDeploymentStatus } from './status.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NOW = new Date('2026-12-01T10:00:00Z');
const ago = (minutes: number): string => new Date(NOW.getTime() - minutes * 60_000).toISOString();
const FEATURES = ['queries', 'nxdomain'];
const SHA = { v1: '1'.repeat(64), v2: '2'.repeat(64) };

const v1: Stable = {
  version: 'v1',
  sha256: SHA.v1,
  features: FEATURES,
  source: { configMap: { name: 'dns-v1', key: 'model.onnx' } },
};
const v2Spec: ModelDeploymentSpec = {
  agent: 'dns',
  version: 'v2',
  features: FEATURES,
  source: { configMap: { name: 'dns-v2', key: 'model.onnx' } },
};
const canary = (extra: object = {}) => ({
  rollout: {
    strategy: 'Canary' as const,
    canary: { stepPercent: 25, analysisWindow: '10m' },
    ...extra,
  },
});

function deployment(spec: Partial<ModelDeploymentSpec> = {}): StoredModelDeployment {
  return {
    apiVersion: 'edgewarden.io/v1alpha1',
    kind: 'ModelDeployment',
    metadata: { name: 'dns-model', namespace: 'home', uid: 'md-1', generation: 2 },
    spec: { ...v2Spec, ...spec },
  };
}

/** A model as a pod reports it, with its counters since it was loaded. */
function serving(
  version: 'v1' | 'v2',
  scored: Partial<NonNullable<ServedModel['scored']>> = {},
  extra: Partial<ServedModel> = {},
): ServedModel {
  return {
    version,
    sha256: SHA[version],
    features: FEATURES,
    scored: { windows: 0, flagged: 0, inferenceErrors: 0, ...scored },
    ...extra,
  };
}
const pod = (name: string, model?: ServedModel): ObservedPod => ({
  name,
  answered: true,
  ...(model ? { model } : {}),
});
const restarting = (name: string): ObservedPod => ({ name, answered: false });
const pods = (n: number, model?: (i: number) => ServedModel | undefined): ObservedPod[] =>
  Array.from({ length: n }, (_, i) => pod(`dns-agent-${i}`, model?.(i)));

/** The rollout status kept for the spec's own revision. */
function rolloutOf(spec: ModelDeploymentSpec, rollout: Partial<Rollout>): Rollout {
  return { revision: revisionOf(spec), phase: 'Progressing', sha256: SHA.v2, ...rollout };
}
const canaryStep = (
  step: number,
  canaryPods: number,
  stepStartedAt?: string,
): Partial<Rollout> => ({
  step,
  canaryPods: Array.from({ length: canaryPods }, (_, i) => `dns-agent-${i}`),
  baselineRate: 0.04,
  ...(stepStartedAt ? { stepStartedAt } : {}),
});

const offerTarget = (p: string): Request => ({
  kind: 'offer',
  pod: p,
  model: { version: 'v2', features: FEATURES, sha256: SHA.v2, source: v2Spec.source },
  ofTarget: true,
});
const validateOn = (p: string): Request => ({
  kind: 'validate',
  pod: p,
  model: { version: 'v2', features: FEATURES, source: v2Spec.source },
});

interface Case {
  md: StoredModelDeployment;
  pods: ObservedPod[];
  kept?: (spec: ModelDeploymentSpec) => KeptStatus;
  answers?: Answer[];
  asked?: string[];
  wrongKind?: string[];
}

const validating = (spec: ModelDeploymentSpec): KeptStatus => ({
  stable: v1,
  rollout: { revision: revisionOf(spec), phase: 'Validating', startedAt: ago(1) },
});
const progressing =
  (rollout: Partial<Rollout> = {}, stable: Stable | null = v1) =>
  (spec: ModelDeploymentSpec): KeptStatus => ({
    ...(stable ? { stable } : {}),
    rollout: rolloutOf(spec, { startedAt: ago(30), ...rollout }),
  });
const onV1 = (i: number) => serving('v1', { windows: 100 + i, flagged: 4 });
/** The agent's answer when its validator process went past a limit or died (issue 20, M2). */
const overLimits = {
  reason: 'ValidationExceededLimits',
  message: 'model v2: validating it took 198 MiB (the limit is 192 MiB)',
};

const cases: Record<string, Case> = {
  'first-rollout-asks-a-dry-run': { md: deployment(), pods: pods(2) },
  'first-rollout-no-pod-runs': {
    md: deployment(),
    pods: [restarting('dns-agent-0'), restarting('dns-agent-1')],
  },
  'allatonce-validated-offers-every-pod': {
    md: deployment(),
    pods: pods(3, onV1),
    kept: validating,
    answers: [
      {
        request: validateOn('dns-agent-0'),
        served: { version: 'v2', sha256: SHA.v2, golden: { rows: 40, flagged: 2 } },
      },
    ],
    asked: ['validate dns-agent-0 v2 '],
  },
  'allatonce-every-pod-serves-complete': {
    md: deployment(),
    pods: pods(3, () => serving('v2')),
    kept: progressing(),
    answers: [0, 1, 2].map((i) => ({
      request: offerTarget(`dns-agent-${i}`),
      served: { version: 'v2', sha256: SHA.v2 },
    })),
    asked: [0, 1, 2].map((i) => `offer dns-agent-${i} v2 ${SHA.v2}`),
  },
  'allatonce-a-pod-unreachable-retried': {
    md: deployment(),
    pods: [pod('dns-agent-0', serving('v2')), pod('dns-agent-1', onV1(1))],
    kept: progressing(),
    answers: [
      {
        request: offerTarget('dns-agent-1'),
        failure: {
          reason: 'AgentUnreachable',
          message: 'PUT /model to pod dns-agent-1 at 10.42.0.8:8080: no answer within 120 s',
        },
      },
    ],
    asked: [`offer dns-agent-1 v2 ${SHA.v2}`],
  },
  'allatonce-target-refused-rolls-back': {
    md: deployment(),
    pods: [pod('dns-agent-0', serving('v2')), pod('dns-agent-1', onV1(1))],
    kept: progressing(),
    answers: [
      { request: offerTarget('dns-agent-0'), served: { version: 'v2', sha256: SHA.v2 } },
      {
        request: offerTarget('dns-agent-1'),
        failure: { reason: 'LoadFailed', message: 'onnxruntime: invalid graph' },
      },
    ],
    asked: [`offer dns-agent-0 v2 ${SHA.v2}`, `offer dns-agent-1 v2 ${SHA.v2}`],
  },
  'first-rollout-refused-unloads-the-target': {
    md: deployment(),
    pods: [pod('dns-agent-0', serving('v2')), pod('dns-agent-1')],
    kept: progressing({}, null),
    answers: [
      {
        request: offerTarget('dns-agent-1'),
        failure: { reason: 'ChecksumMismatch', message: 'sha256 differs' },
      },
    ],
    asked: [`offer dns-agent-0 v2 ${SHA.v2}`, `offer dns-agent-1 v2 ${SHA.v2}`],
  },
  'refused-model-fails-validation': {
    md: deployment(),
    pods: pods(2, onV1),
    kept: validating,
    answers: [
      {
        request: validateOn('dns-agent-0'),
        failure: {
          reason: 'FeatureMismatch',
          message:
            'the model takes 3 features, the spec names 2: the same order as the extractor is needed',
        },
      },
    ],
    asked: ['validate dns-agent-0 v2 '],
  },
  'validation-exceeded-limits-retried': {
    md: deployment(),
    pods: pods(2, onV1),
    kept: validating,
    answers: [{ request: validateOn('dns-agent-0'), failure: overLimits }],
    asked: ['validate dns-agent-0 v2 '],
  },
  'validation-exceeded-limits-third-time-refused-for-good': {
    md: deployment(),
    pods: pods(2, onV1),
    kept: (spec) => ({
      ...validating(spec),
      lastFailure: {
        ...overLimits,
        message: `${overLimits.message} (validation attempt 2 of ${VALIDATION_ATTEMPTS})`,
        time: ago(1),
      },
    }),
    answers: [{ request: validateOn('dns-agent-0'), failure: overLimits }],
    asked: ['validate dns-agent-0 v2 '],
  },
  'validation-refused-for-good-offers-nothing-more': {
    md: deployment(),
    pods: pods(2, onV1),
    kept: (spec) => ({
      ...validating(spec),
      rollout: { ...validating(spec).rollout!, phase: 'Failed' },
      lastFailure: {
        ...overLimits,
        message: `${overLimits.message} (validation attempt 3 of ${VALIDATION_ATTEMPTS})`,
        time: ago(1),
      },
    }),
  },
  'missing-source-retried': {
    md: deployment(),
    pods: pods(2, onV1),
    kept: validating,
    answers: [
      {
        request: validateOn('dns-agent-0'),
        failure: { reason: 'SourceNotFound', message: 'ConfigMap dns-v2 does not exist' },
      },
    ],
    asked: ['validate dns-agent-0 v2 '],
  },
  'canary-validated-step-1': {
    md: deployment(canary()),
    pods: pods(4, onV1),
    kept: validating,
    answers: [
      {
        request: validateOn('dns-agent-0'),
        served: { version: 'v2', sha256: SHA.v2, golden: { rows: 40, flagged: 1 } },
      },
    ],
    asked: ['validate dns-agent-0 v2 '],
  },
  'canary-step-1-window-starts': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2') : onV1(i))),
    kept: progressing(canaryStep(1, 1)),
  },
  'canary-step-1-window-running': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 30, flagged: 1 }) : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(2))),
  },
  'canary-step-1-passes-step-2': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 100, flagged: 5 }) : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(11))),
  },
  'canary-step-2-passes-step-3': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i < 2 ? serving('v2', { windows: 100, flagged: 3 }) : onV1(i))),
    kept: progressing(canaryStep(2, 2, ago(10))),
  },
  'canary-step-3-passes-step-4': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i < 3 ? serving('v2', { windows: 100, flagged: 3 }) : onV1(i))),
    kept: progressing(canaryStep(3, 3, ago(12))),
  },
  'canary-last-step-passes-complete': {
    md: deployment(canary()),
    pods: pods(4, () => serving('v2', { windows: 100, flagged: 6 })),
    kept: progressing(canaryStep(4, 4, ago(10))),
  },
  'canary-few-windows-not-judged-on-rate': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 3, flagged: 3 }) : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(10))),
  },
  'canary-gate-load-failed': {
    md: deployment(canary()),
    pods: pods(4, (i) =>
      i < 2
        ? serving(
            'v2',
            { windows: 50 },
            i === 1
              ? { lastFailure: { reason: 'LoadFailed', message: 'out of memory', time: ago(4) } }
              : {},
          )
        : onV1(i),
    ),
    kept: progressing(canaryStep(2, 2, ago(10))),
  },
  'canary-gate-inference-errors': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 80, inferenceErrors: 2 }) : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(10))),
  },
  'canary-gate-anomaly-rate': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 100, flagged: 60 }) : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(10))),
  },
  'canary-gate-target-refused-on-a-new-canary': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 100, flagged: 3 }) : onV1(i))),
    kept: progressing(canaryStep(2, 2)),
    answers: [
      {
        request: offerTarget('dns-agent-1'),
        failure: { reason: 'ModelInvalid', message: 'not an ONNX model' },
      },
    ],
    asked: [`offer dns-agent-1 v2 ${SHA.v2}`],
  },
  'canary-halted-without-autorollback': {
    md: deployment(canary({ autoRollback: false })),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 100, flagged: 60 }) : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(10))),
  },
  'canary-halted-stays': {
    md: deployment(canary({ autoRollback: false })),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 140, flagged: 80 }) : onV1(i))),
    kept: (spec) => ({
      ...progressing({ ...canaryStep(1, 1, ago(30)), phase: 'Halted' })(spec),
      lastFailure: {
        reason: 'AnomalyRateTooHigh',
        message: 'v2 flagged 60.0% of 100 windows on the canary pods',
        time: ago(20),
      },
    }),
  },
  'rollback-by-spec-edit-mid-canary': {
    md: deployment({ ...canary(), version: 'v1', source: v1.source }),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 20 }) : onV1(i))),
    kept: () => progressing(canaryStep(1, 1, ago(3)))(v2Spec),
  },
  'pod-restarting-mid-step-waited-for': {
    md: deployment(canary()),
    pods: [restarting('dns-agent-0'), ...pods(4, onV1).slice(1)],
    kept: progressing(canaryStep(1, 1, ago(4))),
  },
  'pod-restarted-mid-step-offered-again': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? undefined : onV1(i))),
    kept: progressing(canaryStep(1, 1, ago(4))),
  },
  'canary-pod-scaled-away-not-waited-for': {
    md: deployment(canary()),
    pods: pods(3, (i) => (i < 1 ? serving('v2', { windows: 100, flagged: 2 }) : onV1(i))),
    kept: progressing({ ...canaryStep(2, 2, ago(11)), canaryPods: ['dns-agent-0', 'dns-agent-9'] }),
  },
  'new-leader-mid-canary-resumes': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i < 2 ? serving('v2', { windows: 40, flagged: 1 }) : onV1(i))),
    kept: progressing(canaryStep(2, 2, ago(3))),
  },
  'new-leader-mid-canary-delivers-what-the-old-did-not': {
    md: deployment(canary()),
    pods: pods(4, (i) => (i === 0 ? serving('v2', { windows: 40 }) : onV1(i))),
    kept: progressing(canaryStep(2, 2)),
  },
  'complete-with-notes-and-an-unreadable-pod': {
    md: deployment(),
    pods: [
      pod('dns-agent-0', serving('v2')),
      {
        name: 'dns-agent-1',
        answered: false,
        statusError: 'GET /status to pod dns-agent-1 at 10.42.0.8:8080: connection refused',
      },
    ],
    kept: (spec) => ({
      ...progressing({ phase: 'Complete' })(spec),
      stable: { ...v1, version: 'v2', sha256: SHA.v2, source: spec.source },
    }),
    wrongKind: ['ssh-guard'],
  },
};

function observedOf(c: Case): ObservedRollout {
  return {
    pods: c.pods,
    wrongKind: c.wrongKind ?? [],
    kept: c.kept?.(c.md.spec) ?? {},
    answers: c.answers ?? [],
    asked: c.asked ?? [],
  };
}

function golden(name: string, value: unknown): void {
  const file = path.join(here, 'testdata', `plan-${name}.golden.yaml`);
  const text = YAML.stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

test('the table has a case for each situation a rollout meets', () => {
  expect(Object.keys(cases).length).toBeGreaterThanOrEqual(20);
});

test.each(Object.keys(cases))('golden plan: %s', (name) => {
  const c = cases[name]!;
  const observed = observedOf(c);
  const plan = planRollout(c.md, observed, NOW);
  const {
    observedGeneration,
    conditions,
    transition,
    lastFailure,
    activeVersion,
    updatedAgents,
    totalAgents,
  } = modelDeploymentStatus(c.md, observed, plan, NOW);
  golden(name, {
    spec: c.md.spec,
    observed,
    plan,
    status: {
      observedGeneration,
      activeVersion,
      transition,
      lastFailure,
      updatedAgents,
      totalAgents,
      conditions,
    },
  });
});

test.each(Object.keys(cases))('the same observation gives the same plan: %s', (name) => {
  const c = cases[name]!;
  expect(planRollout(c.md, observedOf(c), NOW)).toEqual(planRollout(c.md, observedOf(c), NOW));
});

test.each(Object.keys(cases))(
  'a plan that asks nothing, kept and planned again, is a steady state: %s',
  (name) => {
    const c = cases[name]!;
    const plan = planRollout(c.md, observedOf(c), NOW);
    if (requestsOf(plan).length > 0) return;
    const again = planRollout(c.md, afterAnswers(observedOf(c), plan, []), NOW);
    expect(again).toEqual({ ...plan, events: [] });
  },
);

test('a validation that takes the validator past its limits, pass after pass: refused for good at the third, then no more offers', () => {
  const md = deployment();
  let observed = observedOf({ md, pods: pods(2, onV1), kept: validating });
  const phases: string[] = [];
  let dryRuns = 0;
  for (let pass = 0; pass < 6; pass++) {
    // One pass: plan, the validator answers each dry run over its limits, plan again.
    let plan = planRollout(md, observed, NOW);
    while (plan.validation) {
      dryRuns++;
      observed = afterAnswers(observed, plan, [{ request: plan.validation, failure: overLimits }]);
      plan = planRollout(md, observed, NOW);
    }
    expect(plan.offers).toEqual([]);
    phases.push(plan.rollout.phase);
    observed = {
      ...observedOf({ md, pods: pods(2, onV1) }),
      kept: afterAnswers(observed, plan, []).kept,
    };
  }
  expect(dryRuns).toBe(VALIDATION_ATTEMPTS);
  expect(phases).toEqual(['Validating', 'Validating', 'Failed', 'Failed', 'Failed', 'Failed']);
  const plan = planRollout(md, observed, NOW);
  expect(plan.history[0]).toMatchObject({ version: 'v2', outcome: 'Refused' });
  expect(plan.lastFailure?.message).toBe(`${overLimits.message} (validation attempt 3 of 3)`);
});
