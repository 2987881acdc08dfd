// `kubectl edgewarden agents`: one row per AnalysisAgent, from its status and what its pods
// say. Pure: the agent objects and the pods' answers in, the table or List out.
import type { Table } from './output.js';
import { age } from './time.js';
import type { AgentObject } from './cluster.js';

/** What the agent's running pods said, summed: undefined when none was asked or answered. */
export interface PodFigures {
  /** Lines analysed per second, each pod's total over the time since it began reading. */
  linesPerSecond?: number;
  open?: number;
  /** Some pod's open anomalies were more than counted. */
  openCapped?: boolean;
}

export interface AgentRowInput {
  agent: AgentObject;
  figures: PodFigures;
}

const readyOf = (a: AgentObject): string =>
  a.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? 'yes' : 'no';

export function agentHeader(namespaces: boolean): string[] {
  return [
    ...(namespaces ? ['NAMESPACE'] : []),
    ...['NAME', 'AGENT', 'READY', 'LINES/S', 'OPEN', 'MODEL', 'AGE'],
  ];
}

export function agentTable(
  inputs: readonly AgentRowInput[],
  o: { namespaces: boolean; now: Date },
): Table {
  const rows = [...inputs]
    .sort(
      (x, y) =>
        (x.agent.metadata.namespace ?? '').localeCompare(y.agent.metadata.namespace ?? '') ||
        x.agent.metadata.name.localeCompare(y.agent.metadata.name),
    )
    .map(({ agent, figures }) => [
      ...(o.namespaces ? [agent.metadata.namespace ?? ''] : []),
      agent.metadata.name,
      agent.spec.agent,
      readyOf(agent),
      figures.linesPerSecond === undefined ? '-' : figures.linesPerSecond.toFixed(1),
      figures.open === undefined ? '-' : `${figures.open}${figures.openCapped ? '+' : ''}`,
      agent.status?.modelVersion || '-',
      age(agent.metadata.creationTimestamp, o.now),
    ]);
  return { header: agentHeader(o.namespaces), rows };
}

/** A pod's rate: its lines over the seconds since it began reading (undefined without a start). */
export function linesPerSecond(
  linesAnalyzed: number,
  start: string | undefined,
  now: Date,
): number | undefined {
  const seconds = start ? (now.getTime() - Date.parse(start)) / 1000 : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? linesAnalyzed / seconds : undefined;
}
