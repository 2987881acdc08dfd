// A ModelDeployment's status from a pass's plan and what it observed: the rollout's state as
// planned, how many pods serve the target, and the Ready, Validated and RolledOut conditions.
import type { ModelDeploymentStatus } from '../../../../api/src/generated/types.js';
import { mergeConditions, type DesiredCondition } from '../../runtime/conditions.js';
import { targetOf } from './draft.js';
import type { ObservedRollout, RolloutPlan } from './pass.js';
import { serves, transitionOf, type StoredModelDeployment } from './rollout.js';

/** What the conditions are made of. */
interface Facts {
  version: string;
  plan: RolloutPlan;
  /** Pods that answer and serve the target, and all pods of the agents served. */
  updated: number;
  total: number;
  answering: number;
}

function validatedCondition({ version, plan, answering }: Facts): DesiredCondition {
  const { rollout, lastFailure } = plan;
  if (rollout.phase === 'Validating')
    return {
      type: 'Validated',
      status: lastFailure ? 'False' : 'Unknown',
      reason: lastFailure?.reason ?? (answering === 0 ? 'WaitingForAgents' : 'Validating'),
      message:
        lastFailure?.message ??
        (answering === 0
          ? `no running agent pod to validate ${version} on`
          : `validating ${version}`),
    };
  if (rollout.phase === 'Failed')
    return {
      type: 'Validated',
      status: 'False',
      reason: lastFailure?.reason ?? 'Refused',
      message: lastFailure?.message ?? `${version} was refused`,
    };
  return {
    type: 'Validated',
    status: 'True',
    reason: 'Validated',
    message: `${version} (sha256 ${rollout.sha256}) loads and scores`,
  };
}

function rolledOutCondition({ version, plan, updated, total }: Facts): DesiredCondition {
  const { phase } = plan.rollout;
  const serving = `${updated}/${total} agent pods serve ${version}`;
  if (phase === 'Complete')
    return { type: 'RolledOut', status: 'True', reason: 'RolledOut', message: serving };
  const ended = phase === 'RolledBack' || phase === 'Halted' || phase === 'Failed';
  return {
    type: 'RolledOut',
    status: 'False',
    reason: phase === 'Progressing' || phase === 'Validating' ? 'Progressing' : phase,
    message: ended ? `${version}: ${plan.lastFailure?.message ?? phase}` : serving,
  };
}

function readyCondition(facts: Facts, agent: string, notes: string[]): DesiredCondition {
  const { version, plan, updated, total } = facts;
  const { lastFailure, stable, rollout } = plan;
  if (rollout.phase === 'Complete' && total > 0 && updated === total)
    return {
      type: 'Ready',
      status: 'True',
      reason: 'UpToDate',
      message: [`every agent pod serves ${version}`, ...notes].join('; '),
    };
  const why =
    total === 0
      ? `no AnalysisAgent pods of kind ${agent} reference this deployment`
      : lastFailure
        ? `${lastFailure.message}${stable ? `; ${stable.version} serves` : ''}`
        : `${updated}/${total} agent pods serve ${version}`;
  return {
    type: 'Ready',
    status: 'False',
    reason: total === 0 ? 'NoAgents' : (lastFailure?.reason ?? transitionOf(rollout, undefined)),
    message: [why, ...notes].join('; '),
  };
}

/** The status a pass writes. */
export function modelDeploymentStatus(
  md: StoredModelDeployment,
  observed: ObservedRollout,
  plan: RolloutPlan,
  now: Date,
): ModelDeploymentStatus {
  const { spec, metadata } = md;
  const target = targetOf(spec, plan.rollout);
  const answering = observed.pods.filter((p) => p.answered);
  const facts: Facts = {
    version: spec.version,
    plan,
    updated: answering.filter((p) => target && serves(p.model, target)).length,
    total: observed.pods.length,
    answering: answering.length,
  };
  const notes = [
    ...(observed.wrongKind.length > 0
      ? [
          `${observed.wrongKind.join(', ')} reference this ${spec.agent} model but are of another kind and are not served`,
        ]
      : []),
    ...observed.pods.filter((p) => p.statusError).map((p) => `${p.name}: ${p.statusError}`),
  ];
  const conditions = [
    readyCondition(facts, spec.agent, notes),
    validatedCondition(facts),
    rolledOutCondition(facts),
  ];
  return {
    observedGeneration: metadata.generation,
    conditions: mergeConditions(
      observed.kept.conditions,
      conditions,
      metadata.generation,
      now.toISOString(),
    ),
    activeVersion: plan.stable?.version,
    targetVersion: spec.version,
    transition: transitionOf(plan.rollout, plan.lastFailure?.reason),
    lastFailure: plan.lastFailure,
    updatedAgents: facts.updated,
    totalAgents: facts.total,
    history: plan.history,
    stable: plan.stable,
    rollout: plan.rollout,
  };
}
