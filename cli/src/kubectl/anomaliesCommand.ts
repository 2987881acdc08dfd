// `kubectl edgewarden anomalies`: every anomaly of every agent pod of the namespace (or, -A, of
// all), filtered, as a table, a wide table, or a List; --watch polls and prints what is new or
// changed until interrupted.
import { podAnomalies } from './agentApi.js';
import {
  anomalyItem,
  anomalyRow,
  anomalyTable,
  newOrChanged,
  anomalyHeader,
} from './anomalyRows.js';
import { listAgents } from './cluster.js';
import { CommandError, scope, warned, type CommandRun, type RunContext } from './context.js';
import { anomalyFilters, type AnomalyFilters } from './filters.js';
import { askEachPod, podsOfAgents } from './gather.js';
import { documentText, listOf, nothingFound, tableText } from './output.js';
import { parseSpan } from './time.js';
import type { ListedAnomaly } from './wire.js';

const DEFAULT_INTERVAL = '10s';

/** The anomalies the filters select, of every pod asked; failures as warnings. */
export async function gatherAnomalies(
  c: RunContext,
  filters: AnomalyFilters,
): Promise<{ anomalies: ListedAnomaly[]; warnings: string[] }> {
  const agents = (await listAgents(c.client, scope(c))).filter(
    (a) => filters.agent === undefined || a.metadata.name === filters.agent,
  );
  const pods = await podsOfAgents(c.client, agents);
  const { answers, warnings } = await askEachPod(c.client, pods, 'viewer', (t) =>
    podAnomalies(c.client, t, filters.query),
  );
  const anomalies = answers.flatMap((a) =>
    a.value.anomalies.map((anomaly) => ({
      namespace: a.namespace,
      analysisAgent: a.agent,
      pod: a.pod,
      anomaly,
    })),
  );
  const truncated = answers
    .filter((a) => a.value.truncated)
    .map(
      (a) =>
        `pod ${a.pod} in ${a.namespace}: only its newest anomalies are shown; narrow with --since or --severity`,
    );
  for (const t of truncated) c.io.err(`warning: ${t}`);
  return { anomalies, warnings };
}

function filtersOf(c: RunContext): AnomalyFilters {
  const filters = anomalyFilters(c.flags, c.now());
  if (!filters.ok) throw new CommandError(filters.error);
  return filters.value;
}

export const anomaliesCommand: CommandRun = async (c) => {
  const filters = filtersOf(c);
  if (c.flags.watch) return watchAnomalies(c);
  const { anomalies, warnings } = await gatherAnomalies(c, filters);
  const format = c.flags.output;
  if (format === 'json' || format === 'yaml')
    c.io.out(documentText(listOf(anomalies.map(anomalyItem)), format));
  else if (anomalies.length === 0) c.io.err(nothingFound('anomalies', scope(c)));
  else
    c.io.out(
      tableText(
        anomalyTable(anomalies, {
          wide: format === 'wide',
          namespaces: c.flags.allNamespaces,
          now: c.now(),
        }),
      ),
    );
  return warned(c, warnings);
};

/** Polls every --interval; prints new and changed anomalies (the header once) until interrupted. */
async function watchAnomalies(c: RunContext): Promise<number> {
  const intervalMs = parseSpan(c.flags.interval ?? DEFAULT_INTERVAL);
  if (intervalMs === undefined)
    throw new CommandError(`--interval: "${c.flags.interval}" is not a span (10s, 1m)`);
  const seen = new Map<string, string>();
  const options = { wide: c.flags.output === 'wide', namespaces: c.flags.allNamespaces };
  let headerPrinted = false;
  let failed = false;
  for (;;) {
    // The --since window moves with the clock: each poll computes its own.
    const { anomalies, warnings } = await gatherAnomalies(c, filtersOf(c));
    if (warned(c, warnings) !== 0) failed = true;
    const fresh = newOrChanged(anomalies, seen);
    if (c.flags.output === 'json' || c.flags.output === 'yaml') {
      for (const l of fresh)
        c.io.out(
          documentText(anomalyItem(l), c.flags.output) + (c.flags.output === 'yaml' ? '\n---' : ''),
        );
    } else if (fresh.length > 0) {
      const rows = fresh.map((l) => anomalyRow(l, { ...options, now: c.now() }));
      const text = tableText({ header: anomalyHeader(options), rows }).split('\n');
      c.io.out((headerPrinted ? text.slice(1) : text).join('\n'));
      headerPrinted = true;
    }
    let timer: NodeJS.Timeout | undefined;
    const stop = await Promise.race([
      c.interrupted.then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), intervalMs))),
    ]);
    clearTimeout(timer);
    if (stop) return failed ? 1 : 0;
  }
}
