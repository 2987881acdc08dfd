// The Grafana dashboards (scripts/dashboards/, written to charts/edgewarden/files/dashboards/):
// in step with the code that generates them; every panel query and variable query a valid
// PromQL expression, as promtool parses it (`check rules` parses every rule's expression: each query becomes
// a recording rule); every metric
// they read one the code exports; every variable they use defined. The end-to-end suite
// (test/e2e/dashboards.test.ts) runs every query against a real Prometheus.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { stringify } from 'yaml';

import { agentNames, builtInAgents } from '../../agent-runtime/src/agents/registry.js';
import {
  ALERTMANAGER_DATA_SOURCE,
  alertmanagerFilters,
  openAnomaliesMatchers,
  panelLabelFilter,
} from '../../scripts/dashboards/alertmanager.js';
import { dashboards } from '../../scripts/dashboards/index.js';
import type { Dashboard } from '../../scripts/dashboards/model.js';
import { DASHBOARD_DIR, dashboardDrift } from '../../scripts/gen-dashboards.js';
import {
  dashboardQueries,
  metricNames,
  parseLabelValues,
  queryVariables,
  substitute,
  timeVariables,
} from '../e2e/grafana.js';
import { promtool } from '../services/promtool.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const all = dashboards();

/** Source files of the product code (tests excluded), for the metrics they define. */
async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, dir), { withFileTypes: true, recursive: true }))
    if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
      out.push(path.join(entry.parentPath, entry.name));
  return out;
}

/**
 * Every metric name the agents and the operator export, read from the code: each prom-client
 * metric's `name`, a histogram's _bucket/_sum/_count series, and the default process and
 * Node.js metrics prom-client itself registers under each prefix the code gives it. Plus
 * `up`, which Prometheus records for every target.
 */
async function exportedMetrics(): Promise<Map<string, string>> {
  const names = new Map<string, string>([['up', 'Prometheus, per target']]);
  const add = (name: string, type: string, where: string) => {
    for (const suffix of type === 'Histogram' || type === 'histogram'
      ? ['_bucket', '_sum', '_count']
      : type === 'Summary' || type === 'summary'
        ? ['', '_sum', '_count']
        : [''])
      names.set(`${name}${suffix}`, where);
  };
  const prefixes = new Set<string>();
  for (const file of [
    ...(await sources('agent-runtime/src')),
    ...(await sources('operator/src')),
  ]) {
    const text = await readFile(file, 'utf8');
    const where = path.relative(root, file);
    for (const m of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\(\{\s*name:\s*'([^']+)'/g))
      add(m[2]!, m[1]!, where);
    for (const m of text.matchAll(/collectDefaultMetrics\(\{[^}]*prefix:\s*'([^']+)'/g))
      prefixes.add(m[1]!);
  }
  for (const prefix of prefixes) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix });
    for (const m of await registry.getMetricsAsJSON())
      add(m.name, String(m.type), `prom-client default metrics (prefix ${prefix})`);
    registry.clear();
  }
  return names;
}

test('the dashboard files are what scripts/dashboards/ generates from the code', async () => {
  const problems = await dashboardDrift(root);
  if (problems.length > 0)
    throw new Error(
      `${DASHBOARD_DIR} is out of step with the code; run npm run generate:dashboards:\n  ${problems.join('\n  ')}`,
    );
});

test('an overview, the operator and one dashboard per built-in agent, with unique uids', () => {
  const uids = all.map((f) => f.dashboard.uid);
  expect(uids).toEqual([
    'edgewarden-overview',
    'edgewarden-operator',
    ...agentNames.map((n) => `edgewarden-agent-${n}`),
  ]);
  for (const uid of uids) expect(uid.length).toBeLessThanOrEqual(40); // Grafana's limit
  // Each agent's dashboard names its features and what it reads, from the registry.
  for (const name of agentNames) {
    const d = all.find((f) => f.dashboard.uid === `edgewarden-agent-${name}`)!.dashboard;
    const text = JSON.stringify(d);
    for (const feature of builtInAgents[name].features) expect(text).toContain(feature);
    for (const program of builtInAgents[name].programs ?? []) expect(text).toContain(program);
    // Every query is this agent's, but for `up` and the process metrics, which have no
    // agent label (their pods are this agent's through the analysisagent variable).
    for (const { where, expr } of dashboardQueries(d)) {
      const names = metricNames(expr);
      if (names.every((n) => n === 'up' || n.startsWith('edgewarden_process_'))) continue;
      expect({ where, expr: expr.includes(`agent="${name}"`) }).toEqual({ where, expr: true });
    }
  }
});

