// The ModelDeployment reconcile: rolls a model version out to the agent pods of the
// AnalysisAgents that reference it, and back. Validation runs in an agent (a dry-run offer
// to one pod: the operator never loads a model, so its memory stays small, and the model is
// checked against the real feature extractor and the pod's real recent windows). Delivery is
// an offer to each pod's PUT /model; each agent checks the bytes' sha256 again, loads the
// model beside the one serving and swaps it in, without a restart.
//
// The rollout's progress is kept in status (rollout, stable), so an operator restarted
// mid-rollout resumes: every pass works out what each pod should serve from the phase, reads
// what it serves from its /status, and offers the difference. Events are recorded after the
// status they describe is written. A request to a pod that fails is logged at the default
// verbosity: the first failure, each change, then every ten minutes while it repeats, and its
// recovery (runtime/repeatedFailures.ts), so a stuck rollout is neither silent nor a flood.
import type {
  ModelOfferRequest,
  ModelOfferResult,
} from '../../../../agent-runtime/src/contract/index.js';
import type { StoredAgent } from '../../domain/analysisAgent/desired.js';
import type { AgentReport } from '../../domain/analysisAgent/status.js';
import {
  canaryCount,
  controlToken,
  flaggedRate,
  judgeCanary,
  offerOf,
  recordHistory,
  revisionOf,
  selects,
  serves,
  stableOf,
  transitionOf,
  TRANSIENT_REASONS,
  wantFor,
  type HistoryItem,
  type ModelIdentity,
  type Rollout,
  type Stable,
  type StoredModelDeployment,
} from '../../domain/modelDeployment/rollout.js';
import { parseDuration } from '../../../../api/src/duration.js';
import {
  mergeConditions,
  type Condition,
  type DesiredCondition,
} from '../../runtime/conditions.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import type { EventRecorder, EventType } from '../../runtime/events.js';
import { stableJson } from '../../runtime/hash.js';
import type { Cache } from '../../runtime/informer.js';
import type { KubeClient, KubeObject, Resource } from '../../runtime/kubeClient.js';
import type { Logger } from '../../../../api/src/log.js';
import type { RepeatedFailures } from '../../runtime/repeatedFailures.js';
import { failureAtAddress } from '../agentRequest.js';
import type { AgentPod } from '../analysisAgent/reconcile.js';

export const MODEL_DEPLOYMENT: Resource = {
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'ModelDeployment',
  plural: 'modeldeployments',
  namespaced: true,
};
const CONFIG_MAPS: Resource = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
const SECRETS: Resource = { apiVersion: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };

/** An agent's refusal of an offer (HTTP 4xx with { reason, message }). */
export class OfferRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'OfferRefused';
  }
}

export interface ModelContext {
  client: KubeClient;
  log: Logger;
  events: EventRecorder;
  models: Cache<StoredModelDeployment & KubeObject>;
  agents: Cache<StoredAgent & KubeObject>;
  pods: Cache<AgentPod>;
  fetchStatus(pod: AgentPod): Promise<AgentReport>;
  /** PUT /model on the pod; throws OfferRefused when the agent refuses it. */
  offer(pod: AgentPod, token: string, offer: ModelOfferRequest): Promise<ModelOfferResult>;
  /** DELETE /model on the pod. */
  unload(pod: AgentPod, token: string): Promise<void>;
  /** The operator's key, from which each agent's control token is derived. */
  controlKey: Uint8Array;
  /** Which failed requests to pods were logged, across passes: what is worth another line. */
  failures: RepeatedFailures;
  pollMs: number;
  now(): Date;
}

interface PodView {
  pod: AgentPod;
  token: string;
  report?: AgentReport;
  error?: string;
}

type Failure = { reason: string; message: string; time: string };

/** The agents this deployment serves (by reference, kind and selector), and those of another kind. */
function referencing(ctx: ModelContext, md: StoredModelDeployment) {
  const all = ctx.agents
    .list(md.metadata.namespace)
    .filter((a) => a.spec.model?.name === md.metadata.name && !a.metadata.deletionTimestamp);
  return {
    selected: all.filter(
      (a) => a.spec.agent === md.spec.agent && selects(md.spec.selector, a.metadata.labels),
    ),
    wrongKind: all.filter((a) => a.spec.agent !== md.spec.agent),
  };
}

