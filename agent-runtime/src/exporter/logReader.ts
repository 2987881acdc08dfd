// Reads the logs of [from, to) from the collector's table, as the AnalysisAgent reads them
// (its table and columns, its TLS settings, read-only sessions in UTC), through a server-side
// cursor: one REPEATABLE READ READ ONLY transaction, DECLARE ... CURSOR, FETCH batchSize. Rows
// come ordered by (timestamp, id), or without an id column by the timestamp and then every
// column, so the place reached is a key the run can resume after. A lost connection is
// retried with backoff, the cursor declared again after the last row handed out.
import pg from 'pg';

import type { PostgresConnection } from '../source/postgresSource.js';
import {
  isRetryable,
  poolConfig,
  programExpression,
  quoteIdentifier as q,
  sslOption,
  tableIdentifier,
} from '../source/postgresSource.js';
import type { Preset } from '../source/presets.js';
import { LEVELS } from '../parse/priority.js';
import type { LogKey } from './checkpoint.js';
import { retryWithJitter } from '../retry.js';
import { componentLog } from '../log.js';
import { ExportFailure, type Level } from './plan.js';
import { exportExit } from '../contract/export.js';

const log = componentLog('export', 'stdout');

/** One row: [ts, id, host, program, pid, level, facility, message], each as text or null. */
export type LogRow = (string | null)[];
export const COL = {
  ts: 0,
  id: 1,
  host: 2,
  program: 3,
  pid: 4,
  level: 5,
  facility: 6,
  message: 7,
} as const;

export interface LogReaderOptions {
  connection: PostgresConnection;
  mapping: Preset;
  from: string;
  to: string;
  programs?: readonly string[];
  devices?: readonly string[];
  levels?: readonly Level[];
  batchSize: number;
  retries?: number;
  retryDelayMs?: number;
  /** Per statement: counting a large table takes a while. */
  statementTimeoutMs?: number;
}

const TIME_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone']);
const LEVEL_SPELLINGS: Record<string, string[]> = {
  emerg: ['emerg', 'emergency', 'panic'],
  err: ['err', 'error'],
  warning: ['warning', 'warn'],
  crit: ['crit', 'critical'],
};

const badSpec = (reason: string, message: string): ExportFailure =>
  new ExportFailure(reason, message, exportExit.badSpec);

export class LogReader {
  private client: pg.Client | undefined;
  private readonly select: string;
  /** The table as SQL; a system schema is refused before anything is read (issue 20, M4). */
  private readonly table: string;
  private readonly where: string;
  private readonly order: string;
  private readonly params: unknown[];
  private readonly hasId: boolean;
  /** The key after the last row handed out. */
  private key: LogKey | undefined;
  /** Rows at key.ts to pass over after declaring the cursor again (no id column). */
  private toSkip = 0;
  private plainFallback = false;

  constructor(private readonly options: LogReaderOptions) {
    const cols = options.mapping.columns;
    try {
      this.table = tableIdentifier(options.mapping.table);
    } catch (error) {
      throw badSpec('SourceTableNotAllowed', (error as Error).message);
    }
    this.hasId = cols.id !== undefined;
    const text = (c: string | undefined): string => (c ? `${q(c)}::text` : 'NULL');
    this.select = [
      text(cols.timestamp),
      text(cols.id),
      text(cols.host),
      text(cols.program),
      text(cols.pid),
      text(cols.level),
      text(cols.facility),
      text(cols.message),
    ].join(', ');
    const ts = q(cols.timestamp);
    const where = [`${ts} >= $1`, `${ts} < $2`];
    this.params = [options.from, options.to];
    if (options.programs?.length) {
      this.params.push([...options.programs]);
      where.push(`${programExpression(options.mapping)} = ANY($${this.params.length})`);
    }
    if (options.devices?.length) {
      this.params.push([...options.devices]);
      where.push(`${q(cols.host!)}::text = ANY($${this.params.length})`);
    }
    if (options.levels?.length) {
      // Levels as the agent reads them: a name in any of its spellings, or a syslog severity number.
      const spellings = options.levels.flatMap((l) => [
        ...(LEVEL_SPELLINGS[l] ?? [l]),
        String(LEVELS.indexOf(l)),
      ]);
      this.params.push(spellings);
      where.push(`lower(btrim(${q(cols.level!)}::text)) = ANY($${this.params.length})`);
    }
    this.where = where.join(' AND ');
    // Without an id, ties at one timestamp are ordered by every column: identical rows are
    // interchangeable, so skipping n of them on resume skips the right ones.
    this.order = this.hasId
      ? `${ts}, ${q(cols.id!)}`
      : [
          ts,
          ...[cols.host, cols.program, cols.pid, cols.level, cols.facility, cols.message]
            .filter((c): c is string => c !== undefined)
            .map((c) => `${q(c)}::text COLLATE "C"`),
        ].join(', ');
  }

