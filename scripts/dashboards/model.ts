// The part of Grafana's dashboard JSON model that edgewarden's dashboards fill in, and that the
// tests (promtool, the end-to-end Prometheus and Grafana) read back: panels with their queries,
// and template variables.
export interface Target {
  refId: string;
  expr: string;
  legendFormat: string;
  /** Evaluated once, at the end of the dashboard's range (tables, bar gauges); else a range. */
  instant: boolean;
}

export interface Panel {
  id: number;
  /** alertGroups: Grafana's Alert groups panel, which reads an Alertmanager, not Prometheus. */
  type: 'row' | 'timeseries' | 'stat' | 'bargauge' | 'table' | 'alertGroups';
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
