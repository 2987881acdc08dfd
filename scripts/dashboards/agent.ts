// One dashboard per built-in agent (agent-runtime/src/agents/registry.ts), worded from the
// agent itself: the programs it reads, the features its model scores, whether the built-in rule
// packs give it rules. The `namespace` and `analysisagent` variables select its pods: agent pods
// are named <AnalysisAgent>-agent-<n>, so `analysisagent` is the pods' names without that suffix.
import type { Agent, AgentName } from '../../agent-runtime/src/agents/types.js';
import { agentsWithBuiltInRules } from './builtInRules.js';
import { dashboard, labelVariable } from './frame.js';
import { newLayout, row, type Layout } from './layout.js';
import type { Dashboard } from './model.js';
import { lastPanel, panel, redFromOne, severityNames } from './panels.js';

/** The pods of the AnalysisAgents the dashboard's variables select. */
const selectedPods = 'namespace=~"$namespace", pod=~"($analysisagent)-agent-[0-9]+"';

const list = (names: Iterable<string>): string => [...names].join(', ');

/** One agent, the selector of its series and the query helpers every row uses. */
interface AgentScope {
  name: AgentName;
  agent: Agent;
  /** The agent's series in the selected pods. */
  ofAgent: string;
  rate: (metric: string) => string;
  /** The median and 95th percentile of a histogram. */
  quantiles: (metric: string) => { expr: string; legend: string }[];
  /** What the agent reads, in words. */
  reads: string;
}

function agentScope(name: AgentName, agent: Agent): AgentScope {
  const ofAgent = `agent="${name}", ${selectedPods}`;
  return {
    name,
    agent,
    ofAgent,
    rate: (metric) => `rate(${metric}{${ofAgent}}[$__rate_interval])`,
    quantiles: (metric) => [
      {
        expr: `histogram_quantile(0.5, sum by (le) (rate(${metric}_bucket{${ofAgent}}[$__rate_interval])))`,
        legend: 'p50',
      },
      {
        expr: `histogram_quantile(0.95, sum by (le) (rate(${metric}_bucket{${ofAgent}}[$__rate_interval])))`,
        legend: 'p95',
      },
    ],
    reads: agent.programs ? `the programs ${list(agent.programs)}` : 'every line',
  };
}

/** Whether its pods are up, reading and finding anything, and the model they serve, now. */
function agentNowRow(layout: Layout, scope: AgentScope): void {
  const { name, ofAgent, rate, reads } = scope;
  row(layout, 'Now');
  panel(layout, 'stat', {
    title: 'Pods up',
    description: 'Agent pods Prometheus scrapes successfully.',
    w: 4,
    targets: [{ expr: `sum(up{container="agent", ${selectedPods}})`, legend: 'up' }],
  });
  panel(layout, 'stat', {
    title: 'Pods ready',
    description: 'Pods whose source answers and whose configured model is loaded.',
    w: 4,
    targets: [{ expr: `sum(edgewarden_ready{${ofAgent}})`, legend: 'ready' }],
  });
  panel(layout, 'stat', {
    title: 'Lines read',
    description: `Lines read per second (the ${name} agent reads ${reads}).`,
    w: 4,
    unit: 'reqps',
    targets: [{ expr: `sum(${rate('edgewarden_lines_read_total')})`, legend: 'lines/s' }],
  });
  panel(layout, 'stat', {
    title: 'Anomalies in range',
    description:
      'Anomalies found over the dashboard range (a type first seen inside the range misses its first count).',
    w: 4,
    targets: [
      {
        expr: `sum(increase(edgewarden_anomalies_total{${ofAgent}}[$__range]))`,
        legend: 'anomalies',
      },
    ],
  });
  panel(layout, 'stat', {
    title: 'Model served',
    description: 'Model versions served now, with how many pods serve each.',
    w: 4,
    targets: [
      { expr: `count by (version) (edgewarden_model_info{${ofAgent}})`, legend: '{{version}}' },
    ],
  });
  (lastPanel(layout).options as Record<string, unknown>).textMode = 'name';
  panel(layout, 'stat', {
    title: 'Pods with model drift',
    description: "Pods whose served model's features have drifted from its training data.",
    w: 4,
    targets: [{ expr: `sum(edgewarden_model_drift{${ofAgent}})`, legend: 'drifting' }],
  });
  redFromOne(lastPanel(layout));
}

