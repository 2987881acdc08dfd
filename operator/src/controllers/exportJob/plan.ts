// An ExportJob's plan: made once, from the AnalysisAgent and the agent pods as they are at the
// start, and kept in a ConfigMap (the plan of a pass before is read back from it, so a retried
// or restarted export reads from the same agents).
import type { ExportPlan } from '../../../../agent-runtime/src/contract/export.js';
import { agentDefaults } from '../../../../agent-runtime/src/contract/index.js';
import {
  agentPodsOf,
  agentPort,
  agentStatefulSetName,
  splitByOwner,
} from '../../domain/agentPod.js';
import type { StoredAgent } from '../../domain/analysisAgent/desired.js';
import { agentPodHost } from '../../domain/analysisAgent/podHost.js';
import { childName } from '../../domain/children.js';
import {
  exportChildren,
  exportPlan,
  exportWindow,
  type StoredExportJob,
} from '../../domain/exportJob/desired.js';
import type { ExportObservation } from '../../domain/exportJob/status.js';
import { RESOURCES } from '../../domain/resources.js';
import { sourceTableDecision } from '../../domain/sourceTables.js';
import { ApiError, type KubeObject, type Resource } from '../../runtime/kubeClient.js';
import { ChildConflictError, controlledBy, inTheWay } from '../../runtime/ownership.js';
import { isRunningPod } from '../../runtime/pods.js';
import { TerminalError } from '../../runtime/terminalError.js';
import type { ExportContext } from './context.js';

/** The plan an ExportJob's ConfigMap holds, if it made it (a ConfigMap it does not control is no plan). */
export function planIn(ctx: ExportContext, job: StoredExportJob): ExportPlan | undefined {
  const { namespace, name } = job.metadata;
  const configMap = ctx.configMaps.get(namespace, childName(name, 'export-plan'));
  if (!configMap || !controlledBy(configMap, job.metadata.uid)) return undefined;
  const data: unknown = configMap.data;
  const text =
    data && typeof data === 'object' && 'plan.json' in data ? data['plan.json'] : undefined;
  return typeof text === 'string' ? (JSON.parse(text) as ExportPlan) : undefined;
}

/**
 * Creates `object` unless a pass before made it already. An object of its name that `job` does
 * not control is a ChildConflictError: never taken for the export's own.
 */
export async function createOnce(
  ctx: ExportContext,
  job: StoredExportJob,
  resource: Resource,
  object: KubeObject,
): Promise<void> {
  try {
    await ctx.client.create(resource, object);
  } catch (error) {
    if (!(error instanceof ApiError && error.conflict)) throw error;
    const other = await inTheWay(ctx.client, job.metadata.uid, { resource, child: object });
    if (other) throw new ChildConflictError([other], 'ExportJob');
  }
}

/** The running pods of the agents the export reads anomalies from, each at its DNS name. */
function anomalySources(
  ctx: ExportContext,
  job: StoredExportJob,
): NonNullable<ExportPlan['anomalies']> {
  const { namespace } = job.metadata;
  const kinds = job.spec.filters?.agents;
  const agents = ctx.agents
    .list(namespace)
    .filter((a) => !kinds?.length || (kinds as string[]).includes(a.spec.agent));
  const pods = ctx.agentPods.list(namespace);
  // Only pods the agent's own StatefulSet controls: the labels alone are anyone's to copy.
  const own = (a: StoredAgent & KubeObject) =>
    splitByOwner(
      agentPodsOf(pods, a.metadata.name),
      ctx.statefulSets.get(namespace, agentStatefulSetName(a.metadata.name)),
      a.metadata.uid,
    ).own;
  return agents.flatMap((a) =>
    own(a)
      .filter(isRunningPod)
      .map((p) => ({
        agent: a.metadata.name,
        kind: a.spec.agent,
        pod: p.metadata.name,
        // By its DNS name, not its IP: an agent pod restarted while the export runs (or
        // between a failed try and the next) comes back under the same name, elsewhere.
        url: `http://${agentPodHost(a.metadata.name, p.metadata.name, namespace)}:${agentPort(p, agentDefaults.port)}`,
      })),
  );
}

/**
 * The plan: made once. A time range that cannot be is a TerminalError; an AnalysisAgent not
 * there (yet) blocks the export until it is.
 */
export async function ensurePlan(
  ctx: ExportContext,
  job: StoredExportJob,
): Promise<{ plan: ExportPlan } | { blocked: NonNullable<ExportObservation['blocked']> }> {
  const { namespace } = job.metadata;
  const existing = planIn(ctx, job);
  if (existing) return { plan: existing };
  const window = exportWindow(job.spec, job.metadata.creationTimestamp ?? ctx.now().toISOString());
  if ('error' in window) throw new TerminalError('BadTimeRange', window.error);
  let source: StoredAgent['spec']['source'] | undefined;
  if (job.spec.dataTypes.includes('logs')) {
    const ref = job.spec.source?.analysisAgentRef.name ?? '';
    const agent = ctx.agents.get(namespace, ref);
    if (!agent)
      return {
        blocked: {
          reason: 'AnalysisAgentNotFound',
          message: `source.analysisAgentRef: no AnalysisAgent "${ref}" in ${namespace}`,
          permanent: false,
        },
      };
    source = agent.spec.source;
    // The agent's table, as the administrator allows it (issue 20, M4): else no plan, no Job.
    const table = sourceTableDecision(source, ctx.settings.allowedSourceTables ?? []);
    if (!table.allowed)
      throw new TerminalError(table.reason, `AnalysisAgent "${ref}": ${table.message}`);
  }
  const plan = exportPlan(job, window, source, anomalySources(ctx, job));
  const { configMap } = exportChildren(job, plan, ctx.settings);
  await createOnce(ctx, job, RESOURCES.configMap, configMap as KubeObject);
  return { plan };
}
