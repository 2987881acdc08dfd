// The operator process: builds the real clients, informers and controllers, serves probes and
// metrics, runs leader election when asked, and shuts down cleanly on SIGTERM. The only place
// that constructs real clients; controllers get everything in their context, and each
// declares what it watches (controllers/<kind>/controller.ts): main only registers the list.
import { hostname } from 'node:os';
import { collectDefaultMetrics, Registry } from 'prom-client';

import { agentDefaults } from '../../../agent-runtime/src/contract/index.js';
import { jsonLogger, type Logger } from '../../../api/src/log.js';
import { analysisAgentController } from '../controllers/analysisAgent/controller.js';
import { exportJobController } from '../controllers/exportJob/controller.js';
import { modelDeploymentController } from '../controllers/modelDeployment/controller.js';
import { offerModel, unloadModel } from '../controllers/modelDeployment/delivery.js';
import { fetchAnomalyPage } from '../domain/agentAnomalies.js';
import { fetchAgentStatus, fetchExportProgress } from '../domain/agentPodClient.js';
import { controlToken } from '../domain/agentTokens.js';
import type { OperatorSettings } from '../domain/analysisAgent/desired.js';
import { RESOURCES } from '../domain/resources.js';
import { type Controller, controllerMetrics } from '../runtime/controller.js';
import { sharedInformers, type ControllerEnv } from '../runtime/controllerEnv.js';
import { EventRecorder } from '../runtime/events.js';
import { KubeClient } from '../runtime/kubeClient.js';
import { loadKubeConfig } from '../runtime/kubeConfig.js';
import { LeaderElector } from '../runtime/leaderElection.js';
import { serveProbes, type Probes } from '../runtime/server.js';
import { ensureControlKey } from './controlKey.js';
import { resourceMetrics } from './resourceMetrics.js';

export const FIELD_MANAGER = 'edgewarden-operator';

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

/** The controllers, each built from the shared informers with what it needs of the options. */
function operatorControllers(
  env: ControllerEnv,
  options: OperatorOptions,
  controlKey: Uint8Array,
): Controller[] {
  const settings = { ...options.settings, controlKey };
  // GET /status with the agent's control token (issue 20, H2): its uid is the controller's.
  const fetchStatus = (pod: Parameters<typeof fetchAgentStatus>[0], agentUid?: string) =>
    fetchAgentStatus(
      pod,
      agentDefaults.port,
      undefined,
      agentUid === undefined ? undefined : controlToken(controlKey, agentUid),
    );
  // GET /anomalies with the control token too: the Events of new anomalies (issue 21).
  const fetchAnomalies = (
    pod: Parameters<typeof fetchAnomalyPage>[0],
    agentUid: string,
    query: Record<string, string>,
  ) => fetchAnomalyPage(pod, agentDefaults.port, controlToken(controlKey, agentUid), query);
  return [
    analysisAgentController(env, {
      settings,
      pollMs: options.pollMs,
      fetchStatus,
      fetchAnomalies,
    }),
    modelDeploymentController(env, {
      controlKey,
      pollMs: options.pollMs,
      fetchStatus,
      offer: (pod, token, offer) => offerModel(pod, agentDefaults.port, token, offer),
      unload: (pod, token) => unloadModel(pod, agentDefaults.port, token),
    }),
    exportJobController(env, {
      settings,
      pollMs: options.pollMs,
      fetchProgress: (pod) => fetchExportProgress(pod),
    }),
  ];
}

/** Ready once every controller's caches have synced; a standby waiting for the lease is ready. */
function operatorProbes(
  controllers: Controller[],
  state: { shuttingDown: boolean; leading: boolean },
): Probes {
  return {
    healthy: () => !state.shuttingDown,
    ready: () => {
      if (!state.leading) return { ready: true, reason: 'standby' };
      const waiting = controllers.filter((c) => !c.synced).map((c) => c.name);
      return waiting.length === 0
        ? { ready: true }
        : { ready: false, reason: `caches not synced: ${waiting.join(', ')}` };
    },
  };
}

type ProbeServer = Awaited<ReturnType<typeof serveProbes>>;

/** The metrics server, and the health server (the same one when both ports are one). */
async function probeServers(
  options: OperatorOptions,
  registry: Registry,
  probes: Probes,
): Promise<{ metrics: ProbeServer; health: ProbeServer; close(): Promise<void> }> {
  const metrics = await serveProbes(options.metricsPort, options.bindAddress, registry, probes);
  const health =
    options.healthPort === options.metricsPort
      ? metrics
      : await serveProbes(options.healthPort, options.bindAddress, registry, probes);
  const close = async (): Promise<void> => {
    await metrics.close();
    if (health !== metrics) await health.close();
  };
  return { metrics, health, close };
}

/** The client, the registry and the environment every controller is built from. */
async function operatorEnv(options: OperatorOptions, log: Logger) {
  const connection = await loadKubeConfig(options.kubeconfig);
  const client = new KubeClient(connection, FIELD_MANAGER);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'edgewarden_operator_' });
  const env: ControllerEnv = {
    client,
    log,
    events: new EventRecorder(client, FIELD_MANAGER, log),
    metrics: controllerMetrics(registry),
    informer: sharedInformers(client, log, options.namespaces),
    now: () => new Date(),
  };
  return { connection, registry, env };
}

export async function runOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.log ?? jsonLogger({ verbosity: options.verbosity });
  const { connection, registry, env } = await operatorEnv(options, log);
  const controlKey = await ensureControlKey(env.client, options.operatorNamespace);
  const controllers = operatorControllers(env, options, controlKey);
  resourceMetrics(registry, {
    modelDeployments: env.informer(RESOURCES.modelDeployment),
    exportJobs: env.informer(RESOURCES.exportJob),
  });

  const state = { shuttingDown: false, leading: !options.leaderElect, started: false };
  const startControllers = (): void => {
    if (state.started) return;
    state.started = true;
    for (const c of controllers) void c.start(options.workers);
  };
  const servers = await probeServers(options, registry, operatorProbes(controllers, state));

  let resolveStopped!: (why: string) => void;
  const stopped = new Promise<string>((r) => (resolveStopped = r));
  const stop = async (): Promise<void> => {
    if (state.shuttingDown) return;
    state.shuttingDown = true;
    log.info('shutting down');
    await elector?.stop();
    await Promise.all(controllers.map((c) => c.stop()));
    await servers.close();
  };

  const identity = `${hostname()}_${process.pid}`;
  const elector = options.leaderElect
    ? new LeaderElector(env.client, log, {
        namespace: options.leaderElectionNamespace,
        name: 'edgewarden-operator',
        identity,
        leaseDurationMs: options.leaseDurationMs,
        retryMs: Math.max(500, Math.floor(options.leaseDurationMs / 4)),
        onStartedLeading: () => {
          state.leading = true;
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
    metricsPort: servers.metrics.port,
    healthPort: servers.health.port,
  });
  if (elector) elector.start();
  else startControllers();
  return { metricsPort: servers.metrics.port, healthPort: servers.health.port, stop, stopped };
}
