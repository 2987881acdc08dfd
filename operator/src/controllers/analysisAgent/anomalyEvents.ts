// The Warning Events of an AnalysisAgent's new anomalies (issue 21): each reconcile reads every
// running pod's anomalies at or above spec.thresholds.alertSeverity after its cursor (with the
// control token, a few pages at most: a backlog is read over the next passes), lets the pure
// core (domain/analysisAgent/anomalyEvents.ts) decide the Events and records them. A pod that
// does not answer is skipped (its /status read says so in the conditions); its cursor stays.
import { withSchemaDefaults } from '../../../../api/src/defaults.js';
import { parseDuration } from '../../../../api/src/duration.js';
import type { AnomalySummary } from '../../../../agent-runtime/src/contract/anomalies.js';
import type { AgentPod } from '../../domain/agentPod.js';
import { failureAtAddress } from '../../domain/agentRequest.js';
import {
  advancedCursor,
  anomalyEvents,
  anomalyPageQuery,
  keepPods,
  severityRankOf,
  stateFor,
  type AnomalyEventState,
} from '../../domain/analysisAgent/anomalyEvents.js';
import type { StoredAgent } from '../../domain/analysisAgent/desired.js';
import type { KubeObject } from '../../runtime/kubeClient.js';
import type { AgentContext } from './context.js';

/** Pages read from one pod in one reconcile: 500 anomalies; more wait for the next pass. */
const PAGES_PER_PASS = 10;

/** Reads one pod's new anomalies after its cursor; the state with the cursor moved on. */
async function readPod(
  ctx: AgentContext,
  agent: StoredAgent & KubeObject,
  pod: AgentPod,
  start: { state: AnomalyEventState; minSeverity: number; since: Date },
): Promise<{ state: AnomalyEventState; found: AnomalySummary[] }> {
  let state = start.state;
  const found: AnomalySummary[] = [];
  const name = pod.metadata.name;
  try {
    for (let page = 0; page < PAGES_PER_PASS; page++) {
      const query = anomalyPageQuery(state, name, start.minSeverity, start.since);
      const answer = await ctx.fetchAnomalies!(pod, agent.metadata.uid, query);
      found.push(...answer.anomalies);
      state = advancedCursor(state, name, answer.anomalies, answer.next);
      if (!answer.next) break;
    }
  } catch (error) {
    ctx.log.debug('could not read new anomalies', { pod: name, error: failureAtAddress(error) }, 1);
  }
  return { state, found };
}

/**
 * Records the Events of the agent's new anomalies; never throws for an agent's answer. `pods`
 * are the agent's pods (a cursor of one no longer among them is forgotten); only those that
 * answered /status in this pass (`answered`) are read: one that did not would hold the pass up
 * again, and keeps its cursor for the next.
 */
export async function recordAnomalyEvents(
  ctx: AgentContext,
  agent: StoredAgent & KubeObject,
  pods: AgentPod[],
  answered: { pod: string }[],
): Promise<void> {
  if (!ctx.fetchAnomalies) return;
  const key = `${agent.metadata.namespace}/${agent.metadata.name}`;
  const spec = withSchemaDefaults('AnalysisAgent', agent.spec);
  const minSeverity = severityRankOf(spec.thresholds?.alertSeverity ?? 'high');
  const intervalMs = parseDuration(spec.interval ?? '5m') ?? 0;
  // From one interval before the operator started: what an agent found while no operator ran
  // (a restart, an upgrade) is told once, and history is not replayed.
  const since = new Date(ctx.startedAt.getTime() - intervalMs);
  let state = keepPods(
    stateFor(ctx.anomalyEvents.get(key), agent.metadata.uid),
    pods.map((p) => p.metadata.name),
  );
  const found: { pod: string; anomaly: AnomalySummary }[] = [];
  const readable = new Set(answered.map((a) => a.pod));
  for (const pod of pods.filter((p) => readable.has(p.metadata.name))) {
    const read = await readPod(ctx, agent, pod, { state, minSeverity, since });
    state = read.state;
    found.push(...read.found.map((anomaly) => ({ pod: pod.metadata.name, anomaly })));
  }
  const decided = anomalyEvents(state, found, ctx.now());
  ctx.anomalyEvents.set(key, decided.state);
  for (const event of decided.events)
    await ctx.events.record(agent, 'Warning', event.reason, event.message);
}

/** Forgets an agent that is gone. */
export function forgetAnomalyEvents(ctx: AgentContext, namespace: string, name: string): void {
  ctx.anomalyEvents.delete(`${namespace}/${name}`);
}