/**
 * The offer's source and manifest: the bytes of ConfigMap or Secret keys (base64), URLs, or
 * files on the claim.
 */
async function sourceFor(
  ctx: ModelContext,
  namespace: string,
  source: Stable['source'],
): Promise<Pick<ModelOfferRequest, 'source' | 'manifest'>> {
  if (source.http)
    return {
      source: { url: source.http.url },
      ...(source.http.manifestUrl ? { manifest: { url: source.http.manifestUrl } } : {}),
    };
  if (source.persistentVolumeClaim) {
    const { claimName, path, manifestPath } = source.persistentVolumeClaim;
    return {
      source: { file: `${claimName}/${path}` },
      ...(manifestPath ? { manifest: { file: `${claimName}/${manifestPath}` } } : {}),
    };
  }
  const ref = source.configMap ?? source.secret!;
  const kind = source.configMap ? 'ConfigMap' : 'Secret';
  const object = await ctx.client.find<
    KubeObject & { data?: Record<string, string>; binaryData?: Record<string, string> }
  >(source.configMap ? CONFIG_MAPS : SECRETS, namespace, ref.name);
  if (!object) throw new OfferRefused('SourceNotFound', `${kind} ${ref.name} does not exist`, 0);
  const inline = (key: string): { inline: string } => {
    // Secret data and ConfigMap binaryData are base64 already; ConfigMap data is text.
    const value =
      (source.configMap ? object.binaryData?.[key] : object.data?.[key]) ??
      (source.configMap && object.data?.[key] !== undefined
        ? Buffer.from(object.data[key], 'utf8').toString('base64')
        : undefined);
    if (value === undefined)
      throw new OfferRefused('SourceNotFound', `${kind} ${ref.name} has no key ${key}`, 0);
    return { inline: value };
  };
  return {
    source: inline(ref.key),
    ...(ref.manifestKey ? { manifest: inline(ref.manifestKey) } : {}),
  };
}

function failureOf(error: unknown, now: string): Failure {
  if (error instanceof OfferRefused)
    return { reason: error.reason, message: error.message, time: now };
  return { reason: 'AgentUnreachable', message: (error as Error).message, time: now };
}

/** What the operator asked of a pod: read its /status, validate (a dry run), offer, unload. */
type Step = 'status' | 'validate' | 'offer' | 'unload';

/**
 * Logs a failed request to a pod, at the default verbosity, when ctx.failures says it is worth
 * a line: the first failure, a changed one, or a repeat after ten minutes (with the count).
 */
function logFailure(
  ctx: ModelContext,
  md: StoredModelDeployment,
  pod: string,
  step: Step,
  failure: { reason: string; message: string },
  version: string | undefined,
): void {
  const { namespace, name } = md.metadata;
  const decision = ctx.failures.failed(
    `${namespace}/${name}/${pod}/${step}`,
    `${failure.reason}: ${failure.message}`,
    ctx.now().getTime(),
  );
  if (!decision.log) return;
  ctx.log.error(
    step === 'status' ? "cannot read an agent pod's status" : `model ${step} failed`,
    failure.message,
    {
      namespace,
      name,
      pod,
      step,
      reason: failure.reason,
      ...(version !== undefined ? { version } : {}),
      ...(decision.kind === 'repeated'
        ? {
            repeated: decision.unlogged + 1,
            failingSince: new Date(decision.since).toISOString(),
          }
        : decision.kind === 'changed'
          ? { failingSince: new Date(decision.since).toISOString() }
          : {}),
    },
  );
}

/** Logs that requests to a pod work again, if they had failed. */
function logRecovery(ctx: ModelContext, md: StoredModelDeployment, pod: string, step: Step): void {
  const { namespace, name } = md.metadata;
  const recovered = ctx.failures.succeeded(`${namespace}/${name}/${pod}/${step}`);
  if (!recovered) return;
  ctx.log.info(
    step === 'status' ? 'agent pod status readable again' : `model ${step} works again`,
    {
      namespace,
      name,
      pod,
      step,
      failures: recovered.failures,
      failingSince: new Date(recovered.since).toISOString(),
    },
  );
}

