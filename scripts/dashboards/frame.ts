// What every edgewarden dashboard has around its panels: the data-source variable, query
// variables over label values, and the frame (tags, refresh, time range, links to the others).
import type { Layout } from './layout.js';
import type { Dashboard, Variable } from './model.js';
import { DATASOURCE } from './panels.js';

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
export function labelVariable(
  name: string,
  label: string,
  definition: string,
  regex = '',
): Variable {
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

/** A dashboard of the layout's panels, with the data-source variable before `variables`. */
export function dashboard(
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
