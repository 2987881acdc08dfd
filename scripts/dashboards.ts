// edgewarden's Grafana dashboards, built from the code: an overview of every agent, one
// dashboard per built-in agent (the list, each agent's programs and features, from the agent
// registry), and one for the operator. Pure: `dashboards()` returns the JSON models, and
// scripts/gen-dashboards.ts writes them to charts/edgewarden/files/dashboards/, where the
// chart turns each into a ConfigMap for Grafana's dashboard sidecar (dashboards.enabled).
//
// Every query uses only metrics the code exports (test/unit/dashboards.test.ts checks the
// names against the code and parses every expression with promtool; the end-to-end suite runs
// every query against a real Prometheus scraping the operator and agents) and the labels the
// chart's PodMonitor and ServiceMonitor give each series: namespace, pod, container. Agent pods
// are named <AnalysisAgent>-agent-<n>, so the `analysisagent` variable is the pods' names
// without that suffix, and queries select pods by `($analysisagent)-agent-[0-9]+`.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

import { builtInAgents, agentNames } from '../agent-runtime/src/agents/registry.js';
import type { Agent, AgentName } from '../agent-runtime/src/agents/types.js';
import { severityRank } from '../agent-runtime/src/http/anomalyQuery.js';

// scripts/ -> the repository, from source (..) and from dist/scripts (../..)
const repoRoot = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  import.meta.url.includes('/dist/') ? '../..' : '..',
);

export interface Target {
  refId: string;
  expr: string;
  legendFormat: string;
  /** Evaluated once, at the end of the dashboard's range (tables, bar gauges); else a range. */
  instant: boolean;
}

export interface Panel {
  id: number;
  type: 'row' | 'timeseries' | 'stat' | 'bargauge' | 'table';
  title: string;
  description?: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  [key: string]: unknown;
}

export interface Variable {
  name: string;
  type: 'datasource' | 'query';
  /** For query variables: `label_values(<selector>, <label>)`, as Grafana's Prometheus source runs it. */
  definition?: string;
  /** For query variables: the regex whose first group is kept of each value. */
  regex?: string;
  [key: string]: unknown;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
  [key: string]: unknown;
}

/** A dashboard with the file name it is written to, under charts/edgewarden/files/dashboards/. */
export interface DashboardFile {
  file: string;
  dashboard: Dashboard;
}

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

/** Anomaly severities by name, in the agents' own numbering (the label value is the number). */
const SEVERITIES = (['info', 'low', 'medium', 'high', 'critical'] as const).map((name) => ({
  name,
  rank: severityRank(name),
}));
const SEVERITY_COLOURS: Record<string, string> = {
  info: 'blue',
  low: 'green',
  medium: 'yellow',
  high: 'orange',
  critical: 'red',
};

// ---------------------------------------------------------------------------------------------
// Panels

interface PanelSpec {
  title: string;
  description: string;
  /** Width in grid columns (24 per row); height defaults to 8 (4 for stats). */
  w: number;
  h?: number;
  targets: { expr: string; legend?: string }[];
  unit?: string;
  /** Per series name (the legend), a display name and colour. */
  names?: Record<string, { name: string; colour: string }>;
  stack?: boolean;
  min?: number;
  max?: number;
}

type Kind = 'timeseries' | 'stat' | 'bargauge' | 'table';

interface Layout {
  panels: Panel[];
  x: number;
  y: number;
  rowHeight: number;
}

const newLayout = (): Layout => ({ panels: [], x: 0, y: 0, rowHeight: 0 });

function place(layout: Layout, w: number, h: number): Panel['gridPos'] {
  if (layout.x + w > 24) {
    layout.x = 0;
    layout.y += layout.rowHeight;
    layout.rowHeight = 0;
  }
  const pos = { h, w, x: layout.x, y: layout.y };
  layout.x += w;
  layout.rowHeight = Math.max(layout.rowHeight, h);
  return pos;
}

function row(layout: Layout, title: string): void {
  if (layout.x > 0) {
    layout.x = 0;
    layout.y += layout.rowHeight;
    layout.rowHeight = 0;
  }
  layout.panels.push({
    id: layout.panels.length + 1,
    type: 'row',
    title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: layout.y },
    panels: [],
  });
  layout.y += 1;
}