/** What its pods read, how far behind they are, and whether the source fails. */
function agentReadingRow(layout: Layout, scope: AgentScope): void {
  const { name, ofAgent, rate } = scope;
  row(layout, 'Reading');
  panel(layout, 'timeseries', {
    title: 'Lines per second, by pod',
    description:
      'Lines read from the collector, and rows skipped as unreadable (no usable timestamp).',
    w: 8,
    unit: 'reqps',
    targets: [
      { expr: `sum by (pod) (${rate('edgewarden_lines_read_total')})`, legend: '{{pod}} read' },
      {
        expr: `sum by (pod) (${rate('edgewarden_lines_unparsed_total')})`,
        legend: '{{pod}} unreadable',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Watermark lag, by pod',
    description: 'Age of the newest line analysed.',
    w: 8,
    unit: 's',
    targets: [
      { expr: `max by (pod) (edgewarden_watermark_lag_seconds{${ofAgent}})`, legend: '{{pod}}' },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Source errors per second, by pod',
    description: 'Failed reads from PostgreSQL, after the agent’s own retries.',
    w: 8,
    targets: [
      { expr: `sum by (pod) (${rate('edgewarden_source_errors_total')})`, legend: '{{pod}}' },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Time since each device was last heard',
    description: `Seconds since the newest line of each router that the ${name} agent reads.`,
    w: 24,
    unit: 's',
    targets: [
      {
        expr: `time() - max by (device) (edgewarden_device_last_line_timestamp_seconds{${ofAgent}})`,
        legend: '{{device}}',
      },
    ],
  });
}

/** What its pods find, by type, severity, device and rule, and the alerts they send. */
function agentAnomaliesRow(layout: Layout, scope: AgentScope): void {
  const { name, agent, ofAgent, rate } = scope;
  const spikes = Object.keys(agent.baselines ?? {}).map((f) => `${f}_spike`);
  row(layout, 'Anomalies');
  panel(layout, 'timeseries', {
    title: 'Anomalies per second, by type',
    description: `Anomalies the ${name} agent reports, by type${
      spikes.length ? ` (its rules' types, and ${list(spikes)} against each device's baseline)` : ''
    }.`,
    w: 12,
    stack: true,
    targets: [
      { expr: `sum by (type) (${rate('edgewarden_anomalies_total')})`, legend: '{{type}}' },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Anomalies per second, by severity',
    description: 'Severity 1 (info) to 5 (critical).',
    w: 12,
    stack: true,
    names: severityNames,
    targets: [
      { expr: `sum by (severity) (${rate('edgewarden_anomalies_total')})`, legend: '{{severity}}' },
    ],
  });
  panel(layout, 'bargauge', {
    title: 'Top devices by anomalies',
    description: 'The ten routers with the most anomalies over the range.',
    w: 12,
    targets: [
      {
        expr: `topk(10, sum by (device) (increase(edgewarden_device_anomalies_total{${ofAgent}}[$__range])))`,
        legend: '{{device}}',
      },
    ],
  });
  // Only for agents the built-in packs give rules: the template agent mines any message and has
  // none, so its panel would stay empty.
  if (agentsWithBuiltInRules().has(name))
    panel(layout, 'bargauge', {
      title: 'Top rules by anomalies',
      description:
        "The ten detection rules that found most over the range, and how much: tune a noisy one in the AnalysisAgent's spec.rules (docs/rules.md).",
      w: 12,
      targets: [
        {
          expr: `topk(10, sum by (rule) (increase(edgewarden_rule_anomalies_total{${ofAgent}}[$__range])))`,
          legend: '{{rule}}',
        },
      ],
    });
  panel(layout, 'timeseries', {
    title: 'Notifications per second, by channel and outcome',
    description: 'Alerts sent; outcome "failed" means the channel refused or was unreachable.',
    w: 12,
    targets: [
      {
        expr: `sum by (channel, outcome) (${rate('edgewarden_notifications_total')})`,
        legend: '{{channel}} {{outcome}}',
      },
    ],
  });
}

/** The model each pod serves, how its features drift, and how scoring goes. */
function agentModelRow(layout: Layout, scope: AgentScope): void {
  const { name, agent, ofAgent, rate, quantiles } = scope;
  row(layout, 'Model');
  panel(layout, 'timeseries', {
    title: 'Model version, by pod',
    description: 'The model version each pod serves (1 while served).',
    w: 8,
    min: 0,
    targets: [
      {
        expr: `max by (pod, version) (edgewarden_model_info{${ofAgent}})`,
        legend: '{{pod}} {{version}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Feature drift',
    description: `Kolmogorov-Smirnov distance (0 to 1) between each feature's live values and the served model's training values. The ${name} agent's features: ${list(agent.features)}.`,
    w: 16,
    min: 0,
    max: 1,
    targets: [
      { expr: `max by (feature) (edgewarden_feature_drift{${ofAgent}})`, legend: '{{feature}}' },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Inference duration',
    description: 'Time the model takes to score one batch of windows.',
    w: 8,
    unit: 's',
    targets: quantiles('edgewarden_inference_duration_seconds'),
  });
  panel(layout, 'timeseries', {
    title: 'Inference errors per second',
    description: 'Batches the model failed to score (skipped; the rules still ran).',
    w: 8,
    targets: [
      { expr: `sum by (pod) (${rate('edgewarden_inference_errors_total')})`, legend: '{{pod}}' },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Model drift, by pod',
    description: '1 when some feature has drifted from the training distribution.',
    w: 8,
    min: 0,
    max: 1,
    targets: [{ expr: `max by (pod) (edgewarden_model_drift{${ofAgent}})`, legend: '{{pod}}' }],
  });
}

/** How long a cycle takes, whether the pods keep up, and what they use of CPU and memory. */
function agentCyclesRow(layout: Layout, scope: AgentScope): void {
  const { ofAgent, quantiles } = scope;
  row(layout, 'Cycles and resources');
  panel(layout, 'timeseries', {
    title: 'Cycle duration',
    description: 'One analysis cycle: read, analyse, score, store, notify.',
    w: 6,
    unit: 's',
    targets: quantiles('edgewarden_cycle_duration_seconds'),
  });
  panel(layout, 'timeseries', {
    title: 'Cycle stretch, by pod',
    description: 'Intervals waited between cycles: above 1 under CPU or memory pressure.',
    w: 6,
    min: 0,
    targets: [{ expr: `max by (pod) (edgewarden_cycle_stretch{${ofAgent}})`, legend: '{{pod}}' }],
  });
  panel(layout, 'timeseries', {
    title: 'Resident memory, by pod',
    description: 'Compare with the AnalysisAgent’s spec.resources.limits.memory.',
    w: 6,
    unit: 'bytes',
    targets: [
      {
        expr: `max by (pod) (edgewarden_process_resident_memory_bytes{${selectedPods}})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'CPU, by pod',
    description: 'CPU seconds per second (1 = one core).',
    w: 6,
    unit: 'short',
    targets: [
      {
        expr: `sum by (pod) (rate(edgewarden_process_cpu_seconds_total{${selectedPods}}[$__rate_interval]))`,
        legend: '{{pod}}',
      },
    ],
  });
}

/** The dashboard of one built-in agent. */
export function agentDashboard(name: AgentName, agent: Agent): Dashboard {
  const scope = agentScope(name, agent);
  const layout = newLayout();
  agentNowRow(layout, scope);
  agentReadingRow(layout, scope);
  agentAnomaliesRow(layout, scope);
  agentModelRow(layout, scope);
  agentCyclesRow(layout, scope);
  return dashboard(
    `edgewarden-agent-${name}`,
    `edgewarden / Agent: ${name}`,
    `The ${name} agent's pods: what they read (${scope.reads}), the anomalies they find, the model they serve and its drift (features: ${list(agent.features)}).`,
    [
      labelVariable(
        'namespace',
        'Namespace',
        `label_values(edgewarden_ready{agent="${name}"}, namespace)`,
      ),
      labelVariable(
        'analysisagent',
        'AnalysisAgent',
        `label_values(edgewarden_ready{agent="${name}", namespace=~"$namespace"}, pod)`,
        '/^(.+)-agent-[0-9]+$/',
      ),
    ],
    layout,
  );
}
