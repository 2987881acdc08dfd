// The operator's dashboard: its controllers' reconciles and work queues, the ModelDeployments and
// ExportJobs they drive, and the process's resources. The `namespace` and `pod` variables select
// the operator pods (one leads; the others stand by).
import { dashboard, labelVariable } from './frame.js';
import { newLayout, row, type Layout } from './layout.js';
import type { Dashboard } from './model.js';
import { panel } from './panels.js';

/** The operator pods the dashboard's variables select. */
const ofOperator = 'namespace=~"$namespace", pod=~"$pod"';
const rate = (metric: string, extra = '') =>
  `rate(${metric}{${ofOperator}${extra}}[$__rate_interval])`;
/** The median and 95th percentile of a histogram, by controller. */
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

/** Whether the operator is up and keeping up, and what it drives, now. */
function operatorNowRow(layout: Layout): void {
  row(layout, 'Now');
  panel(layout, 'stat', {
    title: 'Operator pods up',
    description: 'Operator pods Prometheus scrapes successfully (one leads; the others stand by).',
    w: 4,
    targets: [{ expr: `sum(up{container="operator", ${ofOperator}})`, legend: 'up' }],
  });
  panel(layout, 'stat', {
    title: 'Reconciles',
    description: 'Reconciles per second, every controller together.',
    w: 4,
    unit: 'reqps',
    targets: [
      { expr: `sum(${rate('edgewarden_operator_reconcile_total')})`, legend: 'per second' },
    ],
  });
  panel(layout, 'stat', {
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
  panel(layout, 'stat', {
    title: 'Work queue depth',
    description: 'Keys waiting to be reconciled, every controller together.',
    w: 4,
    targets: [{ expr: `sum(edgewarden_operator_workqueue_depth{${ofOperator}})`, legend: 'keys' }],
  });
  panel(layout, 'stat', {
    title: 'Exports running',
    description: 'ExportJobs in phase Running.',
    w: 4,
    targets: [
      {
        expr: `sum(edgewarden_operator_exportjob_phase{${ofOperator}, phase="Running"})`,
        legend: 'running',
      },
    ],
  });
  panel(layout, 'stat', {
    title: 'ModelDeployments not up to date',
    description: 'ModelDeployments rolling out, blocked, rolled back or with an invalid spec.',
    w: 4,
    targets: [
      {
        expr: `sum(edgewarden_operator_modeldeployment_transition{${ofOperator}, transition!="UpToDate"})`,
        legend: 'not up to date',
      },
    ],
  });
}

/** How often each controller reconciles, how often it fails, and how long it takes. */
function operatorReconcilesRow(layout: Layout): void {
  row(layout, 'Reconciles');
  panel(layout, 'timeseries', {
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
  panel(layout, 'timeseries', {
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
  panel(layout, 'timeseries', {
    title: 'Reconcile duration, by controller',
    description: 'One reconcile, API calls and agent polls included.',
    w: 8,
    unit: 's',
    targets: quantiles('edgewarden_operator_reconcile_duration_seconds'),
  });
}

/** How much work waits for each controller, and for how long. */
function operatorWorkQueueRow(layout: Layout): void {
  row(layout, 'Work queue');
  panel(layout, 'timeseries', {
    title: 'Work queue depth, by controller',
    description: 'Keys waiting for a worker.',
    w: 12,
    min: 0,
    targets: [
      {
        expr: `sum by (controller) (edgewarden_operator_workqueue_depth{${ofOperator}})`,
        legend: '{{controller}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Work queue latency, by controller',
    description: 'Time a key waits in the queue before a worker takes it.',
    w: 12,
    unit: 's',
    targets: quantiles('edgewarden_operator_workqueue_latency_seconds'),
  });
}

/** Where the ModelDeployments and ExportJobs stand, together and one by one. */
function operatorResourcesRow(layout: Layout): void {
  row(layout, 'ModelDeployments and ExportJobs');
  panel(layout, 'timeseries', {
    title: 'ModelDeployments, by transition',
    description: 'UpToDate, InProgress, BlockedByFailedLoad, RolledBack, InvalidSpec.',
    w: 12,
    min: 0,
    stack: true,
    targets: [
      {
        expr: `sum by (transition) (edgewarden_operator_modeldeployment_transition{${ofOperator}})`,
        legend: '{{transition}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'ExportJobs, by phase',
    description: 'Pending, Running, Succeeded, Failed.',
    w: 12,
    min: 0,
    stack: true,
    targets: [
      {
        expr: `sum by (phase) (edgewarden_operator_exportjob_phase{${ofOperator}})`,
        legend: '{{phase}}',
      },
    ],
  });
  panel(layout, 'table', {
    title: 'ModelDeployments',
    description: "Each ModelDeployment's current status.transition.",
    w: 12,
    targets: [
      {
        expr: `max by (resource_namespace, modeldeployment, transition) (edgewarden_operator_modeldeployment_transition{${ofOperator}} == 1)`,
      },
    ],
  });
  panel(layout, 'table', {
    title: 'ExportJobs',
    description: "Each ExportJob's current status.phase.",
    w: 12,
    targets: [
      {
        expr: `max by (resource_namespace, exportjob, phase) (edgewarden_operator_exportjob_phase{${ofOperator}} == 1)`,
      },
    ],
  });
}

/** The operator process's memory, CPU and event loop. */
function operatorProcessRow(layout: Layout): void {
  row(layout, 'Process');
  panel(layout, 'timeseries', {
    title: 'Resident memory',
    description: "Compare with the chart's operator.resources.limits.memory.",
    w: 6,
    unit: 'bytes',
    targets: [
      {
        expr: `max by (pod) (edgewarden_operator_process_resident_memory_bytes{${ofOperator}})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
    title: 'Heap used',
    description: 'V8 heap in use (the chart caps it with --max-old-space-size).',
    w: 6,
    unit: 'bytes',
    targets: [
      {
        expr: `sum by (pod) (edgewarden_operator_nodejs_heap_size_used_bytes{${ofOperator}})`,
        legend: '{{pod}}',
      },
    ],
  });
  panel(layout, 'timeseries', {
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
  panel(layout, 'timeseries', {
    title: 'Event loop lag (p99)',
    description: 'A busy event loop delays watches, reconciles and probes.',
    w: 6,
    unit: 's',
    targets: [
      {
        expr: `max by (pod) (edgewarden_operator_nodejs_eventloop_lag_p99_seconds{${ofOperator}})`,
        legend: '{{pod}}',
      },
    ],
  });
}

/** The operator's dashboard. */
export function operatorDashboard(): Dashboard {
  const layout = newLayout();
  operatorNowRow(layout);
  operatorReconcilesRow(layout);
  operatorWorkQueueRow(layout);
  operatorResourcesRow(layout);
  operatorProcessRow(layout);
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
    layout,
  );
}
