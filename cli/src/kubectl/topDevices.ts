// `kubectl edgewarden top devices`: per namespace and device, its anomalies over --since, how
// many are open, the highest severity and the rule that found most. Pure.
import type { Table } from './output.js';
import { severityName, type ListedAnomaly } from './wire.js';

export interface DeviceFigures {
  namespace: string;
  device: string;
  anomalies: number;
  open: number;
  highest: number;
  topRule?: string;
}

export function deviceFigures(list: readonly ListedAnomaly[]): DeviceFigures[] {
  const groups = new Map<string, { figures: DeviceFigures; rules: Map<string, number> }>();
  for (const { namespace, anomaly: a } of list) {
    const key = `${namespace}\u0000${a.device}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        figures: { namespace, device: a.device, anomalies: 0, open: 0, highest: 0 },
        rules: new Map(),
      };
      groups.set(key, g);
    }
    g.figures.anomalies++;
    if (a.status === 'open') g.figures.open++;
    g.figures.highest = Math.max(g.figures.highest, a.severity);
    if (a.rule) g.rules.set(a.rule, (g.rules.get(a.rule) ?? 0) + 1);
  }
  return [...groups.values()]
    .map(({ figures, rules }) => {
      const top = [...rules].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))[0];
      return top ? { ...figures, topRule: top[0] } : figures;
    })
    .sort(
      (x, y) =>
        x.namespace.localeCompare(y.namespace) ||
        y.anomalies - x.anomalies ||
        x.device.localeCompare(y.device),
    );
}

export function deviceTable(figures: readonly DeviceFigures[], namespaces: boolean): Table {
  return {
    header: [
      ...(namespaces ? ['NAMESPACE'] : []),
      'DEVICE',
      'ANOMALIES',
      'OPEN',
      'HIGHEST',
      'TOP RULE',
    ],
    rows: figures.map((f) => [
      ...(namespaces ? [f.namespace] : []),
      f.device,
      String(f.anomalies),
      String(f.open),
      severityName(f.highest),
      f.topRule ?? '-',
    ]),
  };
}