test("only the overview has an Alertmanager panel: the agents' anomaly alerts, from the named data source", () => {
  const lists = all.flatMap(({ dashboard: d }) =>
    d.panels.filter((p) => p.type === 'alertGroups').map((p) => ({ uid: d.uid, p })),
  );
  expect(lists.map((l) => l.uid)).toEqual(['edgewarden-overview']);
  const { p } = lists[0]!;
  // Grafana's Alert groups panel: no queries; its options name the data source and the filter.
  expect(p.targets).toBeUndefined();
  expect(p.options).toEqual({
    alertmanager: ALERTMANAGER_DATA_SOURCE,
    expandAll: true,
    labels: 'alertname=EdgewardenAnomaly',
  });
  // No dashboard variable in its options: Grafana would not replace it (grafana#41767, #43611).
  expect(JSON.stringify(p.options)).not.toContain('$');
});

test("the open anomalies' matchers, as the panel and as Alertmanager's API write them", () => {
  expect(panelLabelFilter(openAnomaliesMatchers)).toBe('alertname=EdgewardenAnomaly');
  expect(alertmanagerFilters(openAnomaliesMatchers)).toEqual(['alertname="EdgewardenAnomaly"']);
  const every = [
    { name: 'a', value: 'x', isRegex: false, isEqual: true },
    { name: 'b', value: 'x|y', isRegex: true, isEqual: true },
    { name: 'c', value: 'x', isRegex: false, isEqual: false },
    { name: 'd', value: 'x.*', isRegex: true, isEqual: false },
  ];
  expect(panelLabelFilter(every)).toBe('a=x,b=~x|y,c!=x,d!~x.*');
  expect(alertmanagerFilters(every)).toEqual(['a="x"', 'b=~"x|y"', 'c!="x"', 'd!~"x.*"']);
});

describe.each(all.map((f) => [f.dashboard.uid, f.dashboard] as [string, Dashboard]))(
  'dashboard %s',
  (_uid, d) => {
    test('panels have unique ids, fit the 24-column grid, and query the dashboard data source', () => {
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        expect(p.description).toBeTruthy();
        // The Alert groups panel reads an Alertmanager, not Prometheus (the test below).
        if (p.type === 'alertGroups') continue;
        expect({ title: p.title, targets: (p.targets?.length ?? 0) > 0 }).toEqual({
          title: p.title,
          targets: true,
        });
        expect(p.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
      }
      expect(d.templating.list[0]).toMatchObject({
        name: 'datasource',
        type: 'datasource',
        query: 'prometheus',
      });
    });

    test('every variable a query uses is defined, before it is used', () => {
      const defined = new Set(['datasource']);
      const builtins = Object.keys(timeVariables(3600, 30, 30));
      const values = (known: Set<string>) =>
        Object.fromEntries([...builtins, ...known].map((n) => [n, 'x']));
      for (const v of queryVariables(d)) {
        substitute(v.definition!, values(defined)); // throws on an undefined variable
        defined.add(v.name);
      }
      for (const { expr } of dashboardQueries(d)) substitute(expr, values(defined));
    });

    test('every metric read is one the code exports', async () => {
      const exported = await exportedMetrics();
      // The allow-list really is the code's: a few names that must be in it.
      for (const name of [
        'edgewarden_lines_read_total',
        'edgewarden_cycle_duration_seconds_bucket',
        'edgewarden_process_resident_memory_bytes',
        'edgewarden_operator_reconcile_total',
        'edgewarden_operator_nodejs_eventloop_lag_p99_seconds',
      ])
        expect(exported.has(name)).toBe(true);
      const unknown = dashboardQueries(d).flatMap(({ where, expr }) =>
        metricNames(expr)
          .filter((name) => !exported.has(name))
          .map((name) => `${where}: ${name}`),
      );
      expect(unknown).toEqual([]);
    });
  },
);

