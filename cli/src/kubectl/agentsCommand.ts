// `kubectl edgewarden agents`: the AnalysisAgents of the namespace (or, -A, all), each with
// whether it is ready, the lines its pods analyse per second, its open anomalies and model.
import { podAnomalies, podStatus } from './agentApi.js';
import { agentTable, linesPerSecond, type AgentRowInput, type PodFigures } from './agentRows.js';
import { listAgents } from './cluster.js';
import { scope, warned, type CommandRun } from './context.js';
import { askEachPod, podsOfAgents } from './gather.js';
import { documentText, listOf, nothingFound, tableText } from './output.js';

export const agentsCommand: CommandRun = async (c) => {
  const agents = await listAgents(c.client, scope(c));
  const format = c.flags.output;
  if (format === 'json' || format === 'yaml') {
    // As kubectl get: without metadata.managedFields.
    const items = agents.map((a) => ({
      ...a,
      metadata: { ...a.metadata, managedFields: undefined },
    }));
    c.io.out(documentText(listOf(items), format));
    return 0;
  }
  if (agents.length === 0) {
    c.io.err(nothingFound('AnalysisAgents', scope(c)));
    return 0;
  }
  const now = c.now();
  const pods = await podsOfAgents(c.client, agents);
  const { answers, warnings } = await askEachPod(c.client, pods, 'viewer', async (t) => ({
    status: await podStatus(c.client, t),
    open: await podAnomalies(c.client, t, { status: 'open' }),
  }));
  const inputs: AgentRowInput[] = agents.map((agent) => {
    const mine = answers.filter(
      (a) => a.agent === agent.metadata.name && a.namespace === agent.metadata.namespace,
    );
    const figures: PodFigures = {};
    if (mine.length > 0) {
      const rates = mine.map((a) =>
        linesPerSecond(a.value.status.linesAnalyzed, a.value.status.start?.time, now),
      );
      if (rates.some((r) => r !== undefined))
        figures.linesPerSecond = rates.reduce<number>((n, r) => n + (r ?? 0), 0);
      figures.open = mine.reduce((n, a) => n + a.value.open.anomalies.length, 0);
      figures.openCapped = mine.some((a) => a.value.open.truncated);
    }
    return { agent, figures };
  });
  c.io.out(tableText(agentTable(inputs, { namespaces: c.flags.allNamespaces, now })));
  return warned(c, warnings);
};
