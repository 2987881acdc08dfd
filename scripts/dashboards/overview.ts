// The overview: every agent of every kind together, a row per question an operator asks first
// (is everything up, what does each agent read, what is found, which models serve, which
// routers are heard). The `namespace` variable narrows it to some namespaces.
import { openAnomaliesPanel } from './alertmanager.js';
import { dashboard, labelVariable } from './frame.js';
import { newLayout, row, type Layout } from './layout.js';
import type { Dashboard } from './model.js';
import { lastPanel, panel, redFromOne } from './panels.js';

const inNamespace = 'namespace=~"$namespace"';
const rate = (metric: string) => `rate(${metric}{${inNamespace}}[$__rate_interval])`;

/** Whether the agents are up, reading and finding anything, now. */
function overviewNowRow(layout: Layout): void {
  row(layout, 'Now');
  panel(layout, 'stat', {
    title: 'Agent pods up',
    description: 'Agent pods Prometheus scrapes successfully.',
    w: 4,
    targets: [{ expr: `sum(up{container="agent", ${inNamespace}})`, legend: 'up' }],
  });
  panel(layout, 'stat', {
    title: 'Agent pods down',
    description:
      'Agent pods Prometheus fails to scrape (crashing, starting, or unreachable): their devices are not analysed.',
    w: 4,
    targets: [{ expr: `sum(1 - up{container="agent", ${inNamespace}})`, legend: 'down' }],
  });
  redFromOne(lastPanel(layout));
  panel(layout, 'stat', {
    title: 'Agent pods ready',
    description: 'Pods whose source answers and whose configured model is loaded.',
    w: 4,
    targets: [{ expr: `sum(edgewarden_ready{${inNamespace}})`, legend: 'ready' }],
  });
  panel(layout, 'stat', {
    title: 'Lines read',
    description: 'Router log lines read from the collector, every agent together.',
    w: 4,
    unit: 'reqps',
    targets: [{ expr: `sum(${rate('edgewarden_lines_read_total')})`, legend: 'lines/s' }],
  });
  panel(layout, 'stat', {
    title: 'Anomalies in range',
    description:
      'Anomalies found over the dashboard range, every agent together. A counter is born at its first anomaly, and that first one is not counted by increase().',
    w: 4,
    targets: [
      {
        expr: `sum(increase(edgewarden_anomalies_total{${inNamespace}}[$__range]))`,
        legend: 'anomalies',
      },
    ],
  });
  panel(layout, 'stat', {
    title: 'Pods with model drift',
    description:
      "Agent pods whose served model's features have drifted from its training data (edgewarden_model_drift).",
    w: 4,
    targets: [{ expr: `sum(edgewarden_model_drift{${inNamespace}})`, legend: 'drifting' }],
  });
  redFromOne(lastPanel(layout));
}