interface QueryRule {
  record: string;
  expr: string;
  labels: { where: string };
}

/**
 * Runs `promtool check rules` on the queries, each a recording rule; returns the queries it
 * refused ("<group> <where>: <expr>", with promtool's output), or [] when it accepts them all.
 */
async function promtoolRefusals(groups: { name: string; rules: QueryRule[] }[]): Promise<string[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-dashboards-'));
  try {
    const file = path.join(dir, 'queries.yaml');
    await writeFile(file, stringify({ groups }));
    const bin = await promtool();
    const output = await new Promise<string>((resolve) =>
      execFile(bin, ['check', 'rules', file], (error, stdout, stderr) =>
        resolve(error ? `FAILED\n${stdout}${stderr}` : `${stdout}${stderr}`),
      ),
    );
    if (/SUCCESS: \d+ rules found/.test(output) && !output.startsWith('FAILED')) return [];
    // promtool's messages give the group and the rule's number.
    const refused = [...output.matchAll(/group "([^"]+)", rule (\d+)/g)].map(([, g, n]) => {
      const rule = groups.find((x) => x.name === g)?.rules[Number(n) - 1];
      return `${g} ${rule?.labels.where}: ${rule?.expr}`;
    });
    return [...refused, output];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('promtool parses every panel and variable query of every dashboard', async () => {
  // Grafana's variables replaced by values of the right shape: durations, and regexes.
  const groups = all.map(({ dashboard: d }) => {
    const values: Record<string, string> = { ...timeVariables(6 * 3600, 30, 30) };
    for (const v of queryVariables(d)) values[v.name] = '(a|b)';
    return {
      name: d.uid,
      rules: dashboardQueries(d).map(({ where, expr }, i) => ({
        record: `dashboard:${d.uid.replace(/-/g, '_')}:q${i}`,
        expr: substitute(expr, values),
        labels: { where },
      })),
    };
  });
  expect(groups.flatMap((g) => g.rules).length).toBeGreaterThan(100);
  expect(await promtoolRefusals(groups)).toEqual([]);
});

test('the promtool check refuses a broken query, and names it', async () => {
  const refusals = await promtoolRefusals([
    {
      name: 'broken',
      rules: [
        { record: 'ok', expr: 'sum(up)', labels: { where: 'panel "fine" (A)' } },
        {
          record: 'bad',
          expr: 'sum by (agent (rate(edgewarden_lines_read_total[1m]))',
          labels: { where: 'panel "broken" (A)' },
        },
      ],
    },
  ]);
  expect(refusals[0]).toBe(
    'broken panel "broken" (A): sum by (agent (rate(edgewarden_lines_read_total[1m]))',
  );
});

test('label_values() variables are well formed', () => {
  for (const { dashboard: d } of all)
    for (const v of queryVariables(d)) expect(() => parseLabelValues(v.definition!)).not.toThrow();
});

test('metricNames finds what a query selects, and nothing else', () => {
  expect(
    metricNames(
      'histogram_quantile(0.95, sum by (controller, le) (rate(edgewarden_operator_reconcile_duration_seconds_bucket{namespace=~"a|b"}[5m]))) / on (x) group_left (y) up offset 1e3',
    ),
  ).toEqual(['edgewarden_operator_reconcile_duration_seconds_bucket', 'up']);
  expect(
    metricNames('time() - max by (device) (edgewarden_device_last_line_timestamp_seconds)'),
  ).toEqual(['edgewarden_device_last_line_timestamp_seconds']);
  expect(metricNames('sum(1 - up{container="agent"}) or vector(0)')).toEqual(['up']);
});