  private async connect(): Promise<pg.Client> {
    const base = poolConfig({
      connection: this.options.connection,
      mapping: this.options.mapping,
      batchSize: this.options.batchSize,
      statementTimeoutMs: this.options.statementTimeoutMs ?? 600_000,
      applicationName: 'edgewarden-export',
    });
    const config: pg.ClientConfig = {
      host: base.host,
      port: base.port,
      database: base.database,
      user: base.user,
      password: base.password,
      ssl: this.plainFallback ? false : sslOption(this.options.connection),
      connectionTimeoutMillis: base.connectionTimeoutMillis,
      statement_timeout: base.statement_timeout,
      application_name: base.application_name,
      options: base.options,
    };
    const client = new pg.Client(config);
    // A connection lost between queries must not crash the process: the next query retries.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      if (
        this.options.connection.sslMode === 'prefer' &&
        !this.plainFallback &&
        /does not support SSL/i.test(String(error))
      ) {
        this.plainFallback = true; // sslmode prefer: no TLS on the server, go on without it
        return this.connect();
      }
      throw error;
    }
    return client;
  }

  /** Runs `work` with retries on connection loss and the like; other errors go up. */
  private async retrying<T>(what: string, work: () => Promise<T>): Promise<T> {
    const attempts = Math.max(1, this.options.retries ?? 6);
    const where = `${what} ${this.options.mapping.table}`;
    try {
      return await retryWithJitter(work, {
        attempts,
        delayMs: this.options.retryDelayMs ?? 500,
        maxDelayMs: 15_000,
        retryable: (error) => !(error instanceof ExportFailure) && isRetryable(error),
        onRetry: async (error) => {
          await this.drop();
          log.info(`${where}: ${(error as Error).message}; retrying`);
        },
      });
    } catch (error) {
      if (error instanceof ExportFailure) throw error;
      await this.drop();
      // A retryable error comes out of the loop only once every attempt is spent.
      const retryable = isRetryable(error);
      throw new ExportFailure(
        retryable ? 'SourceUnavailable' : 'SourceError',
        `${where}: ${(error as Error).message}${retryable ? ` (after ${attempts} attempts)` : ''}`,
      );
    }
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /**
   * Checks the table and every mapped column exist and the timestamp column holds times;
   * a plan that cannot work fails with badSpec (UnknownTable, UnknownColumn, BadColumnType).
   */
  async inspect(): Promise<void> {
    const { table, columns } = this.options.mapping;
    await this.retrying('inspecting', async () => {
      const client = await this.connect();
      try {
        const found = await client.query<{ oid: string | null }>(
          'SELECT to_regclass($1)::oid::text AS oid',
          [this.table],
        );
        const oid = found.rows[0]?.oid;
        if (!oid)
          throw badSpec(
            'UnknownTable',
            `table ${table} does not exist (or the role cannot see it) in database ${this.options.connection.database}`,
          );
        const attributes = await client.query<{ name: string; type: string }>(
          `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
           WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
          [oid],
        );
        const types = new Map(attributes.rows.map((r) => [r.name, r.type]));
        for (const [role, column] of Object.entries(columns) as [string, string | undefined][]) {
          if (column === undefined) continue;
          if (!types.has(column))
            throw badSpec(
              'UnknownColumn',
              `column ${column} (the ${role} column) does not exist in table ${table}; it has ${[...types.keys()].join(', ')}`,
            );
        }
        const tsType = types.get(columns.timestamp)!;
        if (!TIME_TYPES.has(tsType))
          throw badSpec(
            'BadColumnType',
            `column ${columns.timestamp} (the timestamp column) of table ${table} is ${tsType}; the export needs a timestamp or timestamptz column`,
          );
        const needs = (filter: string, role: string, column: string | undefined): void => {
          if (column === undefined)
            throw badSpec(
              'UnknownColumn',
              `filters.${filter} needs a ${role} column, and the mapping of table ${table} has none`,
            );
        };
        if (this.options.programs?.length) needs('programs', 'program', columns.program);
        if (this.options.devices?.length) needs('devices', 'host', columns.host);
        if (this.options.levels?.length) needs('levels', 'level', columns.level);
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  }

  /** Opens the cursor after `key` (from the start without one) and counts the window's rows. */
  async open(key: LogKey | undefined): Promise<number> {
    this.key = key;
    return this.retrying('reading', async () => {
      await this.declare();
      const counted = await this.client!.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM ${this.table} WHERE ${this.where}`,
        this.params,
      );
      return Number(counted.rows[0]!.n);
    });
  }

  private async declare(): Promise<void> {
    await this.drop();
    const client = await this.connect();
    this.client = client;
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const params = [...this.params];
    let after = '';
    const ts = q(this.options.mapping.columns.timestamp);
    const key = this.key;
    this.toSkip = 0;
    if (key && this.hasId) {
      params.push(key.ts, key.id);
      after = ` AND (${ts}, ${q(this.options.mapping.columns.id!)}) > ($${params.length - 1}, $${params.length})`;
    } else if (key) {
      params.push(key.ts);
      after = ` AND ${ts} >= $${params.length}`;
      this.toSkip = key.skip ?? 0;
    }
    await client.query(
      `DECLARE ew_export NO SCROLL CURSOR FOR SELECT ${this.select} FROM ${this.table} WHERE ${this.where}${after} ORDER BY ${this.order}`,
      params,
    );
  }

  /** The next rows (empty at the end). */
  async next(): Promise<LogRow[]> {
    return this.retrying('reading', async () => {
      if (!this.client) await this.declare();
      for (;;) {
        const result = await this.client!.query<LogRow>({
          text: `FETCH ${this.options.batchSize} FROM ew_export`,
          rowMode: 'array',
        });
        let rows = result.rows;
        if (this.toSkip > 0 && rows.length > 0) {
          // Rows at the key's time that were handed out before the cursor was declared again.
          let n = 0;
          while (n < rows.length && n < this.toSkip && rows[n]![COL.ts] === this.key!.ts) n++;
          this.toSkip = n < rows.length ? 0 : this.toSkip - n;
          rows = rows.slice(n);
          if (rows.length === 0) continue;
        }
        this.advance(rows);
        return rows;
      }
    });
  }

  private advance(rows: LogRow[]): void {
    this.key = keyAfter(rows, this.key, this.hasId);
  }

  async close(): Promise<void> {
    if (this.client) await this.client.query('COMMIT').catch(() => undefined);
    await this.drop();
  }
}

/**
 * The key after `rows` (handed out in order after `key`): the last row's (ts, id), or without
 * an id the last time and how many rows at that time have been handed out.
 */
export function keyAfter(
  rows: LogRow[],
  key: LogKey | undefined,
  hasId: boolean,
): LogKey | undefined {
  if (rows.length === 0) return key;
  const last = rows[rows.length - 1]!;
  if (hasId) return { ts: last[COL.ts]!, id: last[COL.id]! };
  const lastTs = last[COL.ts]!;
  let n = 0;
  for (let i = rows.length - 1; i >= 0 && rows[i]![COL.ts] === lastTs; i--) n++;
  const before = key?.ts === lastTs ? (key.skip ?? 0) : 0;
  return { ts: lastTs, skip: n === rows.length ? before + n : n };
}
