// The operator process: builds the real clients, informers and controllers, serves probes and
// metrics, runs leader election when asked, and shuts down cleanly on SIGTERM. The only place
// that constructs real clients; controllers get everything in their context.
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';

import { agentDefaults } from '../../../agent-runtime/src/contract/index.js';
import {
  reconcileAnalysisAgent,
  type AgentContext,
} from '../controllers/analysisAgent/reconcile.js';
import { fetchAgentStatus, fetchExportProgress } from '../domain/agentPodClient.js';
import { RESOURCES } from '../domain/resources.js';
import {
  MODEL_DEPLOYMENT,
  reconcileModelDeployment,
  type ModelContext,
} from '../controllers/modelDeployment/reconcile.js';
import { offerModel, unloadModel } from '../controllers/modelDeployment/delivery.js';
import { reconcileExportJob, type ExportContext } from '../controllers/exportJob/reconcile.js';
import type { OperatorSettings } from '../domain/analysisAgent/desired.js';
import type { StoredModelDeployment } from '../domain/modelDeployment/rollout.js';
import { ensureControlKey } from './controlKey.js';
import { resourceMetrics } from './resourceMetrics.js';
import { Controller, controllerMetrics } from '../runtime/controller.js';
import { EventRecorder } from '../runtime/events.js';
import { Informer, NamespacedInformers, type Cache } from '../runtime/informer.js';
import { KubeClient, type KubeObject, type Resource } from '../runtime/kubeClient.js';
import { loadKubeConfig } from '../runtime/kubeConfig.js';
import { LeaderElector } from '../runtime/leaderElection.js';
import { jsonLogger, type Logger } from '../../../api/src/log.js';
import { RepeatedFailures } from '../runtime/repeatedFailures.js';
import { serveProbes } from '../runtime/server.js';

export const FIELD_MANAGER = 'edgewarden-operator';

/** The key of the resource a child pod belongs to: its instance label names it. */
const byInstance = (p: KubeObject): string[] => {
  const instance = p.metadata.labels?.['app.kubernetes.io/instance'];
  return instance ? [`${p.metadata.namespace ?? ''}/${instance}`] : [];
};

/**
 * V8 flags the operator's Deployment runs with (NODE_OPTIONS). Node's default young generation
 * (16 MB semi-spaces) is sized for throughput; the operator's allocations are small and short,
 * and 2 MB semi-spaces keep its RSS some 20 MB lower at no measurable cost (bench/operator.mjs
 * runs both side by side).
 */
export const OPERATOR_NODE_OPTIONS = '--max-semi-space-size=2';

export interface OperatorOptions {
  /** A kubeconfig file; unset: in-cluster config, else $KUBECONFIG, else ~/.kube/config. */
  kubeconfig?: string;
  /** Namespaces to watch; unset or empty: all namespaces. */
  namespaces?: readonly string[];
  metricsPort: number;
  healthPort: number;
  bindAddress: string;
  leaderElect: boolean;
  leaderElectionNamespace: string;
  /** The operator's own namespace: where its control key Secret lives. */
  operatorNamespace: string;
  leaseDurationMs: number;
  workers: number;
  settings: OperatorSettings;
  /** Status polls of agent pods, while they run. */
  pollMs: number;
  verbosity: number;
  log?: Logger;
}

export interface RunningOperator {
  metricsPort: number;
  healthPort: number;
  stop(): Promise<void>;
  /** Resolves when the operator stops on its own (it lost the lease). */
  stopped: Promise<string>;
}

