// The SQL the PostgreSQL source runs: one table's rows after a watermark (a monotonic id, or
// the timestamp), with the reader's filters (programs, devices, its shard of the devices).
// Names are quoted identifiers and values parameters: nothing of the configuration is spliced
// raw into the text.
import pg from 'pg';

import { parseSourceTable } from '../contract/sourceTable.js';
import type { Preset } from './presets.js';
import { SourceError } from './sourceError.js';
import type { SourceOptions } from './sourceOptions.js';

/** Rows sharing one timestamp that a single read will take (a bound, not a page size). */
const MAX_TIED_ROWS = 1_000_000;
/** A (schema-qualified) table or column name as a quoted identifier, never spliced raw. */
export const quoteIdentifier = (identifier: string): string =>
  identifier
    .split('.')
    .map((part) => pg.escapeIdentifier(part))
    .join('.');
const q = quoteIdentifier;

/**
 * The source's table as SQL: parsed as the operator parses it (contract/sourceTable.ts), so a
 * system schema (pg_catalog, information_schema, pg_toast) is refused here too, whoever wrote the
 * configuration (issue 20, M4); each part quoted as written. Throws SourceTableRefused.
 */
export function tableIdentifier(table: string): string {
  const { schema, table: name } = parseSourceTable(table);
  return schema === undefined ? q(name) : `${q(schema)}.${q(name)}`;
}

/** The SQL expression of a row's program name (a whole tag, "dnsmasq[728]:", cut to its name). */
export function programExpression(mapping: Preset): string {
  const column = `${q(mapping.columns.program!)}::text`;
  return mapping.programIsTag ? `rtrim(split_part(${column}, '[', 1), ':')` : column;
}

/** A query's text and its parameters. */
export interface SourceQuery {
  text: string;
  values: unknown[];
}

/** A row as the read queries select it: every column as text, under a prefixed name. */
export interface Row {
  ew_wm: string;
  ew_id: string | null;
  ew_ts: string | null;
  ew_host: string | null;
  ew_program: string | null;
  ew_pid: string | null;
  ew_level: string | null;
  ew_facility: string | null;
  ew_message: string | null;
}

export class SourceQueries {
  readonly mode: 'id' | 'timestamp';
  private readonly select: string;
  private readonly filters: string;
  private readonly params: unknown[];
  private readonly table: string;
  private readonly wmColumn: string;
  private readonly cast: string;

  constructor(private readonly options: SourceOptions) {
    const cols = options.mapping.columns;
    this.mode = options.watermark ?? (cols.id ? 'id' : 'timestamp');
    if (this.mode === 'id' && !cols.id)
      throw new SourceError('watermark id needs an id column in the mapping', false);
    try {
      this.table = tableIdentifier(options.mapping.table);
    } catch (error) {
      throw new SourceError((error as Error).message, false, error);
    }
    this.wmColumn = this.mode === 'id' ? q(cols.id!) : q(cols.timestamp);
    this.cast = this.mode === 'id' ? '::numeric' : '::timestamptz';
    const expr = (c: string | undefined): string => (c ? `${q(c)}::text` : 'NULL');
    // Output names carry a prefix: in ORDER BY, PostgreSQL would take an output name like
    // "id" over the table's column of that name (and sort the text, 1, 10, 11, ...).
    this.select = [
      `${this.wmColumn}::text AS ew_wm`,
      `${expr(cols.id)} AS ew_id`,
      `${q(cols.timestamp)}::text AS ew_ts`,
      `${expr(cols.host)} AS ew_host`,
      `${expr(cols.program)} AS ew_program`,
      `${expr(cols.pid)} AS ew_pid`,
      `${expr(cols.level)} AS ew_level`,
      `${expr(cols.facility)} AS ew_facility`,
      `${q(cols.message)}::text AS ew_message`,
    ].join(', ');
    this.params = [];
    this.filters = this.filtersOf(options)
      .map((f) => ` AND ${f}`)
      .join('');
  }

  /** The reader's filters, each with its parameters pushed after the query's own two. */
  private filtersOf(options: SourceOptions): string[] {
    const cols = options.mapping.columns;
    const filters: string[] = [];
    if (options.programs?.length && cols.program) {
      this.params.push([...options.programs]);
      // A whole tag ("dnsmasq[728]:") is matched by its program name.
      const program = programExpression(options.mapping);
      filters.push(`${program} = ANY($${this.params.length + 2})`);
    }
    if (options.devices?.length && cols.host) {
      this.params.push([...options.devices]);
      filters.push(`${q(cols.host)}::text = ANY($${this.params.length + 2})`);
    }
    if (options.shard && options.shard.count > 1) {
      if (!cols.host) throw new Error('sharding by device needs a host column in the mapping');
      this.params.push(options.shard.count, options.shard.index);
      filters.push(
        `mod(abs(hashtext(coalesce(${q(cols.host)}::text, ''))::bigint), $${this.params.length + 1}) = $${this.params.length + 2}`,
      );
    }
    return filters;
  }

  /** A watermark before every row. */
  beginning(): string {
    return this.mode === 'id' ? '-9223372036854775808' : '-infinity';
  }

  /** The next `limit` rows after `watermark`, in watermark order. */
  after(watermark: string, limit: number): SourceQuery {
    return {
      text: `SELECT ${this.select} FROM ${this.table} WHERE ${this.wmColumn} > $1${this.cast}${this.filters} ORDER BY ${this.wmColumn} LIMIT $2`,
      values: [watermark, limit, ...this.params],
    };
  }

  /** Every row at one timestamp (at most MAX_TIED_ROWS), when a whole batch shares it. */
  tiedAt(timestamp: string): SourceQuery {
    return {
      text: `SELECT ${this.select} FROM ${this.table} WHERE ${this.wmColumn} = $1${this.cast}${this.filters} LIMIT $2`,
      values: [timestamp, MAX_TIED_ROWS, ...this.params],
    };
  }

  /**
   * The count of the newest `cap + 1` rows at or before `watermark`, and the newest and oldest
   * of their times (columns n, newest, oldest).
   */
  before(watermark: string, cap: number): SourceQuery {
    return {
      text: `SELECT count(*)::int AS n, max(ew_t)::text AS newest, min(ew_t)::text AS oldest FROM (
         SELECT ${q(this.options.mapping.columns.timestamp)} AS ew_t FROM ${this.table} WHERE ${this.wmColumn} <= $1${this.cast}${this.filters}
         ORDER BY ${this.wmColumn} DESC LIMIT $2) AS counted`,
      values: [watermark, cap + 1, ...this.params],
    };
  }

  /** The watermark (column wm) at the end of the table; null when it is empty. */
  end(): SourceQuery {
    return { text: `SELECT max(${this.wmColumn})::text AS wm FROM ${this.table}`, values: [] };
  }

  /**
   * The watermark (column wm) just before the rows of the last `backfillMs`: by the database's
   * clock for a timestamp watermark; for an id, the id before the period's first row, or the
   * end when no row is that recent (null when the table is empty).
   */
  backfill(backfillMs: number): SourceQuery {
    if (this.mode === 'timestamp')
      return {
        text: `SELECT (now() - $1 * interval '1 millisecond')::text AS wm`,
        values: [backfillMs],
      };
    const id = this.wmColumn;
    const time = q(this.options.mapping.columns.timestamp);
    return {
      text: `SELECT coalesce((SELECT min(${id}) - 1 FROM ${this.table} WHERE ${time} >= now() - $1 * interval '1 millisecond'), (SELECT max(${id}) FROM ${this.table}))::text AS wm`,
      values: [backfillMs],
    };
  }
}
