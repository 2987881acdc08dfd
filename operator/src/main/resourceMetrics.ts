// State of the users' resources as metrics, read from the informers' caches at each scrape, the
// way kube-state-metrics does: one series per possible value, 1 for the current one, 0 for the
// rest. Nothing is set from inside a reconcile, so a series can never outlive its resource or
// disagree with the status the API server holds. A standby replica (leader election) has not
// started its informers and reports nothing, so an alert never fires twice for one resource.
import { Gauge, type Registry } from 'prom-client';

import type { ExportJobStatus, ModelDeploymentStatus } from '../../../api/src/generated/types.js';
import type { Cache } from '../runtime/informer.js';
import type { KubeObject } from '../runtime/kubeClient.js';

type Transition = NonNullable<ModelDeploymentStatus['transition']>;
type Phase = NonNullable<ExportJobStatus['phase']>;

/** Every value of the type, and nothing else (the compiler checks both directions). */
const allOf =
  <T extends string>() =>
  <const A extends readonly T[]>(values: A & ([T] extends [A[number]] ? unknown : never)): A =>
    values;

export const TRANSITIONS = allOf<Transition>()([
  'UpToDate',
  'InProgress',
  'BlockedByFailedLoad',
  'RolledBack',
  'InvalidSpec',
]);
export const PHASES = allOf<Phase>()(['Pending', 'Running', 'Succeeded', 'Failed']);

type WithStatus<S> = KubeObject & { status?: S };

/** Sets `gauge` to 1 for each object's current value of `labelName`, 0 for the other values. */
function stateSeries<S>(
  gauge: Gauge,
  cache: Cache<WithStatus<S>>,
  kindLabel: string,
  labelName: string,
  values: readonly string[],
  current: (status: S | undefined) => string | undefined,
): void {
  gauge.reset();
  for (const object of cache.list()) {
    const value = current(object.status);
    if (value === undefined) continue;
    for (const v of values)
      gauge.set(
        {
          resource_namespace: object.metadata.namespace ?? '',
          [kindLabel]: object.metadata.name ?? '',
          [labelName]: v,
        },
        v === value ? 1 : 0,
      );
  }
}

export function resourceMetrics(
  registry: Registry,
  caches: {
    modelDeployments: Cache<WithStatus<ModelDeploymentStatus>>;
    exportJobs: Cache<WithStatus<ExportJobStatus>>;
  },
): void {
  new Gauge({
    name: 'edgewarden_operator_modeldeployment_transition',
    help: "Each ModelDeployment's status.transition: 1 for the current one, 0 for the others.",
    labelNames: ['resource_namespace', 'modeldeployment', 'transition'],
    registers: [registry],
    collect() {
      stateSeries(
        this,
        caches.modelDeployments,
        'modeldeployment',
        'transition',
        TRANSITIONS,
        (s) => s?.transition,
      );
    },
  });
  new Gauge({
    name: 'edgewarden_operator_exportjob_phase',
    help: "Each ExportJob's status.phase: 1 for the current one, 0 for the others.",
    labelNames: ['resource_namespace', 'exportjob', 'phase'],
    registers: [registry],
    collect() {
      stateSeries(this, caches.exportJobs, 'exportjob', 'phase', PHASES, (s) => s?.phase);
    },
  });
}
