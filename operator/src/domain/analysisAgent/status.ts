// An AnalysisAgent's status, rebuilt every pass from what is observed: its StatefulSet, its
// pods, the Secrets it references, and what each running agent pod reports at /status. Pure:
// the same observations give the same status; conditions keep their transition times only
// while their status holds (runtime/conditions.ts does that part).
import type { AnalysisAgentStatus } from '../../../../api/src/generated/types.js';
import type { ServedModel, SourceStart } from '../../../../agent-runtime/src/contract/index.js';
import type { StoredAgent } from './desired.js';
import { leftUnread, unreadNote } from './sourceStart.js';

/** What an agent pod reports at /status (the fields the operator uses). */
export interface AgentReport {
  pod: string;
  ready: boolean;
  sourceReachable: boolean;
  sourceError?: string;
  model?: ServedModel;
  lastCycleTime?: string;
  linesAnalyzed: number;
  /** Where it began reading on its first start, and the older rows it left (newer agents). */
  start?: SourceStart;
  anomalies: { total: number; last24h: number };
  drift?: { judged: boolean; detected: boolean; drifted: string[]; modelVersion: string };
  /** The rules in force (agents since rule packs). */
  rules?: {
    rules: number;
    packs: string[];
    error?: string;
    top?: { rule: string; anomalies: number }[];
  };
}

/** Longest rule error copied into a condition: a refusal names the rule and field early on. */
const RULE_ERROR_LIMIT = 400;

export interface PodObservation {
  name: string;
  ready: boolean;
  /** Why its container is not running (CreateContainerConfigError, CrashLoopBackOff, ...). */
  waitingReason?: string;
  waitingMessage?: string;
}

export interface AgentObservation {
  agent: StoredAgent;
  statefulSet?: { replicas?: number; readyReplicas?: number };
  /** Referenced Secrets that do not exist, with the field that names them. */
  missingSecrets: { name: string; field: string }[];
  pods: PodObservation[];
  reports: AgentReport[];
  /** Pods whose /status could not be read, with why. */
  unreachable: { pod: string; error: string }[];
}