function overrides(spec: PanelSpec): unknown[] {
  return Object.entries(spec.names ?? {}).map(([series, { name, colour }]) => ({
    matcher: { id: 'byName', options: series },
    properties: [
      { id: 'displayName', value: name },
      { id: 'color', value: { mode: 'fixed', fixedColor: colour } },
    ],
  }));
}

function targets(spec: PanelSpec, instant: boolean): Target[] {
  return spec.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    instant,
  }));
}

function panel(layout: Layout, kind: Kind, spec: PanelSpec): void {
  const instant = kind === 'bargauge' || kind === 'table';
  const h = spec.h ?? (kind === 'stat' ? 4 : 8);
  const common = {
    id: layout.panels.length + 1,
    type: kind,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: place(layout, spec.w, h),
    targets: targets(spec, instant).map((t) => ({
      datasource: DATASOURCE,
      editorMode: 'code',
      range: !instant,
      ...t,
      ...(kind === 'table' ? { format: 'table' } : {}),
    })),
  };
  const defaults = {
    unit: spec.unit ?? 'short',
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
  };
  const reduce = { calcs: ['lastNotNull'], fields: '', values: false };
  if (kind === 'timeseries')
    layout.panels.push({
      ...common,
      fieldConfig: {
        defaults: {
          ...defaults,
          color: { mode: 'palette-classic' },
          custom: {
            drawStyle: 'line',
            lineWidth: 1,
            fillOpacity: spec.stack ? 60 : 10,
            showPoints: 'never',
            spanNulls: false,
            stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
          },
        },
        overrides: overrides(spec),
      },
      options: {
        legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
        tooltip: { mode: 'multi', sort: 'desc' },
      },
    });
  else if (kind === 'stat')
    layout.panels.push({
      ...common,
      fieldConfig: {
        defaults: {
          ...defaults,
          color: { mode: 'thresholds' },
          thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
        },
        overrides: overrides(spec),
      },
      options: {
        reduceOptions: reduce,
        colorMode: 'value',
        graphMode: 'area',
        justifyMode: 'auto',
        orientation: 'auto',
        textMode: 'auto',
      },
    });
  else if (kind === 'bargauge')
    layout.panels.push({
      ...common,
      fieldConfig: {
        defaults: {
          ...defaults,
          color: { mode: 'continuous-GrYlRd' },
          thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] },
        },
        overrides: overrides(spec),
      },
      options: {
        displayMode: 'gradient',
        orientation: 'horizontal',
        reduceOptions: reduce,
        showUnfilled: true,
        valueMode: 'color',
      },
    });
  else
    layout.panels.push({
      ...common,
      fieldConfig: { defaults, overrides: overrides(spec) },
      options: { showHeader: true, cellHeight: 'sm' },
      transformations: [
        { id: 'merge', options: {} },
        { id: 'organize', options: { excludeByName: { Time: true } } },
      ],
    });
}

/** Setting a stat red when its value is at least 1 (something is down, drifting, failing). */
function redFromOne(p: Panel): Panel {
  const defaults = (p.fieldConfig as { defaults: Record<string, unknown> }).defaults;
  defaults.thresholds = {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      { color: 'red', value: 1 },
    ],
  };
  return p;
}

const severityNames = Object.fromEntries(
  SEVERITIES.map((s) => [String(s.rank), { name: s.name, colour: SEVERITY_COLOURS[s.name]! }]),
);

// ---------------------------------------------------------------------------------------------
// Variables

const datasourceVariable: Variable = {
  name: 'datasource',
  label: 'Data source',
  type: 'datasource',
  query: 'prometheus',
  current: {},
  hide: 0,
  includeAll: false,
  multi: false,
  options: [],
  refresh: 1,
  regex: '',
};

/** A query variable over label values, refreshed with the time range, every value by default. */
function labelVariable(name: string, label: string, definition: string, regex = ''): Variable {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition,
    query: { query: definition, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
    regex,
    refresh: 2,
    sort: 1,
    includeAll: true,
    multi: true,
    current: { selected: true, text: ['All'], value: ['$__all'] },
    hide: 0,
    options: [],
  };
}

