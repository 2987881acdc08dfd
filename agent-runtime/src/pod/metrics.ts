// The Prometheus metric families an agent exports, in one place: the running agent
// (agentRunner.ts) fills them cycle by cycle, and `edgewarden demo --serve` fills the same
// families from its one analysis, so dashboards and alerts read both alike. Labels are the
// agent's kind and a bounded device label (deviceSeries.ts), never an address.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import type { Anomaly } from '../agents/types.js';
import type { Channel, SendReport } from '../notify/notifier.js';
import { MAX_DEVICE_SERIES, OTHER_DEVICES, type DeviceSeries } from './deviceSeries.js';

/** What the cycles read, found and sent, and how they went. */
function cycleMetrics(r: Registry) {
  return {
    lines: new Counter({
      name: 'edgewarden_lines_read_total',
      help: 'Log lines read from the source.',
      labelNames: ['agent'],
      registers: [r],
    }),
    stretch: new Gauge({
      name: 'edgewarden_cycle_stretch',
      help: 'How many intervals the agent waits between cycles (above 1 under CPU or memory pressure).',
      labelNames: ['agent'],
      registers: [r],
    }),
    notifications: new Counter({
      name: 'edgewarden_notifications_total',
      help: 'Alerts sent, by channel and outcome.',
      labelNames: ['agent', 'channel', 'outcome'],
      registers: [r],
    }),
    unparsed: new Counter({
      name: 'edgewarden_lines_unparsed_total',
      help: 'Source rows skipped as unreadable (no usable timestamp).',
      labelNames: ['agent'],
      registers: [r],
    }),
    anomalies: new Counter({
      name: 'edgewarden_anomalies_total',
      help: 'Anomalies found, by type and severity.',
      labelNames: ['agent', 'type', 'severity'],
      registers: [r],
    }),
    cycles: new Histogram({
      name: 'edgewarden_cycle_duration_seconds',
      help: 'Duration of analysis cycles.',
      labelNames: ['agent'],
      buckets: [0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [r],
    }),
    cycleFailures: new Counter({
      name: 'edgewarden_cycle_failures_total',
      help: 'Analysis cycles that failed (the source, the store, or anything else; nothing was committed).',
      labelNames: ['agent'],
      registers: [r],
    }),
    consecutiveFailures: new Gauge({
      name: 'edgewarden_cycle_consecutive_failures',
      help: 'Analysis cycles failed in a row since the last one that committed (0 after a success).',
      labelNames: ['agent'],
      registers: [r],
    }),
    sourceErrors: new Counter({
      name: 'edgewarden_source_errors_total',
      help: 'Failed reads from the source (after retries).',
      labelNames: ['agent'],
      registers: [r],
    }),
    lag: new Gauge({
      name: 'edgewarden_watermark_lag_seconds',
      help: 'Age of the newest line analysed.',
      labelNames: ['agent'],
      registers: [r],
    }),
    deviceLastLine: new Gauge({
      name: 'edgewarden_device_last_line_timestamp_seconds',
      help: `Unix time of the newest line read from each device (host); past ${MAX_DEVICE_SERIES} devices, the rest share device="${OTHER_DEVICES}".`,
      labelNames: ['agent', 'device'],
      registers: [r],
    }),
    deviceAnomalies: new Counter({
      name: 'edgewarden_device_anomalies_total',
      help: `Anomalies found, by device (host); past ${MAX_DEVICE_SERIES} devices, the rest share device="${OTHER_DEVICES}".`,
      labelNames: ['agent', 'device'],
      registers: [r],
    }),
  };
}

/** The model served, its inference and drift; the rules in force; readiness. */
function servingMetrics(r: Registry) {
  return {
    inferenceErrors: new Counter({
      name: 'edgewarden_inference_errors_total',
      help: 'Batches of windows the model failed to score (skipped; the rules still ran).',
      labelNames: ['agent'],
      registers: [r],
    }),
    inference: new Histogram({
      name: 'edgewarden_inference_duration_seconds',
      help: 'Duration of model inference, per batch of windows.',
      labelNames: ['agent'],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
      registers: [r],
    }),
    featureDrift: new Gauge({
      name: 'edgewarden_feature_drift',
      help: "Kolmogorov-Smirnov distance (0-1) between each feature's live values and the served model's training values.",
      labelNames: ['agent', 'feature'],
      registers: [r],
    }),
    modelDrift: new Gauge({
      name: 'edgewarden_model_drift',
      help: '1 when some feature of the served model has drifted from its training distribution.',
      labelNames: ['agent'],
      registers: [r],
    }),
    model: new Gauge({
      name: 'edgewarden_model_info',
      help: 'The model version served (value 1).',
      labelNames: ['agent', 'version'],
      registers: [r],
    }),
    ruleAnomalies: new Counter({
      name: 'edgewarden_rule_anomalies_total',
      help: 'Anomalies found by each detection rule (docs/rules.md), by rule id.',
      labelNames: ['agent', 'rule'],
      registers: [r],
    }),
    rules: new Gauge({
      name: 'edgewarden_rules_loaded',
      help: 'Detection rules in force.',
      labelNames: ['agent'],
      registers: [r],
    }),
    rulesRefused: new Counter({
      name: 'edgewarden_rules_refused_total',
      help: 'Changes to the rules refused (a rule or tuning that does not compile); the rules in force went on.',
      labelNames: ['agent'],
      registers: [r],
    }),
    ruleTriage: new Gauge({
      name: 'edgewarden_rule_anomalies',
      help: 'Stored anomalies of the last 7 days by rule and status (open, acknowledged, resolved, false_positive, suppressed): a noisy rule shows as false positives.',
      labelNames: ['agent', 'rule', 'status'],
      registers: [r],
    }),
    anomaliesSuppressed: new Counter({
      name: 'edgewarden_anomalies_suppressed_total',
      help: 'Anomalies a suppression of spec.rules.suppressions covered: neither stored nor alerted, by rule id.',
      labelNames: ['agent', 'rule'],
      registers: [r],
    }),
    ready: new Gauge({
      name: 'edgewarden_ready',
      help: '1 when the agent is ready (source reachable, cycles committing, model loaded if configured).',
      labelNames: ['agent'],
      registers: [r],
    }),
  };
}

/** Registers every agent metric family on `r`; returns them, to be filled. */
export function agentMetrics(r: Registry) {
  return { ...cycleMetrics(r), ...servingMetrics(r) };
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;

/** The series an agent has from its start, at 0 (1 for the stretch), before anything happens. */
export function startAgentSeries(m: AgentMetrics, agent: string): void {
  const labels = { agent };
  m.lines.inc(labels, 0);
  m.unparsed.inc(labels, 0);
  m.inferenceErrors.inc(labels, 0);
  m.stretch.set(labels, 1);
  m.sourceErrors.inc(labels, 0);
  m.cycleFailures.inc(labels, 0);
  m.consecutiveFailures.set(labels, 0);
  m.rulesRefused.inc(labels, 0);
}

/** Moves each device's last-line gauge (a new device also starts its anomaly count at 0). */
export function publishDevices(
  m: AgentMetrics,
  agent: string,
  devices: DeviceSeries,
  newest: ReadonlyMap<string, number>,
): void {
  for (const [device, seconds] of devices.observe(newest)) {
    const labels = { agent, device };
    m.deviceLastLine.set(labels, seconds);
    m.deviceAnomalies.inc(labels, 0);
  }
}

/** Counts anomalies found: by type and severity, and by (bounded) device. */
export function countAnomalies(
  m: AgentMetrics,
  devices: DeviceSeries,
  anomalies: readonly Anomaly[],
): void {
  for (const a of anomalies) {
    m.anomalies.inc({ agent: a.agent, type: a.type, severity: String(a.severity) });
    m.deviceAnomalies.inc({ agent: a.agent, device: devices.label(a.device) });
    if (a.rule) m.ruleAnomalies.inc({ agent: a.agent, rule: a.rule });
  }
}

/** Alerts sent and failed, per channel (a channel's failures are out of the alerts sent). */
export function countNotifications(
  m: AgentMetrics,
  agent: string,
  channels: readonly Channel[],
  report: SendReport,
): void {
  for (const channel of channels) {
    const failed = report.failures.filter((f) => f.channel === channel).length;
    if (report.sent - failed > 0)
      m.notifications.inc({ agent, channel, outcome: 'sent' }, report.sent - failed);
    if (failed > 0) m.notifications.inc({ agent, channel, outcome: 'failed' }, failed);
  }
}

/** Each rule's anomaly counter from 0, so a rate or increase() sees its first anomaly. */
export function startRuleSeries(m: AgentMetrics, agent: string, rules: readonly string[]): void {
  for (const rule of rules) m.ruleAnomalies.inc({ agent, rule }, 0);
}

/** Adds the anomalies each rule had suppressed (0 starts a rule's series). */
export function countSuppressed(
  m: AgentMetrics,
  agent: string,
  suppressed: ReadonlyMap<string, number>,
): void {
  for (const [rule, anomalies] of suppressed) m.anomaliesSuppressed.inc({ agent, rule }, anomalies);
}

/**
 * edgewarden_rule_anomalies from the store's counts by rule and status; reset first, so a rule
 * or status with no anomaly left in the period has no series.
 */
export function publishTriage(
  m: AgentMetrics,
  agent: string,
  counts: readonly { rule: string; status: string; anomalies: number }[],
): void {
  m.ruleTriage.reset();
  for (const { rule, status, anomalies } of counts)
    m.ruleTriage.set({ agent, rule, status }, anomalies);
}

/** edgewarden_model_info: the version served now, if any. */
export function reportModel(m: AgentMetrics, agent: string, version: string | undefined): void {
  m.model.reset();
  if (version) m.model.set({ agent, version }, 1);
}
