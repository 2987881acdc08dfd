// The pure rules of a rollout: selection, canary steps, what each pod should serve, the
// canary's verdict, and the history a user reads to choose what to go back to.
import type { ServedModel } from '../../../../agent-runtime/src/contract/index.js';
import {
  canaryCount,
  judgeCanary,
  offerOf,
  recordHistory,
  revisionOf,
  selects,
  serves,
  transitionOf,
  TRANSIENT_REASONS,
  wantFor,
  type HistoryItem,
} from './rollout.js';

const model = (scored: Partial<NonNullable<ServedModel['scored']>> = {}): ServedModel => ({
  version: 'v2',
  sha256: 'a'.repeat(64),
  features: ['lines', 'failures'],
  threshold: 0.8,
  scored: { windows: 0, flagged: 0, inferenceErrors: 0, ...scored },
});

test('selectors: matchLabels and each operator of matchExpressions', () => {
  const labels = { site: 'home', tier: 'edge' };
  expect(selects(undefined, labels)).toBe(true);
  expect(selects({ matchLabels: { site: 'home' } }, labels)).toBe(true);
  expect(selects({ matchLabels: { site: 'shop' } }, labels)).toBe(false);
  const e = (operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', values?: string[]) =>
    selects({ matchExpressions: [{ key: 'tier', operator, values }] }, labels);
  expect([
    e('In', ['edge']),
    e('In', ['core']),
    e('NotIn', ['edge']),
    e('NotIn', ['core']),
  ]).toEqual([true, false, false, true]);
  expect([e('Exists'), e('DoesNotExist')]).toEqual([true, false]);
  expect(selects({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(
    true,
  );
});

test('canary steps: a share of the pods per step, at least one, at most all', () => {
  expect([1, 2, 3, 4, 5].map((s) => canaryCount(4, 25, s))).toEqual([1, 2, 3, 4, 4]);
  expect(canaryCount(1, 25, 1)).toBe(1);
  expect(canaryCount(10, 33, 1)).toBe(4);
  expect(canaryCount(0, 25, 1)).toBe(0);
});

test('a pod serves a version only with the same bytes, features and threshold', () => {
  const expected = {
    version: 'v2',
    sha256: 'a'.repeat(64),
    features: ['lines', 'failures'],
    threshold: 0.8,
  };
  expect(serves(model(), expected)).toBe(true);
  expect(serves({ ...model(), sha256: 'b'.repeat(64) }, expected)).toBe(false);
  expect(serves({ ...model(), features: ['failures', 'lines'] }, expected)).toBe(false);
  expect(serves({ ...model(), threshold: 0.9 }, expected)).toBe(false);
  expect(serves(undefined, expected)).toBe(false);
  // Expecting no model: only a pod with none serves it.
  expect(serves(undefined, undefined)).toBe(true);
  expect(serves(model(), undefined)).toBe(false);
});

test('what each pod should serve, by phase', () => {
  const canary = { revision: 'r', canaryPods: ['a-0'] };
  expect(wantFor('a-1', { ...canary, phase: 'Progressing' }, 'Canary')).toBe('stable');
  expect(wantFor('a-0', { ...canary, phase: 'Progressing' }, 'Canary')).toBe('target');
  expect(wantFor('a-1', { ...canary, phase: 'Progressing' }, 'AllAtOnce')).toBe('target');
  expect(wantFor('a-0', { ...canary, phase: 'Halted' }, 'Canary')).toBe('target');
  expect(wantFor('a-1', { ...canary, phase: 'Halted' }, 'Canary')).toBe('stable');
  for (const phase of ['Validating', 'Failed', 'RolledBack'] as const)
    expect(wantFor('a-0', { ...canary, phase }, 'Canary')).toBe('stable');
  expect(wantFor('a-1', { ...canary, phase: 'Complete' }, 'Canary')).toBe('target');
});

describe('the canary verdict', () => {
  const start = '2026-11-24T10:00:00.000Z';
  test('a model that flags far more windows than the old one fails, naming both rates', () => {
    const v = judgeCanary(
      'v2',
      [{ pod: 'a-0', model: model({ windows: 40, flagged: 40 }) }],
      0.025,
      start,
    );
    expect(v).toMatchObject({ pass: false, reason: 'AnomalyRateTooHigh' });
    expect(!v.pass && v.message).toContain('100.0% of 40 windows');
    expect(!v.pass && v.message).toContain("previous version's 2.5%");
  });
  test('a like rate passes; small rates get a margin; a first model has an absolute limit', () => {
    expect(
      judgeCanary('v2', [{ pod: 'a-0', model: model({ windows: 100, flagged: 4 }) }], 0.03, start)
        .pass,
    ).toBe(true);
    expect(
      judgeCanary('v2', [{ pod: 'a-0', model: model({ windows: 100, flagged: 5 }) }], 0, start)
        .pass,
    ).toBe(true);
    expect(
      judgeCanary('v2', [{ pod: 'a-0', model: model({ windows: 100, flagged: 6 }) }], 0, start)
        .pass,
    ).toBe(false);
    expect(
      judgeCanary(
        'v2',
        [{ pod: 'a-0', model: model({ windows: 100, flagged: 40 }) }],
        undefined,
        start,
      ).pass,
    ).toBe(true);
    expect(
      judgeCanary(
        'v2',
        [{ pod: 'a-0', model: model({ windows: 100, flagged: 60 }) }],
        undefined,
        start,
      ).pass,
    ).toBe(false);
  });
  test('inference errors and a load failure during the step fail it; nothing scored passes, saying so', () => {
    expect(
      judgeCanary('v2', [{ pod: 'a-0', model: model({ inferenceErrors: 1 }) }], 0, start),
    ).toMatchObject({
      pass: false,
      reason: 'CanaryInferenceErrors',
    });
    const failed = {
      ...model(),
      lastFailure: { reason: 'InvalidModel', message: 'x', time: '2026-11-24T10:01:00.000Z' },
    };
    expect(judgeCanary('v2', [{ pod: 'a-0', model: failed }], 0, start)).toMatchObject({
      pass: false,
      reason: 'CanaryLoadFailed',
    });
    const earlier = {
      ...failed,
      lastFailure: { ...failed.lastFailure, time: '2026-11-24T09:00:00.000Z' },
    };
    expect(judgeCanary('v2', [{ pod: 'a-0', model: earlier }], 0, start)).toEqual({
      pass: true,
      message: 'no windows were scored during the analysis window',
    });
  });
});

test('a step with fewer than CANARY_MIN_WINDOWS windows is not judged on its rate, and says so', () => {
  // The walkthrough's case: a first model's one scored window was the attack's, flagged.
  const start = '2026-11-24T10:00:00.000Z';
  const one = judgeCanary(
    'v1',
    [{ pod: 'a-0', model: model({ windows: 1, flagged: 1 }) }],
    undefined,
    start,
  );
  expect(one).toEqual({
    pass: true,
    message:
      'only 1 window was scored during the analysis window (fewer than 10): the anomaly rate is not judged; a longer analysisWindow judges it',
  });
  // Across pods, ten windows are enough to judge: 6 of 10 flagged is above a first model's 50%.
  expect(
    judgeCanary(
      'v1',
      [
        { pod: 'a-0', model: model({ windows: 5, flagged: 3 }) },
        { pod: 'a-1', model: model({ windows: 5, flagged: 3 }) },
      ],
      undefined,
      start,
    ),
  ).toMatchObject({ pass: false, reason: 'AnomalyRateTooHigh' });
});

test('history: newest first, the version it replaces marked, trimmed to the limit', () => {
  let h: HistoryItem[] = [];
  h = recordHistory(h, { version: 'v1', outcome: 'Serving', servedFrom: 't1' }, 3, 't1');
  h = recordHistory(
    h,
    { version: 'v2', outcome: 'RolledBack', reason: 'AnomalyRateTooHigh: x' },
    3,
    't2',
  );
  h = recordHistory(h, { version: 'v3', outcome: 'Serving', servedFrom: 't3' }, 3, 't3');
  expect(h.map((e) => [e.version, e.outcome, e.servedUntil])).toEqual([
    ['v3', 'Serving', undefined],
    ['v2', 'RolledBack', undefined],
    ['v1', 'Replaced', 't3'],
  ]);
  h = recordHistory(h, { version: 'v4', outcome: 'Refused' }, 3, 't4');
  expect(h.map((e) => e.version)).toEqual(['v4', 'v3', 'v2']);
  expect(recordHistory(h, { version: 'v5', outcome: 'Refused' }, 0, 't5')).toEqual([]);
});

test('a revision changes with what is served, not with how it is rolled out', () => {
  const spec = {
    version: 'v1',
    source: { configMap: { name: 'm', key: 'model.onnx' } },
    features: ['lines'],
  };
  expect(revisionOf(spec)).toBe(revisionOf({ ...spec }));
  expect(revisionOf({ ...spec, version: 'v2' })).not.toBe(revisionOf(spec));
  expect(revisionOf({ ...spec, threshold: 0.9 })).not.toBe(revisionOf(spec));
  expect(revisionOf({ ...spec, features: ['lines', 'failures'] })).not.toBe(revisionOf(spec));
});

test('transitions: a spec that cannot work is InvalidSpec, a model that does not load is blocked', () => {
  const r = (
    phase: 'Validating' | 'Progressing' | 'Complete' | 'Failed' | 'RolledBack' | 'Halted',
  ) => ({
    revision: 'r',
    phase,
  });
  expect(transitionOf(r('Complete'), undefined)).toBe('UpToDate');
  expect(transitionOf(r('Progressing'), undefined)).toBe('InProgress');
  expect(transitionOf(r('Validating'), 'SourceNotFound')).toBe('InvalidSpec');
  expect(transitionOf(r('Failed'), 'FeatureMismatch')).toBe('InvalidSpec');
  expect(transitionOf(r('Failed'), 'SourceAddressRefused')).toBe('InvalidSpec');
  expect(TRANSIENT_REASONS.has('SourceAddressRefused')).toBe(false);
  expect(transitionOf(r('Failed'), 'ChecksumMismatch')).toBe('BlockedByFailedLoad');
  expect(transitionOf(r('RolledBack'), 'AnomalyRateTooHigh')).toBe('RolledBack');
  expect(transitionOf(r('Halted'), 'AnomalyRateTooHigh')).toBe('InProgress');
});

test("offerOf carries the manifest's sha256 to the agent, beside the manifest", () => {
  const offer = offerOf(
    'dns',
    { version: 'v2', features: ['lines'], sha256: 'a'.repeat(64) },
    {
      source: { url: 'https://m/x.onnx' },
      manifest: { url: 'http://m/x.json' },
      manifestSha256: 'b'.repeat(64),
    },
  );
  expect(offer.manifestSha256).toBe('b'.repeat(64));
});