/** Each agent kind: its ready pods, what it reads and how far behind it is. */
function overviewAgentsRow(layout: Layout): void {
  row(layout, 'Agents');
  panel(layout, 'timeseries', {
    title: 'Agent pods ready, by agent',
    description: 'Ready agent pods of each agent kind.',
    w: 8,
    min: 0,
    targets: [{ expr: `sum by (agent) (edgewarden_ready{${inNamespace}})`, legend: '{{agent}}' }],
  });
  panel(layout, 'timeseries', {
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
  panel(layout, 'timeseries', {
    title: 'Watermark lag, by agent',
    description:
      'Age of the newest line each agent has analysed: how far behind the collector it is (plus the cycle interval).',
    w: 8,
    unit: 's',
    targets: [
      {
        expr: `max by (agent) (edgewarden_watermark_lag_seconds{${inNamespace}})`,
        legend: '{{agent}}',
      },
    ],
  });
}

/** What the agents find, by agent, severity, type, device and rule, and the alerts sent. */
function overviewAnomaliesRow(layout: Layout): void {
  row(layout, 'Anomalies');
  panel(layout, 'timeseries', {
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
  panel(layout, 'table', {
    title: 'Anomalies in range, by agent and type',
    description:
      'Anomalies found over the dashboard range. A type first seen inside the range is listed, but its first count is not (increase() starts from the first sample).',
    w: 12,
    targets: [
      {
        expr: `sum by (agent, type) (increase(edgewarden_anomalies_total{${inNamespace}}[$__range]))`,
      },
    ],
  });
  panel(layout, 'bargauge', {
    title: 'Top devices by anomalies',
    description: 'The ten routers with the most anomalies over the range, every agent together.',
    w: 12,
    targets: [
      {
        expr: `topk(10, sum by (device) (increase(edgewarden_device_anomalies_total{${inNamespace}}[$__range])))`,
        legend: '{{device}}',
      },
    ],
  });
  panel(layout, 'bargauge', {
    title: 'Top rules by anomalies',
    description:
      'The ten detection rules (docs/rules.md) that found most over the range, every agent together: a rule far ahead of the rest is the first to look at, or to tune (spec.rules).',
    w: 12,
    targets: [
      {
        expr: `topk(10, sum by (rule) (increase(edgewarden_rule_anomalies_total{${inNamespace}}[$__range])))`,
        legend: '{{rule}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
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
}

/**
 * Triage: the anomalies open in Alertmanager, and which rules people mark wrong. The agents
 * publish edgewarden_rule_anomalies{rule, status} from their stores (the last 7 days) and count
 * the findings a spec.rules.suppressions entry dropped in edgewarden_anomalies_suppressed_total.
 */
function overviewTriageRow(layout: Layout): void {
  row(layout, 'Triage');
  openAnomaliesPanel(layout);
  // The last value each pod set in the range: a pod that went (scaled down, paused) still counts.
  const rules = (status = '') =>
    `sum by (rule) (last_over_time(edgewarden_rule_anomalies{${inNamespace}${status ? `, status="${status}"` : ''}}[$__range]))`;
  panel(layout, 'bargauge', {
    title: 'False-positive share, by rule (7 days)',
    description:
      "Of each rule's anomalies of the last 7 days, the share marked false_positive (kubectl edgewarden false-positive), highest first. A rule near the top misleads: tune it (spec.rules.overrides) or suppress its pattern (spec.rules.suppressions); the alert EdgewardenNoisyRule fires past half of at least 5 triaged.",
    w: 12,
    unit: 'percentunit',
    min: 0,
    max: 1,
    targets: [{ expr: `sort_desc(${rules('false_positive')} / ${rules()})`, legend: '{{rule}}' }],
  });
  panel(layout, 'timeseries', {
    title: 'Suppressed matches per second, by rule',
    description:
      'Findings a suppression (spec.rules.suppressions) matched: neither stored nor alerted, only counted. A suppression that never matches can go; one that matches a lot hides a pattern worth a look.',
    w: 12,
    min: 0,
    targets: [
      {
        expr: `sum by (rule) (${rate('edgewarden_anomalies_suppressed_total')})`,
        legend: '{{rule}}',
      },
    ],
  });
}

/** The model versions in service and how far their features drift. */
function overviewModelsRow(layout: Layout): void {
  row(layout, 'Models');
  panel(layout, 'timeseries', {
    title: 'Model versions in service',
    description:
      'Agent pods serving each model version; a rollout shows as one version handing over to the next.',
    w: 8,
    min: 0,
    targets: [
      {
        expr: `count by (agent, version) (edgewarden_model_info{${inNamespace}})`,
        legend: '{{agent}} {{version}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Model drift, by agent',
    description:
      "1 when some feature of an agent's served model has drifted from its training distribution.",
    w: 8,
    min: 0,
    max: 1,
    targets: [
      { expr: `max by (agent) (edgewarden_model_drift{${inNamespace}})`, legend: '{{agent}}' },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Largest feature drift, by agent',
    description:
      "The largest Kolmogorov-Smirnov distance (0 to 1) between a feature's live values and the served model's training values.",
    w: 8,
    min: 0,
    max: 1,
    targets: [
      { expr: `max by (agent) (edgewarden_feature_drift{${inNamespace}})`, legend: '{{agent}}' },
    ],
  });
}

/** The routers heard from, and how long since each was last heard. */
function overviewDevicesRow(layout: Layout): void {
  row(layout, 'Devices');
  panel(layout, 'timeseries', {
    title: 'Devices heard from, by agent',
    description: 'Routers each agent kind has read lines from.',
    w: 12,
    min: 0,
    targets: [
      {
        expr: `count by (agent) (edgewarden_device_last_line_timestamp_seconds{${inNamespace}})`,
        legend: '{{agent}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Time since each device was last heard',
    description:
      'Seconds since the newest line of each router, read by any agent: a router that stops logging climbs here.',
    w: 12,
    unit: 's',
    targets: [
      {
        expr: `time() - max by (device) (edgewarden_device_last_line_timestamp_seconds{${inNamespace}})`,
        legend: '{{device}}',
      },
    ],
  });
}

/** The overview dashboard: every agent, by kind. */
export function overview(): Dashboard {
  const layout = newLayout();
  overviewNowRow(layout);
  overviewAgentsRow(layout);
  overviewAnomaliesRow(layout);
  overviewTriageRow(layout);
  overviewModelsRow(layout);
  overviewDevicesRow(layout);
  return dashboard(
    'edgewarden-overview',
    'edgewarden / Overview',
    'Every edgewarden agent: pods, lines read, anomalies by agent, severity and device, the open anomalies in Alertmanager, false positives and suppressions by rule, models and drift.',
    [labelVariable('namespace', 'Namespace', 'label_values(edgewarden_ready, namespace)')],
    layout,
  );
}
