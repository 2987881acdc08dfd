// The AnalysisAgent's conditions, each a pure function of what is observed: Ready (the pods),
// SourceReachable, ModelLoaded, ModelDrift, RulesAccepted and StoreRecovered (what the pods
// report), and Degraded (running, but not as it should). agentConditions gives them in the order the
// status lists them.
import type { AgentObservation, AgentReport } from './observation.js';
import { desiredReplicas } from './replicas.js';
import { leftUnread, unreadNote } from './sourceStart.js';

/** A condition as the status builder gives it; runtime/conditions.ts adds the times. */
export interface DesiredConditionOut {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Longest rule error copied into a condition: a refusal names the rule and field early on. */
const RULE_ERROR_LIMIT = 400;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Pods whose container waits for a reason worth naming (not a container being created). */
const failingPods = (o: AgentObservation) =>
  o.pods.filter((p) => p.waitingReason && p.waitingReason !== 'ContainerCreating');

/** The model versions the pods serve, each once, in the order the pods report them. */
export function servedVersions(reports: AgentReport[]): string[] {
  return [...new Set(reports.map((r) => r.model?.version).filter((v): v is string => !!v))];
}

export function agentConditions(o: AgentObservation): DesiredConditionOut[] {
  return [
    readyCondition(o),
    sourceReachableCondition(o),
    modelLoadedCondition(o),
    modelDriftCondition(o.reports, !!o.agent.spec.model),
    rulesAcceptedCondition(o.reports),
    storeRecoveredCondition(o.reports),
    degradedCondition(o),
  ];
}

/** Ready: the pods run and pass their readiness probes (source reachable, model loaded). */
function readyCondition(o: AgentObservation): DesiredConditionOut {
  const desired = desiredReplicas(o.agent.spec);
  const readyReplicas = o.statefulSet?.readyReplicas ?? 0;
  const failing = failingPods(o);
  const ready = (status: 'True' | 'False', reason: string, message: string) =>
    ({ type: 'Ready', status, reason, message }) as const;
  if (o.missingSecrets.length > 0)
    return ready(
      'False',
      'SecretMissing',
      o.missingSecrets
        .map(
          (m) =>
            `Secret "${m.name}" (${m.field}) does not exist in namespace ${o.agent.metadata.namespace}`,
        )
        .join('; '),
    );
  if (o.agent.spec.paused)
    return ready('False', 'Paused', 'spec.paused is true: the agent is scaled to zero pods');
  if (desired === 0) return ready('True', 'ScaledToZero', 'spec.replicas is 0');
  if (readyReplicas >= desired)
    return ready('True', 'AgentsReady', `${plural(readyReplicas, 'agent pod')} ready`);
  const why = failing[0]
    ? `: pod ${failing[0].name} is ${failing[0].waitingReason}${failing[0].waitingMessage ? ` (${failing[0].waitingMessage})` : ''}`
    : '';
  return ready(
    'False',
    failing[0]?.waitingReason ?? 'PodsNotReady',
    `${readyReplicas} of ${plural(desired, 'agent pod')} ready${why}`,
  );
}

/** SourceReachable: what the agents themselves say of PostgreSQL. */
function sourceReachableCondition(o: AgentObservation): DesiredConditionOut {
  const reports = o.reports;
  const unreachable = reports.filter((r) => !r.sourceReachable);
  if (reports.length === 0)
    return {
      type: 'SourceReachable',
      status: 'Unknown',
      reason: 'NoAgentReports',
      message:
        desiredReplicas(o.agent.spec) === 0
          ? 'no agent pod is running'
          : 'no agent pod has reported yet',
    };
  if (unreachable.length > 0)
    return {
      type: 'SourceReachable',
      status: 'False',
      reason: 'SourceUnreachable',
      message: `${unreachable[0]!.pod}: ${unreachable[0]!.sourceError ?? 'unreachable'}`,
    };
  // Reachable; and if the pods started at the end of a table of older rows and nothing new
  // has come since, that is why nothing is analysed (NoNewRows), not a quiet network.
  const read = `${plural(reports.length, 'agent pod')} read the source`;
  const unread = leftUnread(reports.map((r) => r.start));
  const lines = reports.reduce((n, r) => n + r.linesAnalyzed, 0);
  return unread && lines === 0
    ? {
        type: 'SourceReachable',
        status: 'True',
        reason: 'NoNewRows',
        message: `${read}, but ${unreadNote(unread, lines)}`,
      }
    : {
        type: 'SourceReachable',
        status: 'True',
        reason: 'Reachable',
        message: unread ? `${read}; ${unreadNote(unread, lines)}` : read,
      };
}

/** ModelLoaded: every pod serves a model of the agent's ModelDeployment (when it names one). */
function modelLoadedCondition(o: AgentObservation): DesiredConditionOut {
  const model = o.agent.spec.model;
  const reports = o.reports;
  if (!model)
    return {
      type: 'ModelLoaded',
      status: 'True',
      reason: 'NoModelConfigured',
      message: 'no spec.model: the agent runs on its rules and baselines',
    };
  const failed = reports.find((r) => r.model?.lastFailure);
  const missing = reports.filter((r) => !r.model?.version);
  if (reports.length === 0)
    return {
      type: 'ModelLoaded',
      status: 'Unknown',
      reason: 'NoAgentReports',
      message: 'no agent pod has reported yet',
    };
  if (missing.length > 0)
    return {
      type: 'ModelLoaded',
      status: 'False',
      reason: failed ? failed.model!.lastFailure!.reason : 'ModelNotDelivered',
      message: failed
        ? `${failed.pod}: ${failed.model!.lastFailure!.message}`
        : `${missing[0]!.pod} has no model of ModelDeployment "${model.name}" yet`,
    };
  return {
    type: 'ModelLoaded',
    status: 'True',
    reason: 'Loaded',
    message: `serving ${servedVersions(reports).join(', ')}${failed ? `; a newer model was refused: ${failed.model!.lastFailure!.message}` : ''}`,
  };
}

/** ModelDrift: whether live features still look like the model's training data. */
function modelDriftCondition(reports: AgentReport[], hasModel: boolean): DesiredConditionOut {
  const drifting = reports.filter((r) => r.drift?.detected);
  if (drifting.length > 0)
    return {
      type: 'ModelDrift',
      status: 'True',
      reason: 'FeaturesDrifted',
      message: `${drifting[0]!.pod}: ${drifting[0]!.drift!.drifted.join(', ')} no longer look like the training data of ${drifting[0]!.drift!.modelVersion}`,
    };
  if (reports.some((r) => r.drift?.judged))
    return {
      type: 'ModelDrift',
      status: 'False',
      reason: 'NoDrift',
      message: 'live features match the training data',
    };
  return {
    type: 'ModelDrift',
    status: 'Unknown',
    reason: hasModel ? 'NotJudgedYet' : 'NoModelConfigured',
    message: hasModel ? 'too few windows scored to judge drift yet' : 'no model, no drift to check',
  };
}

/** RulesAccepted: whether every pod runs the rules as the spec and its ConfigMaps say. */
function rulesAcceptedCondition(reports: AgentReport[]): DesiredConditionOut {
  const ruled = reports.filter((r) => r.rules);
  const refused = ruled.find((r) => r.rules!.error);
  if (refused)
    return {
      type: 'RulesAccepted',
      status: 'False',
      reason: 'RulesRefused',
      message: `${refused.pod}: ${refused.rules!.error!.slice(0, RULE_ERROR_LIMIT)}; the rules in force before the change go on`,
    };
  if (ruled.length > 0)
    return {
      type: 'RulesAccepted',
      status: 'True',
      reason: 'Loaded',
      message: `${ruled[0]!.rules!.rules} rules from ${ruled[0]!.rules!.packs.length} packs`,
    };
  return {
    type: 'RulesAccepted',
    status: 'Unknown',
    reason: 'NoAgentReports',
    message: 'no agent pod has reported its rules yet',
  };
}

/**
 * StoreRecovered: a running pod found its anomaly store unreadable at its start (damaged, or
 * written by a newer edgewarden), moved it aside and started a fresh one (issue 20, M5). True
 * is bad news: the anomalies stored before are in the moved file, not served. It names the
 * file and the time, never SQLite's text (the pod's log has it).
 */
function storeRecoveredCondition(reports: AgentReport[]): DesiredConditionOut {
  const recovered = reports.filter((r) => r.store);
  if (recovered.length > 0) {
    const { pod, store } = recovered[0]!;
    const others = recovered.length > 1 ? `; and ${plural(recovered.length - 1, 'more pod')}` : '';
    const why = store!.reason === 'NewerSchema' ? 'written by a newer edgewarden' : 'damaged';
    return {
      type: 'StoreRecovered',
      status: 'True',
      reason: store!.reason === 'NewerSchema' ? 'StoreNewerSchema' : 'StoreCorrupt',
      message: `${pod}: its store was ${why}; moved aside to ${store!.movedTo} at ${store!.recoveredAt}, and a fresh store started${others}`,
    };
  }
  if (reports.length === 0)
    return {
      type: 'StoreRecovered',
      status: 'Unknown',
      reason: 'NoAgentReports',
      message: 'no agent pod has reported yet',
    };
  return {
    type: 'StoreRecovered',
    status: 'False',
    reason: 'StoreIntact',
    message: 'every pod opened its store as it was',
  };
}

/** Degraded: running, but not as it should. */
function degradedCondition(o: AgentObservation): DesiredConditionOut {
  const desired = desiredReplicas(o.agent.spec);
  const readyReplicas = o.statefulSet?.readyReplicas ?? 0;
  const failing = failingPods(o);
  const degraded: string[] = [];
  if (failing.length > 0) degraded.push(`pod ${failing[0]!.name}: ${failing[0]!.waitingReason}`);
  if (readyReplicas > 0 && readyReplicas < desired)
    degraded.push(`${readyReplicas} of ${desired} pods ready`);
  if (o.reports.some((r) => !r.sourceReachable)) degraded.push('source unreachable');
  if (o.unreachable.length > 0)
    degraded.push(`no /status from ${o.unreachable[0]!.pod}: ${o.unreachable[0]!.error}`);
  return degraded.length > 0
    ? { type: 'Degraded', status: 'True', reason: 'AgentsDegraded', message: degraded.join('; ') }
    : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing is degraded' };
}
