// An AnalysisAgent's status, rebuilt every pass from what is observed: its StatefulSet, its
// pods, the Secrets it references, and what each running agent pod reports at /status. Pure:
// the same observations give the same status; conditions keep their transition times only
// while their status holds (runtime/conditions.ts does that part).
import type { AnalysisAgentStatus } from '../../../../api/src/generated/types.js';
import { agentConditions, servedVersions, type DesiredConditionOut } from './conditions.js';
import type { AgentObservation, AgentReport } from './observation.js';
import type { StoredAgent } from './storedAgent.js';

export type { DesiredConditionOut } from './conditions.js';
export type { AgentObservation, AgentReport, PodObservation } from './observation.js';

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
  if (n?.alertmanager?.urlSecretRef)
    refs.push({
      name: n.alertmanager.urlSecretRef.name,
      field: 'spec.notifications.alertmanager.urlSecretRef',
    });
  return refs;
}

export function agentStatus(o: AgentObservation): ObservedStatus {
  const reports = o.reports;
  const versions = servedVersions(reports);
  const lastCycle = reports
    .map((r) => r.lastCycleTime)
    .filter((t): t is string => !!t)
    .sort()
    .at(-1);
  return {
    replicas: o.statefulSet?.replicas ?? 0,
    readyReplicas: o.statefulSet?.readyReplicas ?? 0,
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
    topRules: topRules(reports.filter((r) => r.rules)),
    conditions: agentConditions(o),
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
