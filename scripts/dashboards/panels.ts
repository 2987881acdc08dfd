// The panel builders the dashboards are written with: a panel is a title, a description, a width
// and its PromQL queries; each kind (time series, stat, bar gauge, table) adds Grafana's field
// configuration and options for it. Every panel reads the dashboard's `datasource` variable.
import { severityRank } from '../../agent-runtime/src/http/anomalyQuery.js';
import { place, type Layout } from './layout.js';
import type { Panel, Target } from './model.js';

export const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface PanelSpec {
  title: string;
  description: string;
  /** Width in grid columns (24 per row); height defaults to 8 (4 for stats). */
  w: number;
  h?: number;
  targets: { expr: string; legend?: string }[];
  unit?: string;
  /** Per series name (the legend), a display name and colour. */
  names?: Record<string, { name: string; colour: string }>;
  stack?: boolean;
  min?: number;
  max?: number;
}

type Kind = 'timeseries' | 'stat' | 'bargauge' | 'table';

/** What a kind adds to a panel: its field configuration, options and transformations. */
type KindFields = (spec: PanelSpec, defaults: Record<string, unknown>) => Record<string, unknown>;

function overrides(spec: PanelSpec): unknown[] {
  return Object.entries(spec.names ?? {}).map(([series, { name, colour }]) => ({
    matcher: { id: 'byName', options: series },
    properties: [
      { id: 'displayName', value: name },
      { id: 'color', value: { mode: 'fixed', fixedColor: colour } },
    ],
  }));
}

function targets(spec: PanelSpec, instant: boolean): Target[] {
  return spec.targets.map((t, i) => ({
    refId: String.fromCharCode(65 + i),
    expr: t.expr,
    legendFormat: t.legend ?? '__auto',
    instant,
  }));
}

/** The value shown by stats and bar gauges: the last one in the range. */
const lastValue = () => ({ calcs: ['lastNotNull'], fields: '', values: false });
const greenThresholds = () => ({ mode: 'absolute', steps: [{ color: 'green', value: null }] });

const timeseriesFields: KindFields = (spec, defaults) => ({
  fieldConfig: {
    defaults: {
      ...defaults,
      color: { mode: 'palette-classic' },
      custom: {
        drawStyle: 'line',
        lineWidth: 1,
        fillOpacity: spec.stack ? 60 : 10,
        showPoints: 'never',
        spanNulls: false,
        stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
      },
    },
    overrides: overrides(spec),
  },
  options: {
    legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
    tooltip: { mode: 'multi', sort: 'desc' },
  },
});

const statFields: KindFields = (spec, defaults) => ({
  fieldConfig: {
    defaults: { ...defaults, color: { mode: 'thresholds' }, thresholds: greenThresholds() },
    overrides: overrides(spec),
  },
  options: {
    reduceOptions: lastValue(),
    colorMode: 'value',
    graphMode: 'area',
    justifyMode: 'auto',
    orientation: 'auto',
    textMode: 'auto',
  },
});

const bargaugeFields: KindFields = (spec, defaults) => ({
  fieldConfig: {
    defaults: { ...defaults, color: { mode: 'continuous-GrYlRd' }, thresholds: greenThresholds() },
    overrides: overrides(spec),
  },
  options: {
    displayMode: 'gradient',
    orientation: 'horizontal',
    reduceOptions: lastValue(),
    showUnfilled: true,
    valueMode: 'color',
  },
});

const tableFields: KindFields = (spec, defaults) => ({
  fieldConfig: { defaults, overrides: overrides(spec) },
  options: { showHeader: true, cellHeight: 'sm' },
  transformations: [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName: { Time: true } } },
  ],
});

const KIND_FIELDS: Record<Kind, KindFields> = {
  timeseries: timeseriesFields,
  stat: statFields,
  bargauge: bargaugeFields,
  table: tableFields,
};

/** Adds a panel of `kind` to the layout, after the last one. */
export function panel(layout: Layout, kind: Kind, spec: PanelSpec): void {
  // Tables and bar gauges show one value per series, at the end of the range.
  const instant = kind === 'bargauge' || kind === 'table';
  const h = spec.h ?? (kind === 'stat' ? 4 : 8);
  const defaults = {
    unit: spec.unit ?? 'short',
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
  };
  layout.panels.push({
    id: layout.panels.length + 1,
    type: kind,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: place(layout, spec.w, h),
    targets: targets(spec, instant).map((t) => ({
      datasource: DATASOURCE,
      editorMode: 'code',
      range: !instant,
      ...t,
      ...(kind === 'table' ? { format: 'table' } : {}),
    })),
    ...KIND_FIELDS[kind](spec, defaults),
  });
}

/** The panel added last, to adjust what its kind sets by default. */
export const lastPanel = (layout: Layout): Panel => layout.panels[layout.panels.length - 1]!;

/** Setting a stat red when its value is at least 1 (something is down, drifting, failing). */
export function redFromOne(p: Panel): Panel {
  const defaults = (p.fieldConfig as { defaults: Record<string, unknown> }).defaults;
  defaults.thresholds = {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      { color: 'red', value: 1 },
    ],
  };
  return p;
}

/** Anomaly severities by name, in the agents' own numbering (the label value is the number). */
const SEVERITIES = (['info', 'low', 'medium', 'high', 'critical'] as const).map((name) => ({
  name,
  rank: severityRank(name),
}));
const SEVERITY_COLOURS: Record<string, string> = {
  info: 'blue',
  low: 'green',
  medium: 'yellow',
  high: 'orange',
  critical: 'red',
};

/** A display name and colour for each severity series (legend `{{severity}}`). */
export const severityNames = Object.fromEntries(
  SEVERITIES.map((s) => [String(s.rank), { name: s.name, colour: SEVERITY_COLOURS[s.name]! }]),
);
