// Which PostgreSQL tables an AnalysisAgent (and an ExportJob through it) may read (issue 20, M4).
// The presets' tables always; any other only when the operator's administrator lists it
// (--allowed-source-tables, the chart's operator.allowedSourceTables); a system schema never,
// listed or not. Names are compared as the agent reads them (contract/sourceTable.ts): each part
// one identifier, case kept, an unqualified name in the schema public for the list.
import {
  DEFAULT_SCHEMA,
  parseSourceTable,
  PRESET_TABLES,
  qualifiedName,
  SourceTableRefused,
} from '../../../agent-runtime/src/contract/sourceTable.js';

export const SOURCE_TABLE_NOT_ALLOWED = 'SourceTableNotAllowed';
export const ALLOWED_SOURCE_TABLES_FLAG = '--allowed-source-tables';

/** The source fields the decision reads (an AnalysisAgent's spec.source). */
export interface SourceTableSpec {
  preset?: string;
  table?: string;
}

export type SourceTableDecision =
  { allowed: true } | { allowed: false; reason: typeof SOURCE_TABLE_NOT_ALLOWED; message: string };

const presetNames = new Set(PRESET_TABLES.map((t) => `${DEFAULT_SCHEMA}.${t}`));

/**
 * The administrator's list as schema.table names, or what is wrong with it (naming the entry):
 * an entry the agent would not read as written, or in a system schema, stops the operator at
 * start rather than being dropped quietly.
 */
export function parseAllowedSourceTables(entries: readonly string[]): string[] | string {
  const names: string[] = [];
  for (const entry of entries.map((e) => e.trim()).filter((e) => e !== '')) {
    try {
      names.push(qualifiedName(parseSourceTable(entry)));
    } catch (error) {
      if (!(error instanceof SourceTableRefused)) throw error;
      return `${ALLOWED_SOURCE_TABLES_FLAG}: ${error.message}`;
    }
  }
  return [...new Set(names)];
}

/**
 * Whether an agent may read the table its source names: none named (the preset's own), a
 * preset's table, or one on `allowed` (parsed by parseAllowedSourceTables). Refused: anything
 * else, a system schema even if listed, a name the agent would not read as written.
 */
export function sourceTableDecision(
  source: SourceTableSpec,
  allowed: readonly string[],
): SourceTableDecision {
  if (source.table === undefined) return { allowed: true };
  const refused = (why: string): SourceTableDecision => ({
    allowed: false,
    reason: SOURCE_TABLE_NOT_ALLOWED,
    message: `spec.source.table: ${why}`,
  });
  let name: string;
  try {
    name = qualifiedName(parseSourceTable(source.table));
  } catch (error) {
    if (!(error instanceof SourceTableRefused)) throw error;
    return refused(error.message);
  }
  if (presetNames.has(name) || allowed.includes(name)) return { allowed: true };
  return refused(
    `table "${source.table}" (${name}) is neither a preset's table nor allowed by the ` +
      `operator's administrator (${ALLOWED_SOURCE_TABLES_FLAG}, the chart's ` +
      'operator.allowedSourceTables)',
  );
}
