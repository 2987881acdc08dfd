// Where each panel goes on Grafana's grid (24 columns): panels are placed left to right and wrap
// to a new line when the next one does not fit; a row header starts a new line of its own. A
// panel's id is its place in the dashboard, so the order panels are added in is their order.
import type { Panel } from './model.js';

export interface Layout {
  panels: Panel[];
  x: number;
  y: number;
  rowHeight: number;
}

export const newLayout = (): Layout => ({ panels: [], x: 0, y: 0, rowHeight: 0 });

function newLine(layout: Layout): void {
  layout.x = 0;
  layout.y += layout.rowHeight;
  layout.rowHeight = 0;
}

/** The grid position of the next panel of w by h, moving the layout past it. */
export function place(layout: Layout, w: number, h: number): Panel['gridPos'] {
  if (layout.x + w > 24) newLine(layout);
  const pos = { h, w, x: layout.x, y: layout.y };
  layout.x += w;
  layout.rowHeight = Math.max(layout.rowHeight, h);
  return pos;
}

/** A row header (a dashboard section), on a line of its own. */
export function row(layout: Layout, title: string): void {
  if (layout.x > 0) newLine(layout);
  layout.panels.push({
    id: layout.panels.length + 1,
    type: 'row',
    title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0, y: layout.y },
    panels: [],
  });
  layout.y += 1;
}
