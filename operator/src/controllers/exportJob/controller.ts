// The ExportJob controller as main registers it: its reconcile's context from the shared
// informers, and what it watches: its own kind, the Jobs it owns, and their pods by their
// instance label. Agents and their pods are read once, for the plan: not watched.
import type { ExportProgress } from '../../../../agent-runtime/src/contract/export.js';
import { instanceKey } from '../../domain/agentPod.js';
import type { OperatorSettings } from '../../domain/analysisAgent/desired.js';
import { RESOURCES } from '../../domain/resources.js';
import { AGENT_PODS, EXPORT_PODS, MANAGED_CHILDREN } from '../../domain/selectors.js';
import { Controller } from '../../runtime/controller.js';
import type { ControllerEnv } from '../../runtime/controllerEnv.js';
import type { ExportContext, ExportPod } from './context.js';
import { reconcileExportJob } from './reconcile.js';

export interface ExportJobOptions {
  settings: OperatorSettings;
  /** How often a running export's progress is read (at most every 5 s). */
  pollMs: number;
  fetchProgress: (pod: ExportPod) => Promise<ExportProgress>;
}

export function exportJobController(env: ControllerEnv, options: ExportJobOptions): Controller {
  const ctx: ExportContext = {
    client: env.client,
    settings: options.settings,
    log: env.log.with({ controller: 'exportjob' }),
    events: env.events,
    exportJobs: env.informer(RESOURCES.exportJob),
    agents: env.informer(RESOURCES.analysisAgent),
    agentPods: env.informer(RESOURCES.pod, AGENT_PODS),
    statefulSets: env.informer(RESOURCES.statefulSet, MANAGED_CHILDREN),
    jobs: env.informer(RESOURCES.job, MANAGED_CHILDREN),
    configMaps: env.informer(RESOURCES.configMap, MANAGED_CHILDREN),
    exportPods: env.informer(RESOURCES.pod, EXPORT_PODS),
    fetchProgress: options.fetchProgress,
    // Progress shows in status at least every few seconds while an export runs.
    progressPollMs: Math.min(options.pollMs, 5000),
    now: env.now,
  };
  const reconcile = (namespace: string, name: string) => reconcileExportJob(ctx, namespace, name);
  return new Controller('exportjob', reconcile, env.log, env.metrics)
    .watches(ctx.exportJobs)
    .owns(ctx.jobs, 'ExportJob')
    .maps(ctx.exportPods, instanceKey);
}
