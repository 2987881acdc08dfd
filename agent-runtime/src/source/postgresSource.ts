// The PostgreSQL source: reads router logs read-only and incrementally, by a watermark (a
// monotonic id, or the timestamp), through a small pool with a statement timeout, TLS as
// libpq's sslmode says, and retries with backoff on connection loss and on replica recovery
// conflicts. It never rescans the table: each read starts after the last watermark.
// Its pieces: postgresConnection.ts (TLS and pool), sourceQueries.ts (the SQL), logRow.ts (a
// row as a record), sourceError.ts (what is worth retrying), sourceOptions.ts.
import pg from 'pg';

import type { ObservedLine } from '../agents/types.js';
import { isoToUtc } from '../parse/syslog.js';
import { retryWithJitter } from '../retry.js';
import { logRecordOf } from './logRow.js';
import { poolConfig, sslOption } from './postgresConnection.js';
import { isRetryable, SourceError } from './sourceError.js';
import type { SourceOptions } from './sourceOptions.js';
import { SourceQueries, type Row, type SourceQuery } from './sourceQueries.js';

export { logRecordOf, type RawLogRow } from './logRow.js';
export { poolConfig, sslOption } from './postgresConnection.js';
export { isRetryable, SourceError } from './sourceError.js';
export type { PostgresConnection, SourceOptions, SslMode } from './sourceOptions.js';
export { programExpression, quoteIdentifier, tableIdentifier } from './sourceQueries.js';

export interface Batch {
  lines: ObservedLine[];
  /** Rows skipped because they could not be read (no usable timestamp): counted, never fatal. */
  unreadable: number;
  /** Watermark after these lines: store it with what they produced. */
  watermark: string;
  /** True when the table has no more rows after this batch (for now). */
  caughtUp: boolean;
}

export class PostgresSource {
  private pool: pg.Pool;
  private readonly sql: SourceQueries;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private plainFallback = false;

  constructor(private readonly options: SourceOptions) {
    this.sql = new SourceQueries(options);
    this.retries = options.retries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    this.pool = this.makePool(sslOption(options.connection));
  }

  private makePool(ssl: pg.ClientConfig['ssl']): pg.Pool {
    const pool = new pg.Pool({ ...poolConfig(this.options), ssl });
    // An idle client losing its connection must not crash the process: the next read retries.
    pool.on('error', () => undefined);
    return pool;
  }

  /** Runs one query, with retries on transient failures. */
  private async query<R extends pg.QueryResultRow>({ text, values }: SourceQuery): Promise<R[]> {
    try {
      return await retryWithJitter(() => this.attempt<R>(text, values), {
        attempts: this.retries,
        delayMs: this.retryDelayMs,
        maxDelayMs: 30_000,
        retryable: isRetryable,
      });
    } catch (error) {
      throw new SourceError(
        `reading ${this.options.mapping.table}: ${(error as Error).message}`,
        isRetryable(error),
        error,
      );
    }
  }

  /** One attempt; under sslmode prefer, a server without TLS is asked again without it. */
  private async attempt<R extends pg.QueryResultRow>(text: string, values: unknown[]) {
    try {
      return (await this.pool.query<R>(text, values)).rows;
    } catch (error) {
      if (
        this.options.connection.sslMode !== 'prefer' ||
        this.plainFallback ||
        !/does not support SSL/i.test(String(error))
      )
        throw error;
      // sslmode prefer: the server has no TLS, so go on without it.
      this.plainFallback = true;
      await this.pool.end().catch(() => undefined);
      this.pool = this.makePool(false);
      return (await this.pool.query<R>(text, values)).rows;
    }
  }

  /**
   * The watermark to start from when none is stored: the end of the table (only new lines),
   * or with `backfillMs`, just before the first row of that period before now (by the
   * database's clock and the rows' own times).
   */
  async endWatermark(backfillMs?: number): Promise<string> {
    if (backfillMs !== undefined && this.sql.mode === 'timestamp') {
      const rows = await this.query<{ wm: string }>(this.sql.backfill(backfillMs));
      return rows[0]!.wm;
    }
    const rows = await this.query<{ wm: string | null }>(
      backfillMs !== undefined ? this.sql.backfill(backfillMs) : this.sql.end(),
    );
    return rows[0]?.wm ?? this.beginning();
  }

  /**
   * The rows at or before `watermark` that this source reads (its filters applied): how many,
   * up to `cap` (only the newest `cap` are looked at, by the watermark's index), and the times
   * of the newest and, when not capped, the oldest of them. What a fresh agent leaves behind.
   */
  async rowsBefore(
    watermark: string,
    cap: number,
  ): Promise<{ rows: number; capped: boolean; newest?: number; oldest?: number }> {
    const rows = await this.query<{ n: number; newest: string | null; oldest: string | null }>(
      this.sql.before(watermark, cap),
    );
    const r = rows[0]!;
    const capped = r.n > cap;
    const time = (text: string | null): number | undefined =>
      text === null ? undefined : isoToUtc(text)?.ms;
    return {
      rows: Math.min(r.n, cap),
      capped,
      newest: time(r.newest),
      oldest: capped ? undefined : time(r.oldest),
    };
  }

  /** A watermark before every row. */
  beginning(): string {
    return this.sql.beginning();
  }

  /** Reads the next batch after `watermark`. */
  async read(watermark: string): Promise<Batch> {
    const limit = this.options.batchSize;
    let rows = await this.query<Row>(this.sql.after(watermark, limit));
    const caughtUp = rows.length < limit;
    if (this.sql.mode === 'timestamp' && !caughtUp && rows.length > 0) {
      // Rows sharing a timestamp must not be split across batches: the next read starts after
      // that timestamp. Drop the last timestamp's rows, or, if the whole batch shares one,
      // read all of its rows.
      const last = rows[rows.length - 1]!.ew_wm;
      const kept = rows.filter((r) => r.ew_wm !== last);
      rows = kept.length > 0 ? kept : await this.query<Row>(this.sql.tiedAt(last));
    }
    const lines: ObservedLine[] = [];
    for (const r of rows) {
      const line = this.toLine(r);
      if (line) lines.push(line);
    }
    return {
      lines,
      unreadable: rows.length - lines.length,
      watermark: rows.length > 0 ? rows[rows.length - 1]!.ew_wm : watermark,
      caughtUp,
    };
  }

  /** The row as a line, or undefined when it has no usable timestamp. */
  private toLine(r: Row): ObservedLine | undefined {
    const read = logRecordOf(
      {
        ts: r.ew_ts,
        host: r.ew_host,
        program: r.ew_program,
        pid: r.ew_pid,
        level: r.ew_level,
        facility: r.ew_facility,
        message: r.ew_message,
      },
      this.options.mapping.programIsTag,
    );
    if (!read) return undefined;
    return {
      ref: r.ew_id ?? r.ew_wm,
      device: r.ew_host ?? 'unknown',
      time: read.time,
      record: read.record,
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
