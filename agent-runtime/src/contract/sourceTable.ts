// Which relation a source's table names, as the agent and the exporter read it (issue 20, M4).
// They quote each dot-separated part as one identifier, case kept (sourceQueries.ts), so
// `PG_CATALOG.x` names a schema "PG_CATALOG", and `"a"."b"` a schema whose name holds quotes.
// A name is parsed here the same way, once, for the agent runtime (which refuses system schemas
// before it reads: a hand-run `edgewarden export` too) and for the operator (which also holds
// every table beyond the presets' to its administrator's list).
import { presets } from '../source/presets.js';

/** A table as the agent reads it: the schema as written (none: the search path's), the table. */
export interface SourceTableName {
  schema?: string;
  table: string;
}

/** Why a table name is never read. */
export class SourceTableRefused extends Error {
  readonly reason = 'SourceTableNotAllowed';

  constructor(message: string) {
    super(message);
    this.name = 'SourceTableRefused';
  }
}

/** The schema a name without one is taken to be in, for the administrator's list. */
export const DEFAULT_SCHEMA = 'public';

/** The presets' tables: read without being listed (each in the default schema). */
export const PRESET_TABLES: readonly string[] = Object.values(presets).map((p) => p.table);

/**
 * PostgreSQL's own schemas: pg_catalog, pg_toast, the pg_temp_N and pg_toast_temp_N of
 * sessions (PostgreSQL refuses user schemas named pg_*), and information_schema. Compared
 * without regard to case or surrounding blanks: refusing a look-alike costs nothing.
 */
export function isSystemSchema(schema: string): boolean {
  const s = schema.trim().toLowerCase();
  return s.startsWith('pg_') || s === 'information_schema';
}

/**
 * `name` as the agent would read it, or SourceTableRefused: a name of more than two parts (a
 * catalog-qualified name reaches any schema), an empty part, quotes (the agent quotes each part
 * itself), a system schema, or an unqualified `pg_*` name (the search path looks in pg_catalog
 * first, so `pg_stat_activity` alone is pg_catalog's).
 */
export function parseSourceTable(name: string): SourceTableName {
  const parts = name.split('.');
  const refuse = (why: string) => new SourceTableRefused(`table "${name}": ${why}`);
  if (parts.length > 2) throw refuse('a table is named table or schema.table');
  if (parts.some((p) => p.trim() === '')) throw refuse('a part of the name is empty');
  if (name.includes('"'))
    throw refuse('write the name without quotes: each part is quoted as written, case kept');
  const [schema, table] = parts.length === 2 ? parts : [undefined, parts[0]!];
  if (schema !== undefined && isSystemSchema(schema))
    throw refuse(`${schema} is a system schema: never read`);
  if (schema === undefined && /^\s*pg_/i.test(table))
    throw refuse('an unqualified pg_ name is found in the system schema pg_catalog: never read');
  return schema === undefined ? { table } : { schema, table };
}

/** The name an administrator's list holds for `t`: schema.table, the schema public when none. */
export const qualifiedName = (t: SourceTableName): string =>
  `${t.schema ?? DEFAULT_SCHEMA}.${t.table}`;
