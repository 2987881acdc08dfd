// The resource-state gauges, read from a cache's contents at scrape time: one series per value,
// 1 for the current one; a resource without a status yet has none; a deleted one leaves none.
import { Registry } from 'prom-client';

import type { Cache } from '../runtime/informer.js';
import type { KubeObject } from '../runtime/kubeClient.js';
import { PHASES, resourceMetrics, TRANSITIONS } from './resourceMetrics.js';

type Obj = KubeObject & { status?: { transition?: string; phase?: string } };

/** Just the part of a cache the gauges read: its current objects. */
function listOf(objects: Obj[]): Cache<Obj> {
  return { list: () => objects } as unknown as Cache<Obj>;
}

const obj = (namespace: string, name: string, status?: Obj['status']): Obj => ({
  apiVersion: 'edgewarden.io/v1alpha1',
  kind: 'X',
  metadata: { namespace, name },
  status,
});

async function series(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const out = new Map<string, number>();
  for (const v of (metric?.values ?? []) as { labels: Record<string, string>; value: number }[])
    out.set(
      Object.entries(v.labels)
        .map(([k, l]) => `${k}=${l}`)
        .join(','),
      v.value,
    );
  return out;
}

test('ModelDeployment transitions and ExportJob phases: 1 for the current value, 0 for the rest', async () => {
  const registry = new Registry();
  const models: Obj[] = [
    obj('lab', 'dns-model', { transition: 'RolledBack' }),
    obj('lab', 'new', undefined),
  ];
  const exports: Obj[] = [obj('isp', 'day-1', { phase: 'Running' })];
  resourceMetrics(registry, {
    modelDeployments: listOf(models) as never,
    exportJobs: listOf(exports) as never,
  });

  const transitions = await series(registry, 'edgewarden_operator_modeldeployment_transition');
  expect(transitions.size).toBe(TRANSITIONS.length);
  expect(
    transitions.get('resource_namespace=lab,modeldeployment=dns-model,transition=RolledBack'),
  ).toBe(1);
  expect(
    transitions.get('resource_namespace=lab,modeldeployment=dns-model,transition=UpToDate'),
  ).toBe(0);
  expect([...transitions.values()].reduce((a, b) => a + b)).toBe(1);

  const phases = await series(registry, 'edgewarden_operator_exportjob_phase');
  expect(phases.size).toBe(PHASES.length);
  expect(phases.get('resource_namespace=isp,exportjob=day-1,phase=Running')).toBe(1);

  // Status moves on, and a deleted resource's series go with it at the next scrape.
  exports[0]!.status = { phase: 'Failed' };
  models.splice(0, 1);
  expect(
    (await series(registry, 'edgewarden_operator_exportjob_phase')).get(
      'resource_namespace=isp,exportjob=day-1,phase=Failed',
    ),
  ).toBe(1);
  expect((await series(registry, 'edgewarden_operator_modeldeployment_transition')).size).toBe(0);
});