function dashboard(
  uid: string,
  title: string,
  description: string,
  variables: Variable[],
  layout: Layout,
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['edgewarden'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '1m',
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    fiscalYearStartMonth: 0,
    liveNow: false,
    weekStart: '',
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    links: [
      {
        title: 'edgewarden',
        type: 'dashboards',
        tags: ['edgewarden'],
        asDropdown: true,
        includeVars: false,
        keepTime: true,
        icon: 'external link',
        targetBlank: false,
        tooltip: '',
        url: '',
      },
    ],
    templating: { list: [datasourceVariable, ...variables] },
    panels: layout.panels,
  };
}

// ---------------------------------------------------------------------------------------------
// The overview

function overview(): Dashboard {
  const n = 'namespace=~"$namespace"';
  const l = newLayout();
  const rate = (metric: string, extra = '') => `rate(${metric}{${n}${extra}}[$__rate_interval])`;

  row(l, 'Now');
  panel(l, 'stat', {
    title: 'Agent pods up',
    description: 'Agent pods Prometheus scrapes successfully.',
    w: 4,
    targets: [{ expr: `sum(up{container="agent", ${n}})`, legend: 'up' }],
  });
  panel(l, 'stat', {
    title: 'Agent pods down',
    description:
      'Agent pods Prometheus fails to scrape (crashing, starting, or unreachable): their devices are not analysed.',
    w: 4,
    targets: [{ expr: `sum(1 - up{container="agent", ${n}})`, legend: 'down' }],
  });
  redFromOne(l.panels[l.panels.length - 1]!);
  panel(l, 'stat', {
    title: 'Agent pods ready',
    description: 'Pods whose source answers and whose configured model is loaded.',
    w: 4,
    targets: [{ expr: `sum(edgewarden_ready{${n}})`, legend: 'ready' }],
  });
  panel(l, 'stat', {
    title: 'Lines read',
    description: 'Router log lines read from the collector, every agent together.',
    w: 4,
    unit: 'reqps',
    targets: [{ expr: `sum(${rate('edgewarden_lines_read_total')})`, legend: 'lines/s' }],
  });
  panel(l, 'stat', {
    title: 'Anomalies in range',
    description:
      'Anomalies found over the dashboard range, every agent together. A counter is born at its first anomaly, and that first one is not counted by increase().',
    w: 4,
    targets: [
      {
        expr: `sum(increase(edgewarden_anomalies_total{${n}}[$__range]))`,
        legend: 'anomalies',
      },
    ],
  });
  panel(l, 'stat', {
    title: 'Pods with model drift',
    description:
      "Agent pods whose served model's features have drifted from its training data (edgewarden_model_drift).",
    w: 4,
    targets: [{ expr: `sum(edgewarden_model_drift{${n}})`, legend: 'drifting' }],
  });
  redFromOne(l.panels[l.panels.length - 1]!);

  row(l, 'Agents');
  panel(l, 'timeseries', {
    title: 'Agent pods ready, by agent',
    description: 'Ready agent pods of each agent kind.',
    w: 8,
    min: 0,
    targets: [{ expr: `sum by (agent) (edgewarden_ready{${n}})`, legend: '{{agent}}' }],
  });
  panel(l, 'timeseries', {
    title: 'Lines read per second, by agent',
    description: 'Lines each agent kind reads from the collector (its programs only).',
    w: 8,
    unit: 'reqps',
    targets: [
      {
        expr: `sum by (agent) (${rate('edgewarden_lines_read_total')})`,
        legend: '{{agent}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Watermark lag, by agent',
    description:
      'Age of the newest line each agent has analysed: how far behind the collector it is (plus the cycle interval).',
    w: 8,
    unit: 's',
    targets: [
      {
        expr: `max by (agent) (edgewarden_watermark_lag_seconds{${n}})`,
        legend: '{{agent}}',
      },
    ],
  });

  row(l, 'Anomalies');
  panel(l, 'timeseries', {
    title: 'Anomalies per second, by agent and severity',
    description: 'Severity 1 (info) to 5 (critical).',
    w: 12,
    stack: true,
    targets: [
      {
        expr: `sum by (agent, severity) (${rate('edgewarden_anomalies_total')})`,
        legend: '{{agent}} · severity {{severity}}',
      },
    ],
  });
  panel(l, 'table', {
    title: 'Anomalies in range, by agent and type',
    description:
      'Anomalies found over the dashboard range. A type first seen inside the range is listed, but its first count is not (increase() starts from the first sample).',
    w: 12,
    targets: [
      {
        expr: `sum by (agent, type) (increase(edgewarden_anomalies_total{${n}}[$__range]))`,
      },
    ],
  });
  panel(l, 'bargauge', {
    title: 'Top devices by anomalies',
    description: 'The ten routers with the most anomalies over the range, every agent together.',
    w: 12,
    targets: [
      {
        expr: `topk(10, sum by (device) (increase(edgewarden_device_anomalies_total{${n}}[$__range])))`,
        legend: '{{device}}',
      },
    ],
  });
  panel(l, 'bargauge', {
    title: 'Top rules by anomalies',
    description:
      'The ten detection rules (docs/rules.md) that found most over the range, every agent together: a rule far ahead of the rest is the first to look at, or to tune (spec.rules).',
    w: 12,
    targets: [
      {
        expr: `topk(10, sum by (rule) (increase(edgewarden_rule_anomalies_total{${n}}[$__range])))`,
        legend: '{{rule}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Notifications per second, by agent, channel and outcome',
    description:
      'Alerts sent to Slack, e-mail or webhooks; outcome "failed" means the channel refused or was unreachable.',
    w: 12,
    targets: [
      {
        expr: `sum by (agent, channel, outcome) (${rate('edgewarden_notifications_total')})`,
        legend: '{{agent}} {{channel}} {{outcome}}',
      },
    ],
  });

  row(l, 'Models');
  panel(l, 'timeseries', {
    title: 'Model versions in service',
    description:
      'Agent pods serving each model version; a rollout shows as one version handing over to the next.',
    w: 8,
    min: 0,
    targets: [
      {
        expr: `count by (agent, version) (edgewarden_model_info{${n}})`,
        legend: '{{agent}} {{version}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Model drift, by agent',
    description:
      "1 when some feature of an agent's served model has drifted from its training distribution.",
    w: 8,
    min: 0,
    max: 1,
    targets: [{ expr: `max by (agent) (edgewarden_model_drift{${n}})`, legend: '{{agent}}' }],
  });
  panel(l, 'timeseries', {
    title: 'Largest feature drift, by agent',
    description:
      "The largest Kolmogorov-Smirnov distance (0 to 1) between a feature's live values and the served model's training values.",
    w: 8,
    min: 0,
    max: 1,
    targets: [{ expr: `max by (agent) (edgewarden_feature_drift{${n}})`, legend: '{{agent}}' }],
  });

  row(l, 'Devices');
  panel(l, 'timeseries', {
    title: 'Devices heard from, by agent',
    description: 'Routers each agent kind has read lines from.',
    w: 12,
    min: 0,
    targets: [
      {
        expr: `count by (agent) (edgewarden_device_last_line_timestamp_seconds{${n}})`,
        legend: '{{agent}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Time since each device was last heard',
    description:
      'Seconds since the newest line of each router, read by any agent: a router that stops logging climbs here.',
    w: 12,
    unit: 's',
    targets: [
      {
        expr: `time() - max by (device) (edgewarden_device_last_line_timestamp_seconds{${n}})`,
        legend: '{{device}}',
      },
    ],
  });

  return dashboard(
    'edgewarden-overview',
    'edgewarden / Overview',
    'Every edgewarden agent: pods, lines read, anomalies by agent, severity and device, models and drift.',
    [labelVariable('namespace', 'Namespace', 'label_values(edgewarden_ready, namespace)')],
    l,
  );
}

// ---------------------------------------------------------------------------------------------
// One agent

const list = (names: Iterable<string>): string => [...names].join(', ');

/** The agents some built-in rule pack (agent-runtime/rules/) gives a rule, read from the packs. */
function agentsWithBuiltInRules(): Set<string> {
  const dir = path.join(repoRoot, 'agent-runtime/rules');
  const agents = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    const pack = parseYaml(readFileSync(path.join(dir, file), 'utf8')) as {
      rules: { agent: string }[];
    };
    for (const rule of pack.rules) agents.add(rule.agent);
  }
  return agents;
}

function agentDashboard(name: AgentName, agent: Agent): Dashboard {
  const pods = 'namespace=~"$namespace", pod=~"($analysisagent)-agent-[0-9]+"';
  const a = `agent="${name}", ${pods}`;
  const rate = (metric: string) => `rate(${metric}{${a}}[$__rate_interval])`;
  const quantiles = (metric: string) => [
    {
      expr: `histogram_quantile(0.5, sum by (le) (rate(${metric}_bucket{${a}}[$__rate_interval])))`,
      legend: 'p50',
    },
    {
      expr: `histogram_quantile(0.95, sum by (le) (rate(${metric}_bucket{${a}}[$__rate_interval])))`,
      legend: 'p95',
    },
  ];
  const reads = agent.programs ? `the programs ${list(agent.programs)}` : 'every line';
  const spikes = Object.keys(agent.baselines ?? {}).map((f) => `${f}_spike`);
  const l = newLayout();

  row(l, 'Now');
  panel(l, 'stat', {
    title: 'Pods up',
    description: 'Agent pods Prometheus scrapes successfully.',
    w: 4,
    targets: [{ expr: `sum(up{container="agent", ${pods}})`, legend: 'up' }],
  });
  panel(l, 'stat', {
    title: 'Pods ready',
    description: 'Pods whose source answers and whose configured model is loaded.',
    w: 4,
    targets: [{ expr: `sum(edgewarden_ready{${a}})`, legend: 'ready' }],
  });
  panel(l, 'stat', {
    title: 'Lines read',
    description: `Lines read per second (the ${name} agent reads ${reads}).`,
    w: 4,
    unit: 'reqps',
    targets: [{ expr: `sum(${rate('edgewarden_lines_read_total')})`, legend: 'lines/s' }],
  });
  panel(l, 'stat', {
    title: 'Anomalies in range',
    description:
      'Anomalies found over the dashboard range (a type first seen inside the range misses its first count).',
    w: 4,
    targets: [
      { expr: `sum(increase(edgewarden_anomalies_total{${a}}[$__range]))`, legend: 'anomalies' },
    ],
  });
  panel(l, 'stat', {
    title: 'Model served',
    description: 'Model versions served now, with how many pods serve each.',
    w: 4,
    targets: [{ expr: `count by (version) (edgewarden_model_info{${a}})`, legend: '{{version}}' }],
  });
  (l.panels[l.panels.length - 1]!.options as Record<string, unknown>).textMode = 'name';
  panel(l, 'stat', {
    title: 'Pods with model drift',
    description: "Pods whose served model's features have drifted from its training data.",
    w: 4,
    targets: [{ expr: `sum(edgewarden_model_drift{${a}})`, legend: 'drifting' }],
  });
  redFromOne(l.panels[l.panels.length - 1]!);

  row(l, 'Reading');
  panel(l, 'timeseries', {
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
  panel(l, 'timeseries', {
    title: 'Watermark lag, by pod',
    description: 'Age of the newest line analysed.',
    w: 8,
    unit: 's',
    targets: [{ expr: `max by (pod) (edgewarden_watermark_lag_seconds{${a}})`, legend: '{{pod}}' }],
  });
  panel(l, 'timeseries', {
    title: 'Source errors per second, by pod',
    description: 'Failed reads from PostgreSQL, after the agent’s own retries.',
    w: 8,
    targets: [
      { expr: `sum by (pod) (${rate('edgewarden_source_errors_total')})`, legend: '{{pod}}' },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Time since each device was last heard',
    description: `Seconds since the newest line of each router that the ${name} agent reads.`,
    w: 24,
    unit: 's',
    targets: [
      {
        expr: `time() - max by (device) (edgewarden_device_last_line_timestamp_seconds{${a}})`,
        legend: '{{device}}',
      },
    ],
  });

  row(l, 'Anomalies');
  panel(l, 'timeseries', {
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
  panel(l, 'timeseries', {
    title: 'Anomalies per second, by severity',
    description: 'Severity 1 (info) to 5 (critical).',
    w: 12,
    stack: true,
    names: severityNames,
    targets: [
      { expr: `sum by (severity) (${rate('edgewarden_anomalies_total')})`, legend: '{{severity}}' },
    ],
  });
  panel(l, 'bargauge', {
    title: 'Top devices by anomalies',
    description: 'The ten routers with the most anomalies over the range.',
    w: 12,
    targets: [
      {
        expr: `topk(10, sum by (device) (increase(edgewarden_device_anomalies_total{${a}}[$__range])))`,
        legend: '{{device}}',
      },
    ],
  });
  // Only for agents the built-in packs give rules: the template agent mines any message and has
  // none, so its panel would stay empty.
  if (agentsWithBuiltInRules().has(name))
    panel(l, 'bargauge', {
      title: 'Top rules by anomalies',
      description:
        "The ten detection rules that found most over the range, and how much: tune a noisy one in the AnalysisAgent's spec.rules (docs/rules.md).",
      w: 12,
      targets: [
        {
          expr: `topk(10, sum by (rule) (increase(edgewarden_rule_anomalies_total{${a}}[$__range])))`,
          legend: '{{rule}}',
        },
      ],
    });
  panel(l, 'timeseries', {
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

  row(l, 'Model');
  panel(l, 'timeseries', {
    title: 'Model version, by pod',
    description: 'The model version each pod serves (1 while served).',
    w: 8,
    min: 0,
    targets: [
      {
        expr: `max by (pod, version) (edgewarden_model_info{${a}})`,
        legend: '{{pod}} {{version}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Feature drift',
    description: `Kolmogorov-Smirnov distance (0 to 1) between each feature's live values and the served model's training values. The ${name} agent's features: ${list(agent.features)}.`,
    w: 16,
    min: 0,
    max: 1,
    targets: [{ expr: `max by (feature) (edgewarden_feature_drift{${a}})`, legend: '{{feature}}' }],
  });
  panel(l, 'timeseries', {
    title: 'Inference duration',
    description: 'Time the model takes to score one batch of windows.',
    w: 8,
    unit: 's',
    targets: quantiles('edgewarden_inference_duration_seconds'),
  });
  panel(l, 'timeseries', {
    title: 'Inference errors per second',
    description: 'Batches the model failed to score (skipped; the rules still ran).',
    w: 8,
    targets: [
      { expr: `sum by (pod) (${rate('edgewarden_inference_errors_total')})`, legend: '{{pod}}' },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Model drift, by pod',
    description: '1 when some feature has drifted from the training distribution.',
    w: 8,
    min: 0,
    max: 1,
    targets: [{ expr: `max by (pod) (edgewarden_model_drift{${a}})`, legend: '{{pod}}' }],
  });

  row(l, 'Cycles and resources');
  panel(l, 'timeseries', {
    title: 'Cycle duration',
    description: 'One analysis cycle: read, analyse, score, store, notify.',
    w: 6,
    unit: 's',
    targets: quantiles('edgewarden_cycle_duration_seconds'),
  });
  panel(l, 'timeseries', {
    title: 'Cycle stretch, by pod',
    description: 'Intervals waited between cycles: above 1 under CPU or memory pressure.',
    w: 6,
    min: 0,
    targets: [{ expr: `max by (pod) (edgewarden_cycle_stretch{${a}})`, legend: '{{pod}}' }],
  });
  panel(l, 'timeseries', {
    title: 'Resident memory, by pod',
    description: 'Compare with the AnalysisAgent’s spec.resources.limits.memory.',
    w: 6,
    unit: 'bytes',
    targets: [
      {
        expr: `max by (pod) (edgewarden_process_resident_memory_bytes{${pods}})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'CPU, by pod',
    description: 'CPU seconds per second (1 = one core).',
    w: 6,
    unit: 'short',
    targets: [
      {
        expr: `sum by (pod) (rate(edgewarden_process_cpu_seconds_total{${pods}}[$__rate_interval]))`,
        legend: '{{pod}}',
      },
    ],
  });

  return dashboard(
    `edgewarden-agent-${name}`,
    `edgewarden / Agent: ${name}`,
    `The ${name} agent's pods: what they read (${reads}), the anomalies they find, the model they serve and its drift (features: ${list(agent.features)}).`,
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
    l,
  );
}

// ---------------------------------------------------------------------------------------------
// The operator

function operatorDashboard(): Dashboard {
  const o = 'namespace=~"$namespace", pod=~"$pod"';
  const rate = (metric: string, extra = '') => `rate(${metric}{${o}${extra}}[$__rate_interval])`;
  const quantiles = (metric: string) => [
    {
      expr: `histogram_quantile(0.5, sum by (controller, le) (${rate(`${metric}_bucket`)}))`,
      legend: '{{controller}} p50',
    },
    {
      expr: `histogram_quantile(0.95, sum by (controller, le) (${rate(`${metric}_bucket`)}))`,
      legend: '{{controller}} p95',
    },
  ];
  const l = newLayout();

  row(l, 'Now');
  panel(l, 'stat', {
    title: 'Operator pods up',
    description: 'Operator pods Prometheus scrapes successfully (one leads; the others stand by).',
    w: 4,
    targets: [{ expr: `sum(up{container="operator", ${o}})`, legend: 'up' }],
  });
  panel(l, 'stat', {
    title: 'Reconciles',
    description: 'Reconciles per second, every controller together.',
    w: 4,
    unit: 'reqps',
    targets: [
      { expr: `sum(${rate('edgewarden_operator_reconcile_total')})`, legend: 'per second' },
    ],
  });
  panel(l, 'stat', {
    title: 'Reconcile errors',
    description: 'Failed reconciles per second (retried with back-off).',
    w: 4,
    unit: 'reqps',
    targets: [
      {
        expr: `sum(${rate('edgewarden_operator_reconcile_total', ', result="error"')})`,
        legend: 'per second',
      },
    ],
  });
  panel(l, 'stat', {
    title: 'Work queue depth',
    description: 'Keys waiting to be reconciled, every controller together.',
    w: 4,
    targets: [{ expr: `sum(edgewarden_operator_workqueue_depth{${o}})`, legend: 'keys' }],
  });
  panel(l, 'stat', {
    title: 'Exports running',
    description: 'ExportJobs in phase Running.',
    w: 4,
    targets: [
      {
        expr: `sum(edgewarden_operator_exportjob_phase{${o}, phase="Running"})`,
        legend: 'running',
      },
    ],
  });
  panel(l, 'stat', {
    title: 'ModelDeployments not up to date',
    description: 'ModelDeployments rolling out, blocked, rolled back or with an invalid spec.',
    w: 4,
    targets: [
      {
        expr: `sum(edgewarden_operator_modeldeployment_transition{${o}, transition!="UpToDate"})`,
        legend: 'not up to date',
      },
    ],
  });

  row(l, 'Reconciles');
  panel(l, 'timeseries', {
    title: 'Reconciles per second, by controller and result',
    description:
      'Results: success, error (retried with back-off), conflict (a stale write, retried).',
    w: 8,
    unit: 'reqps',
    targets: [
      {
        expr: `sum by (controller, result) (${rate('edgewarden_operator_reconcile_total')})`,
        legend: '{{controller}} {{result}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Reconcile error ratio, by controller',
    description: 'Share of reconciles that failed.',
    w: 8,
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [
      {
        expr: `sum by (controller) (${rate('edgewarden_operator_reconcile_total', ', result="error"')}) / sum by (controller) (${rate('edgewarden_operator_reconcile_total')})`,
        legend: '{{controller}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Reconcile duration, by controller',
    description: 'One reconcile, API calls and agent polls included.',
    w: 8,
    unit: 's',
    targets: quantiles('edgewarden_operator_reconcile_duration_seconds'),
  });

  row(l, 'Work queue');
  panel(l, 'timeseries', {
    title: 'Work queue depth, by controller',
    description: 'Keys waiting for a worker.',
    w: 12,
    min: 0,
    targets: [
      {
        expr: `sum by (controller) (edgewarden_operator_workqueue_depth{${o}})`,
        legend: '{{controller}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Work queue latency, by controller',
    description: 'Time a key waits in the queue before a worker takes it.',
    w: 12,
    unit: 's',
    targets: quantiles('edgewarden_operator_workqueue_latency_seconds'),
  });

  row(l, 'ModelDeployments and ExportJobs');
  panel(l, 'timeseries', {
    title: 'ModelDeployments, by transition',
    description: 'UpToDate, InProgress, BlockedByFailedLoad, RolledBack, InvalidSpec.',
    w: 12,
    min: 0,
    stack: true,
    targets: [
      {
        expr: `sum by (transition) (edgewarden_operator_modeldeployment_transition{${o}})`,
        legend: '{{transition}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'ExportJobs, by phase',
    description: 'Pending, Running, Succeeded, Failed.',
    w: 12,
    min: 0,
    stack: true,
    targets: [
      {
        expr: `sum by (phase) (edgewarden_operator_exportjob_phase{${o}})`,
        legend: '{{phase}}',
      },
    ],
  });
  panel(l, 'table', {
    title: 'ModelDeployments',
    description: "Each ModelDeployment's current status.transition.",
    w: 12,
    targets: [
      {
        expr: `max by (resource_namespace, modeldeployment, transition) (edgewarden_operator_modeldeployment_transition{${o}} == 1)`,
      },
    ],
  });
  panel(l, 'table', {
    title: 'ExportJobs',
    description: "Each ExportJob's current status.phase.",
    w: 12,
    targets: [
      {
        expr: `max by (resource_namespace, exportjob, phase) (edgewarden_operator_exportjob_phase{${o}} == 1)`,
      },
    ],
  });

  row(l, 'Process');
  panel(l, 'timeseries', {
    title: 'Resident memory',
    description: "Compare with the chart's operator.resources.limits.memory.",
    w: 6,
    unit: 'bytes',
    targets: [
      {
        expr: `max by (pod) (edgewarden_operator_process_resident_memory_bytes{${o}})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Heap used',
    description: 'V8 heap in use (the chart caps it with --max-old-space-size).',
    w: 6,
    unit: 'bytes',
    targets: [
      {
        expr: `sum by (pod) (edgewarden_operator_nodejs_heap_size_used_bytes{${o}})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'CPU',
    description: 'CPU seconds per second (1 = one core).',
    w: 6,
    targets: [
      {
        expr: `sum by (pod) (${rate('edgewarden_operator_process_cpu_seconds_total')})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(l, 'timeseries', {
    title: 'Event loop lag (p99)',
    description: 'A busy event loop delays watches, reconciles and probes.',
    w: 6,
    unit: 's',
    targets: [
      {
        expr: `max by (pod) (edgewarden_operator_nodejs_eventloop_lag_p99_seconds{${o}})`,
        legend: '{{pod}}',
      },
    ],
  });

  return dashboard(
    'edgewarden-operator',
    'edgewarden / Operator',
    "The edgewarden operator: reconciles and their errors, work queues, ModelDeployment rollouts, ExportJobs, and the process's resources.",
    [
      labelVariable(
        'namespace',
        'Namespace',
        'label_values(edgewarden_operator_workqueue_depth, namespace)',
      ),
      labelVariable(
        'pod',
        'Pod',
        'label_values(edgewarden_operator_workqueue_depth{namespace=~"$namespace"}, pod)',
      ),
    ],
    l,
  );
}

/** Every dashboard, with the file it is kept in. */
export function dashboards(): DashboardFile[] {
  return [
    { file: 'overview.json', dashboard: overview() },
    { file: 'operator.json', dashboard: operatorDashboard() },
    ...agentNames.map((name) => ({
      file: `agent-${name}.json`,
      dashboard: agentDashboard(name, builtInAgents[name]),
    })),
  ];
}

/** Every query target of a dashboard, with its panel's title. */
export function panelTargets(d: Dashboard): { panel: string; target: Target }[] {
  return d.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ panel: p.title, target })));
}