const sameFailure = (a: Failure | undefined, b: Failure): boolean =>
  a?.reason === b.reason && a.message === b.message;

export async function reconcileModelDeployment(
  ctx: ModelContext,
  namespace: string,
  name: string,
): Promise<ReconcileResult> {
  const md = ctx.models.get(namespace, name);
  if (!md || md.metadata.deletionTimestamp) return {};
  const spec = md.spec;
  const now = ctx.now().toISOString();
  const strategy = spec.rollout?.strategy ?? 'AllAtOnce';
  const canary = spec.rollout?.canary;
  const windowMs = parseDuration(canary?.analysisWindow ?? '10m') ?? 600_000;
  const autoRollback = spec.rollout?.autoRollback ?? true;
  const limit = spec.revisionHistoryLimit ?? 10;
  const revision = revisionOf(spec);
  const events: [EventType, string, string][] = [];
  const event = (type: EventType, reason: string, message: string): void => {
    events.push([type, reason, message]);
  };

  // What serves where: the selected agents' pods and their reports.
  const { selected, wrongKind } = referencing(ctx, md);
  const uidOf = new Map(selected.map((a) => [a.metadata.name, a.metadata.uid]));
  const pods = ctx.pods
    .list(namespace)
    .filter((p) => uidOf.has(p.metadata.labels?.['app.kubernetes.io/instance'] ?? ''))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const views: PodView[] = await Promise.all(
    pods
      .filter(
        (p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata.deletionTimestamp,
      )
      .map(async (pod): Promise<PodView> => {
        const token = controlToken(
          ctx.controlKey,
          uidOf.get(pod.metadata.labels!['app.kubernetes.io/instance']!)!,
        );
        try {
          const report = await ctx.fetchStatus(pod);
          logRecovery(ctx, md, pod.metadata.name, 'status');
          return { pod, token, report };
        } catch (error) {
          const message = failureAtAddress(error);
          logFailure(
            ctx,
            md,
            pod.metadata.name,
            'status',
            { reason: 'AgentUnreachable', message },
            undefined,
          );
          return { pod, token, error: message };
        }
      }),
  );
  const reachable = views.filter((v) => v.report);

  let rollout: Rollout = md.status?.rollout ?? { revision: '', phase: 'Validating' };
  let stable: Stable | undefined = md.status?.stable;
  let history: HistoryItem[] = md.status?.history ?? [];
  let lastFailure: Failure | undefined = md.status?.lastFailure as Failure | undefined;

  if (rollout.revision !== revision) {
    // A new target. Back to the version serving everywhere: nothing to validate or move.
    if (stable && revisionOf(stable) === revision) {
      rollout = { revision, phase: 'Complete', sha256: stable.sha256, startedAt: now };
      event('Normal', 'RolledOut', `back to ${stable.version}, which every agent serves`);
    } else {
      rollout = { revision, phase: 'Validating', startedAt: now };
      event('Normal', 'RolloutStarted', `rolling out ${spec.version} (${strategy})`);
    }
    lastFailure = undefined;
  }
  const target = (): ModelIdentity | undefined =>
    rollout.sha256 === undefined
      ? undefined
      : {
          version: spec.version,
          sha256: rollout.sha256,
          features: spec.features,
          threshold: spec.threshold,
        };

  // Validation: a dry-run offer to one pod, which loads and tries the model without serving it.
  if (rollout.phase === 'Validating' && reachable.length > 0) {
    const v = reachable[0]!;
    try {
      const offer = offerOf(
        spec.agent,
        { ...spec, sha256: spec.source.http?.sha256 },
        await sourceFor(ctx, namespace, spec.source),
        true,
      );
      const result = await ctx.offer(v.pod, v.token, offer);
      logRecovery(ctx, md, v.pod.metadata.name, 'validate');
      rollout = { ...rollout, phase: 'Progressing', sha256: result.sha256, step: 0 };
      lastFailure = undefined;
      event(
        'Normal',
        'Validated',
        `${spec.version} (sha256 ${result.sha256.slice(0, 12)}) loaded on ${v.pod.metadata.name} and scored ${result.golden.rows} golden windows (${result.golden.flagged} flagged)`,
      );
    } catch (error) {
      const fresh = failureOf(error, now);
      logFailure(ctx, md, v.pod.metadata.name, 'validate', fresh, spec.version);
      const wasSame = sameFailure(lastFailure, fresh);
      // The same failure again keeps its first time: a retried source is not a new status.
      const failure = wasSame ? lastFailure! : fresh;
      lastFailure = failure;
      const retried = TRANSIENT_REASONS.has(failure.reason);
      if (!retried) {
        rollout = { ...rollout, phase: 'Failed' };
        history = recordHistory(
          history,
          {
            version: spec.version,
            outcome: 'Refused',
            reason: `${failure.reason}: ${failure.message}`.slice(0, 1024),
          },
          limit,
          now,
        );
      }
      if (!wasSame)
        event(
          'Warning',
          failure.reason,
          `${spec.version} ${retried ? 'not validated yet (retried every poll)' : 'refused'}: ${failure.message}; ${stable ? `${stable.version} keeps serving` : 'the agents keep running on their rules'}`,
        );
    }
  }

  // A canary's first step: which pods, and the old model's rate on them before the switch.
  if (rollout.phase === 'Progressing' && strategy === 'Canary' && (rollout.step ?? 0) === 0) {
    // Canaries are taken from the pods that run and answer, in name order.
    const count = canaryCount(reachable.length, canary?.stepPercent ?? 25, 1);
    const canaryPods = reachable.slice(0, count).map((v) => v.pod.metadata.name);
    const before = reachable.filter((v) => canaryPods.includes(v.pod.metadata.name));
    const baselineRate = stable ? flaggedRate(before.map((v) => v.report!.model)) : undefined;
    rollout = {
      ...rollout,
      step: 1,
      canaryPods,
      ...(baselineRate !== undefined ? { baselineRate } : {}),
    };
    event('Normal', 'CanaryStep', `step 1: ${canaryPods.join(', ')} move to ${spec.version}`);
  }

  // Delivery: every reachable pod gets what its phase says it should serve.
  const converge = async (): Promise<Failure | undefined> => {
    const failed: { pod: string; what: string; ofTarget: boolean; failure: Failure }[] = [];
    await Promise.all(
      reachable.map(async (v) => {
        const want = wantFor(v.pod.metadata.name, rollout, strategy);
        const expected = want === 'target' ? target() : stable;
        if (serves(v.report!.model, expected)) return;
        // No stable version (a first rollout): only a pod serving the failed target is
        // emptied; what else a pod serves is left alone until a version completes.
        const t = target();
        if (!expected && !(t && serves(v.report!.model, t))) return;
        try {
          if (!expected) {
            await ctx.unload(v.pod, v.token);
            logRecovery(ctx, md, v.pod.metadata.name, 'unload');
            v.report = { ...v.report!, model: undefined };
            return;
          }
          const model = want === 'target' ? { ...spec, sha256: rollout.sha256 } : expected;
          const source = want === 'target' ? spec.source : stable!.source;
          const result = await ctx.offer(
            v.pod,
            v.token,
            offerOf(spec.agent, model, await sourceFor(ctx, namespace, source)),
          );
          logRecovery(ctx, md, v.pod.metadata.name, 'offer');
          v.report = {
            ...v.report!,
            model: {
              version: result.version,
              sha256: result.sha256,
              features: [...expected.features],
              threshold: expected.threshold,
              scored: { windows: 0, flagged: 0, inferenceErrors: 0 },
            },
          };
        } catch (error) {
          const failure = failureOf(error, now);
          const pod = v.pod.metadata.name;
          logFailure(ctx, md, pod, expected ? 'offer' : 'unload', failure, expected?.version);
          failed.push({
            pod,
            what: expected ? `${expected.version} not delivered` : `the model not unloaded`,
            ofTarget: want === 'target',
            failure,
          });
        }
      }),
    );
    // In pod order, not in the order the answers came: the failure recorded must not flip
    // between two failing pods from one pass to the next.
    failed.sort((a, b) => a.pod.localeCompare(b.pod));
    // The target refused for good ends the rollout (the caller rolls back); any other failure
    // is tried again next pass.
    const ends = (f: (typeof failed)[number]): boolean =>
      f.ofTarget && !TRANSIENT_REASONS.has(f.failure.reason);
    const other = failed.find((f) => !ends(f));
    // The same failure again keeps its first time, and its Event is not repeated.
    if (other && !sameFailure(lastFailure, other.failure)) {
      lastFailure = other.failure;
      event(
        'Warning',
        other.failure.reason,
        `${other.what} yet (retried every poll): ${other.failure.message}`,
      );
    }
    return failed.find(ends)?.failure;
  };
  const rollBack = async (failure: Failure, outcome: 'RolledBack' | 'Refused'): Promise<void> => {
    lastFailure = failure;
    rollout = {
      ...rollout,
      phase: autoRollback || strategy === 'AllAtOnce' ? 'RolledBack' : 'Halted',
    };
    history = recordHistory(
      history,
      {
        version: spec.version,
        sha256: rollout.sha256,
        outcome,
        reason: `${failure.reason}: ${failure.message}`.slice(0, 1024),
      },
      limit,
      now,
    );
    const back = stable ? `${stable.version} serves again` : 'the agents run on their rules again';
    event(
      'Warning',
      rollout.phase === 'Halted' ? 'CanaryHalted' : 'RolledBack',
      `${spec.version}: ${failure.message}; ${rollout.phase === 'Halted' ? 'autoRollback is off: the canary pods keep it, edit the spec to go on or back' : back}`,
    );
    if (rollout.phase === 'RolledBack') await converge();
  };

  const deliveryFailure = await converge();
  if (rollout.phase === 'Progressing' && deliveryFailure)
    await rollBack(deliveryFailure, 'RolledBack');

  let requeueAfterMs = ctx.pollMs;
  if (rollout.phase === 'Progressing') {
    const t = target()!;
    const serving = (name: string): boolean =>
      serves(reachable.find((v) => v.pod.metadata.name === name)?.report?.model, t);
    // Canary pods that have since gone (scaled down) are no longer waited for.
    const live = (rollout.canaryPods ?? []).filter((c) => pods.some((p) => p.metadata.name === c));
    if (strategy !== 'Canary') {
      // Complete once every pod that runs serves it; a pod that starts later is given it then.
      if (reachable.length > 0 && reachable.every((v) => serving(v.pod.metadata.name)))
        rollout = { ...rollout, phase: 'Complete' };
    } else if (live.every(serving)) {
      if (!rollout.stepStartedAt) rollout = { ...rollout, stepStartedAt: now };
      const elapsed = Date.parse(now) - Date.parse(rollout.stepStartedAt!);
      if (elapsed < windowMs) requeueAfterMs = Math.min(ctx.pollMs, windowMs - elapsed + 100);
      else {
        const verdict = judgeCanary(
          spec.version,
          live.map((p) => ({
            pod: p,
            model: reachable.find((v) => v.pod.metadata.name === p)?.report?.model,
          })),
          rollout.baselineRate,
          rollout.stepStartedAt!,
        );
        if (!verdict.pass)
          await rollBack(
            { reason: verdict.reason, message: verdict.message, time: now },
            'RolledBack',
          );
        else if (reachable.every((v) => live.includes(v.pod.metadata.name))) {
          rollout = { ...rollout, phase: 'Complete' };
          event('Normal', 'CanaryPassed', `step ${rollout.step}: ${verdict.message}`);
        } else {
          const step = (rollout.step ?? 1) + 1;
          const more = reachable
            .slice(0, canaryCount(reachable.length, canary?.stepPercent ?? 25, step))
            .map((v) => v.pod.metadata.name);
          const canaryPods = [...new Set([...live, ...more])];
          rollout = { ...rollout, step, canaryPods, stepStartedAt: undefined };
          event(
            'Normal',
            'CanaryStep',
            `step ${step - 1} passed (${verdict.message}); step ${step}: ${canaryPods.join(', ')}`,
          );
          await converge();
          requeueAfterMs = 0;
        }
      }
    }
    if (rollout.phase === 'Complete') {
      const completed = stableOf(spec, rollout.sha256!);
      history = recordHistory(
        history,
        { version: spec.version, sha256: rollout.sha256, servedFrom: now, outcome: 'Serving' },
        limit,
        now,
      );
      stable = completed;
      lastFailure = undefined;
      event('Normal', 'RolledOut', `every agent pod serves ${spec.version}`);
    }
  }

  // The status.
  const t = target();
  const updated = reachable.filter((v) => t && serves(v.report!.model, t)).length;
  const transition = transitionOf(rollout, lastFailure?.reason);
  const validated: DesiredCondition =
    rollout.phase === 'Validating'
      ? {
          type: 'Validated',
          status: lastFailure ? 'False' : 'Unknown',
          reason:
            lastFailure?.reason ?? (reachable.length === 0 ? 'WaitingForAgents' : 'Validating'),
          message:
            lastFailure?.message ??
            (reachable.length === 0
              ? `no running agent pod to validate ${spec.version} on`
              : `validating ${spec.version}`),
        }
      : rollout.phase === 'Failed'
        ? {
            type: 'Validated',
            status: 'False',
            reason: lastFailure?.reason ?? 'Refused',
            message: lastFailure?.message ?? `${spec.version} was refused`,
          }
        : {
            type: 'Validated',
            status: 'True',
            reason: 'Validated',
            message: `${spec.version} (sha256 ${rollout.sha256}) loads and scores`,
          };
  const rolledOut: DesiredCondition =
    rollout.phase === 'Complete'
      ? {
          type: 'RolledOut',
          status: 'True',
          reason: 'RolledOut',
          message: `${updated}/${pods.length} agent pods serve ${spec.version}`,
        }
      : {
          type: 'RolledOut',
          status: 'False',
          reason:
            rollout.phase === 'Progressing' || rollout.phase === 'Validating'
              ? 'Progressing'
              : rollout.phase,
          message:
            rollout.phase === 'RolledBack' ||
            rollout.phase === 'Halted' ||
            rollout.phase === 'Failed'
              ? `${spec.version}: ${lastFailure?.message ?? rollout.phase}`
              : `${updated}/${pods.length} agent pods serve ${spec.version}`,
        };
  const notes = [
    ...(wrongKind.length > 0
      ? [
          `${wrongKind.map((a) => a.metadata.name).join(', ')} reference this ${spec.agent} model but are of another kind and are not served`,
        ]
      : []),
    ...views.filter((v) => v.error).map((v) => `${v.pod.metadata.name}: ${v.error}`),
  ];
  const allServe = rollout.phase === 'Complete' && pods.length > 0 && updated === pods.length;
  const ready: DesiredCondition = allServe
    ? {
        type: 'Ready',
        status: 'True',
        reason: 'UpToDate',
        message: [`every agent pod serves ${spec.version}`, ...notes].join('; '),
      }
    : {
        type: 'Ready',
        status: 'False',
        reason: pods.length === 0 ? 'NoAgents' : (lastFailure?.reason ?? transition),
        message: [
          pods.length === 0
            ? `no AnalysisAgent pods of kind ${spec.agent} reference this deployment`
            : lastFailure
              ? `${lastFailure.message}${stable ? `; ${stable.version} serves` : ''}`
              : `${updated}/${pods.length} agent pods serve ${spec.version}`,
          ...notes,
        ].join('; '),
      };
  const previous = (md.status?.conditions ?? []) as Condition[];
  const status = {
    observedGeneration: md.metadata.generation,
    conditions: mergeConditions(
      previous,
      [ready, validated, rolledOut],
      md.metadata.generation,
      now,
    ),
    activeVersion: stable?.version,
    targetVersion: spec.version,
    transition,
    lastFailure,
    updatedAgents: updated,
    totalAgents: pods.length,
    history,
    stable,
    rollout,
  };
  if (stableJson(status) !== stableJson(md.status ?? {})) {
    await ctx.client.applyStatus(MODEL_DEPLOYMENT, {
      apiVersion: md.apiVersion,
      kind: md.kind,
      metadata: { name, namespace, resourceVersion: md.metadata.resourceVersion },
      status,
    });
    for (const [type, reason, message] of events)
      await ctx.events.record(md, type, reason, message);
  }
  // Agents' reports change without Kubernetes events: poll while there are pods to serve.
  return pods.length > 0 ? { requeueAfterMs } : {};
}
