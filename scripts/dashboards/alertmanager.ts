// The overview's list of open edgewarden anomalies, read from Alertmanager, where the agents send
// every anomaly at or above their alertSeverity (alertname EdgewardenAnomaly, with namespace,
// agent, rule, type, device and severity labels) and keep it firing while it is open.
//
// Which Grafana panel can show them, found in Grafana's own code:
// - The Alertmanager data source runs no panel queries: its plugin.json says "metrics": false
//   (grafana/grafana public/app/plugins/datasource/alertmanager/plugin.json); it serves the
//   alerting UI only. So no table or stat can be put over it.
// - The "Alert list" panel (alertlist) lists alert *rules* of rule sources (Grafana-managed, or
//   Prometheus/Loki/Mimir rulers): an alert posted straight to Alertmanager's API, as ours are,
//   has no rule and is not listed there.
// - The "Alert groups" panel (type alertGroups, public/app/plugins/panel/alertGroups/) reads the
//   alert groups of an Alertmanager data source (GET .../api/v2/alerts/groups through Grafana's
//   proxy) and filters them in the browser by its `labels` option, comma-separated matchers as
//   Alertmanager writes them (parseMatchers, then labelsMatchMatchers on each alert's labels).
//   Its options (panelcfg.cue): alertmanager (the data source's name), expandAll, labels.
// So the list is an Alert groups panel. Two limits of that panel shape it: its `alertmanager`
// option takes no template variable (grafana/grafana#43611), and neither does its `labels`
// filter (grafana/grafana#41767). The data source is therefore named, not a variable: the one
// kube-prometheus-stack provisions (grafana.sidecar.datasources.alertmanager, name
// "Alertmanager", uid "alertmanager", on by default); and the filter holds no $namespace.
import { place, type Layout } from './layout.js';

/** The name of the Alertmanager data source the panel reads (kube-prometheus-stack's default). */
export const ALERTMANAGER_DATA_SOURCE = 'Alertmanager';

/** A label matcher, as Alertmanager's API and Grafana's panel take it. */
export interface AlertMatcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

/** What the open-anomalies panel shows: the alerts the agents send for their anomalies. */
export const openAnomaliesMatchers: readonly AlertMatcher[] = [
  { name: 'alertname', value: 'EdgewardenAnomaly', isRegex: false, isEqual: true },
];

const operator = (m: AlertMatcher) =>
  `${m.isEqual ? '=' : '!'}${m.isRegex ? '~' : m.isEqual ? '' : '='}`;

/** The matchers as the panel's `labels` option writes them: `alertname=EdgewardenAnomaly`. */
export const panelLabelFilter = (matchers: readonly AlertMatcher[]): string =>
  matchers.map((m) => `${m.name}${operator(m)}${m.value}`).join(',');

/**
 * The matchers as `filter` parameters of Alertmanager's GET /api/v2/alerts (and /alerts/groups):
 * one `name="value"` each, the value quoted as Alertmanager's matcher syntax wants it.
 */
export const alertmanagerFilters = (matchers: readonly AlertMatcher[]): string[] =>
  matchers.map((m) => `${m.name}${operator(m)}${JSON.stringify(m.value)}`);

/** Adds the Alert groups panel of the open anomalies, over the whole width. */
export function openAnomaliesPanel(layout: Layout): void {
  layout.panels.push({
    id: layout.panels.length + 1,
    type: 'alertGroups',
    title: 'Open anomalies in Alertmanager',
    description: `Anomalies the agents keep firing in Alertmanager (alertname EdgewardenAnomaly; open or acknowledged, not silenced away), grouped as Alertmanager's route groups them, read from the Alertmanager data source named "${ALERTMANAGER_DATA_SOURCE}" (kube-prometheus-stack's). Yours has another name: edit this panel's Alertmanager option. Grafana applies no dashboard variable here, so every namespace shows.`,
    gridPos: place(layout, 24, 10),
    options: {
      alertmanager: ALERTMANAGER_DATA_SOURCE,
      expandAll: true,
      labels: panelLabelFilter(openAnomaliesMatchers),
    },
  });
}