export async function runOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.log ?? jsonLogger({ verbosity: options.verbosity });
  const connection = await loadKubeConfig(options.kubeconfig);
  const client = new KubeClient(connection, FIELD_MANAGER);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgewarden_operator_' });
  const metrics = controllerMetrics(registry);
  const informer = <T extends KubeObject>(resource: Resource, labelSelector?: string): Cache<T> => {
    const namespaces = [...new Set(options.namespaces ?? [])];
    if (namespaces.length <= 1)
      return new Informer<T>(client, resource, log, { namespace: namespaces[0], labelSelector });
    return new NamespacedInformers<T>(
      new Map(
        namespaces.map((namespace) => [
          namespace,
          new Informer<T>(client, resource, log, { namespace, labelSelector }),
        ]),
      ),
    );
  };

  const controlKey = await ensureControlKey(client, options.operatorNamespace);
  const childSelector = 'app.kubernetes.io/managed-by=edgewarden-operator';
  const events = new EventRecorder(client, FIELD_MANAGER, log);
  const models = informer<StoredModelDeployment & KubeObject>(MODEL_DEPLOYMENT);
  const ctx: AgentContext = {
    client,
    settings: { ...options.settings, controlKey },
    models,
    log: log.with({ controller: 'analysisagent' }),
    events,
    agents: informer(RESOURCES.analysisAgent),
    statefulSets: informer(RESOURCES.statefulSet, childSelector),
    services: informer(RESOURCES.service, childSelector),
    configMaps: informer(RESOURCES.configMap, childSelector),
    serviceAccounts: informer(RESOURCES.serviceAccount, childSelector),
    pods: informer(RESOURCES.pod, `${childSelector},app.kubernetes.io/component=agent`),
    fetchStatus: (pod) => fetchAgentStatus(pod, agentDefaults.port),
    pollMs: options.pollMs,
    now: () => new Date(),
  };
  const agents = new Controller(
    'analysisagent',
    (namespace, name) => reconcileAnalysisAgent(ctx, namespace, name),
    log,
    metrics,
  )
    .watches(ctx.agents)
    .owns(ctx.statefulSets, 'AnalysisAgent')
    .owns(ctx.services, 'AnalysisAgent')
    .owns(ctx.configMaps, 'AnalysisAgent')
    .owns(ctx.serviceAccounts, 'AnalysisAgent')
    .maps(ctx.pods, byInstance)
    // A ModelDeployment whose source is a claim mounts it into its agents' pods.
    .maps(models, (m) =>
      ctx.agents
        .list(m.metadata.namespace)
        .filter((a) => a.spec.model?.name === m.metadata.name)
        .map((a) => `${a.metadata.namespace}/${a.metadata.name}`),
    );
  const modelCtx: ModelContext = {
    client,
    log: log.with({ controller: 'modeldeployment' }),
    events,
    models,
    agents: ctx.agents,
    pods: ctx.pods,
    fetchStatus: (pod) => ctx.fetchStatus(pod),
    offer: (pod, token, offer) => offerModel(pod, agentDefaults.port, token, offer),
    unload: (pod, token) => unloadModel(pod, agentDefaults.port, token),
    controlKey,
    failures: new RepeatedFailures(),
    pollMs: options.pollMs,
    now: () => new Date(),
  };
  const modelOf = (namespace: string | undefined, agent: string | undefined): string[] => {
    const a = agent ? ctx.agents.get(namespace ?? '', agent) : undefined;
    return a?.spec.model ? [`${namespace ?? ''}/${a.spec.model.name}`] : [];
  };
  const rollouts = new Controller(
    'modeldeployment',
    (namespace, name) => reconcileModelDeployment(modelCtx, namespace, name),
    log,
    metrics,
  )
    .watches(models)
    .maps(ctx.agents, (a) => modelOf(a.metadata.namespace, a.metadata.name))
    .maps(ctx.pods, (p) =>
      modelOf(p.metadata.namespace, p.metadata.labels?.['app.kubernetes.io/instance']),
    );
  const exportCtx: ExportContext = {
    client,
    settings: ctx.settings,
    log: log.with({ controller: 'exportjob' }),
    events,
    exportJobs: informer(RESOURCES.exportJob),
    agents: ctx.agents,
    agentPods: ctx.pods,
    jobs: informer(RESOURCES.job, childSelector),
    configMaps: ctx.configMaps,
    exportPods: informer(
      RESOURCES.pod,
      `${childSelector},app.kubernetes.io/component in (export,export-cleanup)`,
    ),
    fetchProgress: (pod) => fetchExportProgress(pod),
    // Progress shows in status at least every few seconds while an export runs.
    progressPollMs: Math.min(options.pollMs, 5000),
    now: () => new Date(),
  };
  const exports = new Controller(
    'exportjob',
    (namespace, name) => reconcileExportJob(exportCtx, namespace, name),
    log,
    metrics,
  )
    .watches(exportCtx.exportJobs)
    .owns(exportCtx.jobs, 'ExportJob')
    .maps(exportCtx.exportPods, byInstance);
  const controllers = [agents, rollouts, exports];
  resourceMetrics(registry, { modelDeployments: models, exportJobs: exportCtx.exportJobs });

  let shuttingDown = false;
  let leading = !options.leaderElect;
  let started = false;
  const startControllers = (): void => {
    if (started) return;
    started = true;
    for (const c of controllers) void c.start(options.workers);
  };
  const probes = {
    healthy: () => !shuttingDown,
    ready: () => {
      if (!leading) return { ready: true, reason: 'standby' };
      const waiting = controllers.filter((c) => !c.synced).map((c) => c.name);
      return waiting.length === 0
        ? { ready: true }
        : { ready: false, reason: `caches not synced: ${waiting.join(', ')}` };
    },
  };
  const metricsServer = await serveProbes(
    options.metricsPort,
    options.bindAddress,
    registry,
    probes,
  );
  const healthServer =
    options.healthPort === options.metricsPort
      ? metricsServer
      : await serveProbes(options.healthPort, options.bindAddress, registry, probes);

  let resolveStopped!: (why: string) => void;
  const stopped = new Promise<string>((r) => (resolveStopped = r));
  const stop = async (): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info('shutting down');
    await elector?.stop();
    await Promise.all(controllers.map((c) => c.stop()));
    await metricsServer.close();
    if (healthServer !== metricsServer) await healthServer.close();
  };

  const identity = `${hostname()}_${process.pid}`;
  const elector = options.leaderElect
    ? new LeaderElector(client, log, {
        namespace: options.leaderElectionNamespace,
        name: 'edgewarden-operator',
        identity,
        leaseDurationMs: options.leaseDurationMs,
        retryMs: Math.max(500, Math.floor(options.leaseDurationMs / 4)),
        onStartedLeading: () => {
          leading = true;
          startControllers();
        },
        onStoppedLeading: () => {
          // A leader that lost its lease stops at once: another replica is reconciling now.
          void stop().then(() => resolveStopped('lost the leader lease'));
        },
      })
    : undefined;
  log.info('edgewarden operator starting', {
    // Where the API server is and where the credentials came from (a file, or in-cluster).
    apiServer: connection.server.origin,
    config: connection.source,
    namespaces: options.namespaces?.length ? options.namespaces.join(',') : '(all)',
    leaderElection: options.leaderElect,
    identity,
    metricsPort: metricsServer.port,
    healthPort: healthServer.port,
  });
  if (elector) elector.start();
  else startControllers();
  return { metricsPort: metricsServer.port, healthPort: healthServer.port, stop, stopped };
}
