// Reads the logs of [from, to) from the collector's table, as the AnalysisAgent reads them
// (its table and columns, its TLS settings, read-only sessions in UTC), through PostgreSQL's
// own COPY (SELECT ...) TO STDOUT in text format: one REPEATABLE READ READ ONLY transaction
// counts the window and then streams it, and copyText.ts decodes the bytes, so node-postgres
// parses no row (a server-side cursor FETCHed through pg took 6.8 times COPY's time). COPY
// takes no bind parameters, so every value is written into the statement as a literal by
// node-postgres' escapeLiteral. Rows come ordered by (timestamp, id), or without an id column
// by the timestamp and then every column, so the place reached is a key the run can resume
// after. The stream is read only as batches are asked for (about one batch decoded at a
// time; the connection is paused meanwhile), so memory does not grow with the table. A lost
// connection is retried with backoff, the COPY issued again after the last row handed out.
import pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

import type { PostgresConnection } from '../source/postgresSource.js';
import { isRetryable, poolConfig, sslOption } from '../source/postgresSource.js';
import type { LogKey } from './checkpoint.js';
import { retryWithJitter } from '../retry.js';
import { componentLog } from '../log.js';
import { ExportFailure } from './plan.js';
import { exportExit } from '../contract/export.js';
import { CopyTextDecoder } from './copyText.js';
import { LogCopyQuery, type LogWindow } from './logCopyQuery.js';

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

export interface LogReaderOptions extends LogWindow {
  connection: PostgresConnection;
  batchSize: number;
  retries?: number;
  retryDelayMs?: number;
  /** Per statement: counting a large table takes a while. */
  statementTimeoutMs?: number;
}

const TIME_TYPES = new Set(['timestamp with time zone', 'timestamp without time zone']);
/** The COPY being read: its rows come out of `chunks` as the decoder completes them. */
interface ActiveCopy {
  chunks: AsyncIterator<Buffer>;
  decoder: CopyTextDecoder;
  done: boolean;
}

const badSpec = (reason: string, message: string): ExportFailure =>
  new ExportFailure(reason, message, exportExit.badSpec);

export class LogReader {
  private client: pg.Client | undefined;
  private readonly query: LogCopyQuery;
  /** The table as SQL; a system schema is refused before anything is read (issue 20, M4). */
  private readonly table: string;
  private readonly hasId: boolean;
  /** The key after the last row handed out. */
  private key: LogKey | undefined;
  /** Rows at key.ts to pass over after issuing the COPY again (no id column). */
  private toSkip = 0;
  private copy: ActiveCopy | undefined;
  /** Rows decoded and not yet handed out: about one batch at most. */
  private pending: LogRow[] = [];
  private plainFallback = false;

  constructor(private readonly options: LogReaderOptions) {
    try {
      this.query = new LogCopyQuery(options);
    } catch (error) {
      throw badSpec('SourceTableNotAllowed', (error as Error).message);
    }
    this.table = this.query.table;
    this.hasId = this.query.hasId;
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
    this.copy = undefined;
    this.pending = [];
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

  /** Starts reading after `key` (from the start without one) and counts the window's rows. */
  async open(key: LogKey | undefined): Promise<number> {
    this.key = key;
    return this.retrying('reading', async () => {
      await this.begin();
      const counted = await this.client!.query<{ n: string }>(this.query.count());
      const n = Number(counted.rows[0]!.n);
      await this.startCopy();
      return n;
    });
  }

  /** A new connection in the snapshot transaction that counts and then copies. */
  private async begin(): Promise<void> {
    await this.drop();
    this.client = await this.connect();
    await this.client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  /** The COPY of the rows after the key, in the transaction begun. */
  private async startCopy(): Promise<void> {
    const client = this.client!;
    this.toSkip = this.key && !this.hasId ? (this.key.skip ?? 0) : 0;
    // The COPY is one statement for the whole window, read as fast as the files are written:
    // the per-statement timeout (meant for the count) would cut a long export short. Its text
    // is UTF-8, as node-postgres decoded the cursor's rows.
    await client.query(`SET LOCAL statement_timeout = 0`);
    await client.query(`SET LOCAL client_encoding = 'UTF8'`);
    const stream = client.query(copyTo(this.query.copy(this.key)));
    this.copy = {
      chunks: (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator](),
      decoder: new CopyTextDecoder(),
      done: false,
    };
    this.pending = [];
  }

  /** The next rows, batchSize of them (fewer at the end, none after it). */
  async next(): Promise<LogRow[]> {
    const size = this.options.batchSize;
    return this.retrying('reading', async () => {
      if (!this.copy) {
        await this.begin();
        await this.startCopy();
      }
      const copy = this.copy!;
      // The stream is pulled only here: between batches it stops reading the connection, so
      // the server waits on a full socket instead of the rows piling up in memory.
      while (this.pending.length < size && !copy.done) {
        const chunk = await copy.chunks.next();
        if (chunk.done) {
          copy.decoder.end();
          copy.done = true;
          break;
        }
        for (const row of copy.decoder.push(chunk.value)) this.take(row);
      }
      const rows = this.pending.length <= size ? this.pending : this.pending.slice(0, size);
      this.pending = this.pending.length <= size ? [] : this.pending.slice(size);
      this.advance(rows);
      return rows;
    });
  }

  /** Keeps a decoded row for the batches, unless it was handed out before the COPY began again. */
  private take(row: LogRow): void {
    if (row.length !== 8)
      throw new ExportFailure(
        'SourceError',
        `COPY of ${this.options.mapping.table} gave a row of ${row.length} columns, expected 8`,
      );
    if (this.toSkip > 0) {
      // Rows at the key's time that were handed out before the COPY was issued again.
      if (row[COL.ts] === this.key!.ts) {
        this.toSkip--;
        return;
      }
      this.toSkip = 0;
    }
    this.pending.push(row);
  }

  private advance(rows: LogRow[]): void {
    this.key = keyAfter(rows, this.key, this.hasId);
  }

  async close(): Promise<void> {
    // A COPY read to its end leaves the transaction to commit; one left part-way (the run
    // stopped) is ended with the connection, which rolls the read-only transaction back.
    if (this.client && (!this.copy || this.copy.done))
      await this.client.query('COMMIT').catch(() => undefined);
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
