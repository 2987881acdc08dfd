// Output as kubectl prints it: a table (headers in capitals, columns two spaces apart), or the
// objects as JSON (4 spaces, as kubectl) or YAML, several of them as a List. Pure: text out.
import { stringify } from 'yaml';

import { renderTable } from '../table.js';

/** Where the plugin writes: stdout for results, stderr for warnings and errors. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};

export interface Table {
  header: string[];
  rows: string[][];
}

export const tableText = (t: Table): string => renderTable(t.header, t.rows);

/** A kubectl List of `items`. */
export const listOf = (items: unknown[]): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'List',
  items,
  metadata: { resourceVersion: '' },
});

export function documentText(document: unknown, format: 'json' | 'yaml'): string {
  return format === 'json'
    ? JSON.stringify(document, null, 4)
    : stringify(document, { lineWidth: 0 }).trimEnd();
}

/** Cut to `width` characters, with "..." when cut. */
export const truncate = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, width - 3)}...` : text;

/** "No resources found" as kubectl says it, for things of `what`. */
export const nothingFound = (what: string, namespace: string | undefined): string =>
  namespace === undefined ? `No ${what} found.` : `No ${what} found in ${namespace} namespace.`;