export interface DesiredConditionOut {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export type ObservedStatus = Omit<AnalysisAgentStatus, 'conditions' | 'observedGeneration'> & {
  conditions: DesiredConditionOut[];
};

/** The Secrets an AnalysisAgent references, with the field that names each. */
export function referencedSecrets(agent: StoredAgent): { name: string; field: string }[] {
  const s = agent.spec;
  const refs: { name: string; field: string }[] = [
    { name: s.source.secretRef.name, field: 'spec.source.secretRef' },
  ];
  if (s.source.caSecretRef)
    refs.push({ name: s.source.caSecretRef.name, field: 'spec.source.caSecretRef' });
  if (s.cache?.secretRef)
    refs.push({ name: s.cache.secretRef.name, field: 'spec.cache.secretRef' });
  const n = s.notifications;
  if (n?.slack)
    refs.push({
      name: n.slack.webhookSecretRef.name,
      field: 'spec.notifications.slack.webhookSecretRef',
    });
  if (n?.webhook)
    refs.push({
      name: n.webhook.urlSecretRef.name,
      field: 'spec.notifications.webhook.urlSecretRef',
    });
  if (n?.email)
    refs.push({
      name: n.email.smtpSecretRef.name,
      field: 'spec.notifications.email.smtpSecretRef',
    });
  return refs;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export function agentStatus(o: AgentObservation): ObservedStatus {
  const spec = o.agent.spec;
  const desired = spec.paused ? 0 : (spec.replicas ?? 1);
  const replicas = o.statefulSet?.replicas ?? 0;
  const readyReplicas = o.statefulSet?.readyReplicas ?? 0;
  const reports = o.reports;
  const conditions: DesiredConditionOut[] = [];

  // Ready: the pods run and pass their readiness probes (source reachable, model loaded).
  const failing = o.pods.filter((p) => p.waitingReason && p.waitingReason !== 'ContainerCreating');
  if (o.missingSecrets.length > 0) {
    conditions.push({
      type: 'Ready',
      status: 'False',
      reason: 'SecretMissing',
      message: o.missingSecrets
        .map(
          (m) =>
            `Secret "${m.name}" (${m.field}) does not exist in namespace ${o.agent.metadata.namespace}`,
        )
        .join('; '),
    });
  } else if (spec.paused) {
    conditions.push({
      type: 'Ready',
      status: 'False',
      reason: 'Paused',
      message: 'spec.paused is true: the agent is scaled to zero pods',
    });
  } else if (desired === 0) {
    conditions.push({
      type: 'Ready',
      status: 'True',
      reason: 'ScaledToZero',
      message: 'spec.replicas is 0',
    });
  } else if (readyReplicas >= desired) {
    conditions.push({
      type: 'Ready',
      status: 'True',
      reason: 'AgentsReady',
      message: `${plural(readyReplicas, 'agent pod')} ready`,
    });
  } else {
    const why = failing[0]
      ? `: pod ${failing[0].name} is ${failing[0].waitingReason}${failing[0].waitingMessage ? ` (${failing[0].waitingMessage})` : ''}`
      : '';
    conditions.push({
      type: 'Ready',
      status: 'False',
      reason: failing[0]?.waitingReason ?? 'PodsNotReady',
      message: `${readyReplicas} of ${plural(desired, 'agent pod')} ready${why}`,
    });
  }

  // SourceReachable: what the agents themselves say of PostgreSQL.
  const unreachable = reports.filter((r) => !r.sourceReachable);
  if (reports.length === 0)
    conditions.push({
      type: 'SourceReachable',
      status: 'Unknown',
      reason: 'NoAgentReports',
      message: desired === 0 ? 'no agent pod is running' : 'no agent pod has reported yet',
    });
  else if (unreachable.length > 0)
    conditions.push({
      type: 'SourceReachable',
      status: 'False',
      reason: 'SourceUnreachable',
      message: `${unreachable[0]!.pod}: ${unreachable[0]!.sourceError ?? 'unreachable'}`,
    });
  else {
    // Reachable; and if the pods started at the end of a table of older rows and nothing new
    // has come since, that is why nothing is analysed (NoNewRows), not a quiet network.
    const read = `${plural(reports.length, 'agent pod')} read the source`;
    const unread = leftUnread(reports.map((r) => r.start));
    const lines = reports.reduce((n, r) => n + r.linesAnalyzed, 0);
    conditions.push(
      unread && lines === 0
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
          },
    );
  }

  // ModelLoaded and ModelDrift.
  const versions = [
    ...new Set(reports.map((r) => r.model?.version).filter((v): v is string => !!v)),
  ];
  if (!spec.model) {
    conditions.push({
      type: 'ModelLoaded',
      status: 'True',
      reason: 'NoModelConfigured',
      message: 'no spec.model: the agent runs on its rules and baselines',
    });
  } else {
    const failed = reports.find((r) => r.model?.lastFailure);
    const missing = reports.filter((r) => !r.model?.version);
    if (reports.length === 0)
      conditions.push({
        type: 'ModelLoaded',
        status: 'Unknown',
        reason: 'NoAgentReports',
        message: 'no agent pod has reported yet',
      });
    else if (missing.length > 0)
      conditions.push({
        type: 'ModelLoaded',
        status: 'False',
        reason: failed ? failed.model!.lastFailure!.reason : 'ModelNotDelivered',
        message: failed
          ? `${failed.pod}: ${failed.model!.lastFailure!.message}`
          : `${missing[0]!.pod} has no model of ModelDeployment "${spec.model.name}" yet`,
      });
    else
      conditions.push({
        type: 'ModelLoaded',
        status: 'True',
        reason: 'Loaded',
        message: `serving ${versions.join(', ')}${failed ? `; a newer model was refused: ${failed.model!.lastFailure!.message}` : ''}`,
      });
  }
  const drifting = reports.filter((r) => r.drift?.detected);
  const judged = reports.filter((r) => r.drift?.judged);
  if (drifting.length > 0)
    conditions.push({
      type: 'ModelDrift',
      status: 'True',
      reason: 'FeaturesDrifted',
      message: `${drifting[0]!.pod}: ${drifting[0]!.drift!.drifted.join(', ')} no longer look like the training data of ${drifting[0]!.drift!.modelVersion}`,
    });
  else if (judged.length > 0)
    conditions.push({
      type: 'ModelDrift',
      status: 'False',
      reason: 'NoDrift',
      message: 'live features match the training data',
    });
  else
    conditions.push({
      type: 'ModelDrift',
      status: 'Unknown',
      reason: spec.model ? 'NotJudgedYet' : 'NoModelConfigured',
      message: spec.model
        ? 'too few windows scored to judge drift yet'
        : 'no model, no drift to check',
    });

  // RulesAccepted: whether every pod runs the rules as the spec and its ConfigMaps say.
  const ruled = reports.filter((r) => r.rules);
  const refused = ruled.find((r) => r.rules!.error);
  if (refused)
    conditions.push({
      type: 'RulesAccepted',
      status: 'False',
      reason: 'RulesRefused',
      message: `${refused.pod}: ${refused.rules!.error!.slice(0, RULE_ERROR_LIMIT)}; the rules in force before the change go on`,
    });
  else if (ruled.length > 0)
    conditions.push({
      type: 'RulesAccepted',
      status: 'True',
      reason: 'Loaded',
      message: `${ruled[0]!.rules!.rules} rules from ${ruled[0]!.rules!.packs.length} packs`,
    });
  else
    conditions.push({
      type: 'RulesAccepted',
      status: 'Unknown',
      reason: 'NoAgentReports',
      message: 'no agent pod has reported its rules yet',
    });

  // Degraded: running, but not as it should.
  const degraded: string[] = [];
  if (failing.length > 0) degraded.push(`pod ${failing[0]!.name}: ${failing[0]!.waitingReason}`);
  if (readyReplicas > 0 && readyReplicas < desired)
    degraded.push(`${readyReplicas} of ${desired} pods ready`);
  if (unreachable.length > 0) degraded.push('source unreachable');
  if (o.unreachable.length > 0)
    degraded.push(`no /status from ${o.unreachable[0]!.pod}: ${o.unreachable[0]!.error}`);
  conditions.push(
    degraded.length > 0
      ? { type: 'Degraded', status: 'True', reason: 'AgentsDegraded', message: degraded.join('; ') }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing is degraded' },
  );

  const lastCycle = reports
    .map((r) => r.lastCycleTime)
    .filter((t): t is string => !!t)
    .sort()
    .at(-1);
  return {
    replicas,
    readyReplicas,
    selector: `app.kubernetes.io/instance=${o.agent.metadata.name},app.kubernetes.io/component=agent`,
    modelVersion: versions.length > 0 ? versions.join(',') : undefined,
    lastCycleTime: lastCycle,
    linesAnalyzed:
      reports.length > 0 ? reports.reduce((n, r) => n + r.linesAnalyzed, 0) : undefined,
    anomalies:
      reports.length > 0
        ? {
            total: reports.reduce((n, r) => n + r.anomalies.total, 0),
            last24h: reports.reduce((n, r) => n + r.anomalies.last24h, 0),
          }
        : undefined,
    topRules: topRules(ruled),
    conditions,
  };
}

/** The rules that found most in the last 24 hours, summed over the pods (at most five). */
function topRules(reports: AgentReport[]): { rule: string; anomalies: number }[] | undefined {
  const sums = new Map<string, number>();
  for (const r of reports)
    for (const t of r.rules?.top ?? []) sums.set(t.rule, (sums.get(t.rule) ?? 0) + t.anomalies);
  if (sums.size === 0) return undefined;
  return [...sums]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([rule, anomalies]) => ({ rule, anomalies }));
}
