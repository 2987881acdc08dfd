// edgewarden's Grafana dashboards, built from the code: an overview of every agent, one
// dashboard per built-in agent (the list, each agent's programs and features, from the agent
// registry), and one for the operator. Pure: `dashboards()` returns the JSON models, and
// scripts/gen-dashboards.ts writes them to charts/edgewarden/files/dashboards/, where the
// chart turns each into a ConfigMap for Grafana's dashboard sidecar (dashboards.enabled).
//
// Every query uses only metrics the code exports (test/unit/dashboards.test.ts checks the
// names against the code and parses every expression with promtool; the end-to-end suite runs
// every query against a real Prometheus scraping the operator and agents) and the labels the
// chart's PodMonitor and ServiceMonitor give each series: namespace, pod, container.
import { builtInAgents, agentNames } from '../../agent-runtime/src/agents/registry.js';
import { agentDashboard } from './agent.js';
import type { DashboardFile } from './model.js';
import { operatorDashboard } from './operator.js';
import { overview } from './overview.js';

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
