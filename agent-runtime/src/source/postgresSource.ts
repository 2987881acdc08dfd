// The PostgreSQL source: reads router logs read-only and incrementally, by a watermark (a
// monotonic id, or the timestamp), through a small pool with a statement timeout, TLS as
// libpq's sslmode says, and retries with backoff on connection loss and on replica recovery
// conflicts. It never rescans the table: each read starts after the last watermark.
import pg from 'pg';

import type { ObservedLine } from '../agents/types.js';
import { facilityName, levelName, normalizeFacility, normalizeLevel } from '../parse/priority.js';
import { isoToUtc, type LogRecord } from '../parse/syslog.js';
import type { Preset } from './presets.js';

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface PostgresConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
  sslMode: SslMode;
  /** PEM of the CA for verify-ca / verify-full (else the system trust store). */
  ca?: string;
}

export interface SourceOptions {
  connection: PostgresConnection;
  mapping: Preset;
  /** id (needs an id column) or timestamp; default id when the mapping has one. */
  watermark?: 'id' | 'timestamp';
  batchSize: number;
  programs?: readonly string[];
  devices?: readonly string[];
  /**
   * This reader's share of the devices when several pods split them: a device belongs to
   * shard hashtext(device) mod count, so each device is read by exactly one pod.
   */
  shard?: { index: number; count: number };
  statementTimeoutMs?: number;
  /** Attempts per read before the error is returned to the caller. */
  retries?: number;
  /** First retry delay; doubles each time, with jitter. */
  retryDelayMs?: number;
  /** Name the database sees, for its logs and pg_stat_activity. */
  applicationName?: string;
}

export interface Batch {
  lines: ObservedLine[];
  /** Rows skipped because they could not be read (no usable timestamp): counted, never fatal. */
  unreadable: number;
  /** Watermark after these lines: store it with what they produced. */
  watermark: string;
  /** True when the table has no more rows after this batch (for now). */
  caughtUp: boolean;
}

export class SourceError extends Error {
  readonly code = 'EW_SOURCE';
  constructor(
    message: string,
    readonly retryable: boolean,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/**
 * Connection loss, server shutdown or start-up, too many connections, and the conflicts a hot
 * standby raises when replication removes rows a query still needs: worth trying again.
 */
const RETRYABLE_SQLSTATE = /^(08|57P0[1-3]|53300|40001|40P01)/;
const RETRYABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (RETRYABLE_NODE.has(code) || RETRYABLE_SQLSTATE.test(code)))
    return true;
  const message = error instanceof Error ? error.message : String(error);
  return /Connection terminated|connection timeout|terminating connection|the database system is (starting up|shutting down)/i.test(
    message,
  );
}

export function sslOption(c: PostgresConnection): pg.ClientConfig['ssl'] {
  switch (c.sslMode) {
    case 'disable':
      return false;
    case 'prefer': // tried with TLS first; see connect()
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // The chain is checked; the host name is not.
      return { rejectUnauthorized: true, ca: c.ca, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ca: c.ca };
  }
}

/** How the source connects: a small pool, read-only sessions in UTC, a statement timeout. */
export function poolConfig(options: SourceOptions): pg.PoolConfig {
  const c = options.connection;
  return {
    host: c.host,
    port: c.port,
    database: c.database,
    user: c.user,
    password: c.password,
    ssl: sslOption(c),
    max: 2,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    application_name: options.applicationName ?? 'edgewarden-agent',
    // Read-only for the whole session, and times in UTC so watermarks compare exactly.
    options: '-c default_transaction_read_only=on -c TimeZone=UTC',
  };
}

const TAG = /^([^[:\s]+)(?:\[(\d+)\])?:?$/;
/** Rows sharing one timestamp that a single read will take (a bound, not a page size). */
const MAX_TIED_ROWS = 1_000_000;
/** A (schema-qualified) table or column name as a quoted identifier, never spliced raw. */
export const quoteIdentifier = (identifier: string): string =>
  identifier
    .split('.')
    .map((part) => pg.escapeIdentifier(part))
    .join('.');
const q = quoteIdentifier;

/** The SQL expression of a row's program name (a whole tag, "dnsmasq[728]:", cut to its name). */
export function programExpression(mapping: Preset): string {
  const column = `${q(mapping.columns.program!)}::text`;
  return mapping.programIsTag ? `rtrim(split_part(${column}, '[', 1), ':')` : column;
}

/** One row's columns as text, as the collector's table holds them. */
export interface RawLogRow {
  ts: string | null;
  host: string | null;
  program: string | null;
  pid: string | null;
  level: string | null;
  facility: string | null;
  message: string | null;
}

/**
 * A row as a log record, as every reader of the table sees it: the time in UTC (a time
 * without a zone is UTC), a whole tag split into program and pid, numeric priorities and
 * facilities named. Undefined when the row has no usable timestamp.
 */
export function logRecordOf(
  r: RawLogRow,
  programIsTag: boolean,
): { time: number; record: LogRecord } | undefined {
  const stamp = r.ts === null ? null : isoToUtc(r.ts);
  if (stamp === null) return undefined;
  const time = stamp.ms;
  let program = r.program;
  let pid = r.pid !== null && /^\d+$/.test(r.pid) ? Number(r.pid) : null;
  if (program !== null && programIsTag) {
    const tag = TAG.exec(program.trim());
    program = tag?.[1] ?? program;
    if (tag?.[2]) pid = Number(tag[2]);
  }
  return {
    time,
    record: {
      timestamp: stamp.iso,
      host: r.host,
      facility:
        r.facility === null
          ? null
          : /^\d+$/.test(r.facility)
            ? facilityName(Number(r.facility))
            : normalizeFacility(r.facility.toLowerCase()),
      level:
        r.level === null
          ? null
          : /^\d+$/.test(r.level)
            ? levelName(Number(r.level))
            : normalizeLevel(r.level.toLowerCase()),
      program: program === '' ? null : program,
      pid,
      message: r.message ?? '',
    },
  };
}

export class PostgresSource {
  private pool: pg.Pool;
  private readonly mode: 'id' | 'timestamp';
  private readonly select: string;
  private readonly filters: string;
  private readonly params: unknown[];
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private plainFallback = false;

  constructor(private readonly options: SourceOptions) {
    const cols = options.mapping.columns;
    this.mode = options.watermark ?? (cols.id ? 'id' : 'timestamp');
    if (this.mode === 'id' && !cols.id)
      throw new SourceError('watermark id needs an id column in the mapping', false);
    this.retries = options.retries ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 500;
    const expr = (c: string | undefined): string => (c ? `${q(c)}::text` : 'NULL');
    // Output names carry a prefix: in ORDER BY, PostgreSQL would take an output name like
    // "id" over the table's column of that name (and sort the text, 1, 10, 11, ...).
    this.select = [
      `${this.mode === 'id' ? q(cols.id!) : q(cols.timestamp)}::text AS ew_wm`,
      `${expr(cols.id)} AS ew_id`,
      `${q(cols.timestamp)}::text AS ew_ts`,
      `${expr(cols.host)} AS ew_host`,
      `${expr(cols.program)} AS ew_program`,
      `${expr(cols.pid)} AS ew_pid`,
      `${expr(cols.level)} AS ew_level`,
      `${expr(cols.facility)} AS ew_facility`,
      `${q(cols.message)}::text AS ew_message`,
    ].join(', ');
    const filters: string[] = [];
    this.params = [];
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
    this.filters = filters.map((f) => ` AND ${f}`).join('');
    this.pool = this.makePool(sslOption(options.connection));
  }

  private makePool(ssl: pg.ClientConfig['ssl']): pg.Pool {
    const pool = new pg.Pool({ ...poolConfig(this.options), ssl });
    // An idle client losing its connection must not crash the process: the next read retries.
    pool.on('error', () => undefined);
    return pool;
  }

  /** Runs one query, with retries on transient failures. */
  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    let delay = this.retryDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.pool.query<R>(text, values)).rows;
      } catch (error) {
        if (
          this.options.connection.sslMode === 'prefer' &&
          !this.plainFallback &&
          /does not support SSL/i.test(String(error))
        ) {
          // sslmode prefer: the server has no TLS, so go on without it.
          this.plainFallback = true;
          await this.pool.end().catch(() => undefined);
          this.pool = this.makePool(false);
          continue;
        }
        const retryable = isRetryable(error);
        if (!retryable || attempt >= this.retries) {
          throw new SourceError(
            `reading ${this.options.mapping.table}: ${(error as Error).message}`,
            retryable,
            error,
          );
        }
        await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  /**
   * The watermark to start from when none is stored: the end of the table (only new lines),
   * or with `backfillMs`, just before the first row of that period before now (by the
   * database's clock and the rows' own times).
   */
  async endWatermark(backfillMs?: number): Promise<string> {
    const cols = this.options.mapping.columns;
    const table = q(this.options.mapping.table);
    const time = q(cols.timestamp);
    if (backfillMs !== undefined && this.mode === 'timestamp') {
      const rows = await this.query<{ wm: string }>(
        `SELECT (now() - $1 * interval '1 millisecond')::text AS wm`,
        [backfillMs],
      );
      return rows[0]!.wm;
    }
    if (backfillMs !== undefined) {
      // The id just before the period's first row; the end when no row is that recent.
      const id = q(cols.id!);
      const rows = await this.query<{ wm: string | null }>(
        `SELECT coalesce((SELECT min(${id}) - 1 FROM ${table} WHERE ${time} >= now() - $1 * interval '1 millisecond'), (SELECT max(${id}) FROM ${table}))::text AS wm`,
        [backfillMs],
      );
      return rows[0]?.wm ?? this.beginning();
    }
    const column = this.mode === 'id' ? q(cols.id!) : time;
    const rows = await this.query<{ wm: string | null }>(
      `SELECT max(${column})::text AS wm FROM ${table}`,
      [],
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
    const cols = this.options.mapping.columns;
    const table = q(this.options.mapping.table);
    const wmColumn = this.mode === 'id' ? q(cols.id!) : q(cols.timestamp);
    const cast = this.mode === 'id' ? '::numeric' : '::timestamptz';
    const rows = await this.query<{ n: number; newest: string | null; oldest: string | null }>(
      `SELECT count(*)::int AS n, max(ew_t)::text AS newest, min(ew_t)::text AS oldest FROM (
         SELECT ${q(cols.timestamp)} AS ew_t FROM ${table} WHERE ${wmColumn} <= $1${cast}${this.filters}
         ORDER BY ${wmColumn} DESC LIMIT $2) AS counted`,
      [watermark, cap + 1, ...this.params],
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
    return this.mode === 'id' ? '-9223372036854775808' : '-infinity';
  }

  /** Reads the next batch after `watermark`. */
  async read(watermark: string): Promise<Batch> {
    const cols = this.options.mapping.columns;
    const table = q(this.options.mapping.table);
    const limit = this.options.batchSize;
    const wmColumn = this.mode === 'id' ? q(cols.id!) : q(cols.timestamp);
    const cast = this.mode === 'id' ? '::numeric' : '::timestamptz';
    let rows = await this.query<Row>(
      `SELECT ${this.select} FROM ${table} WHERE ${wmColumn} > $1${cast}${this.filters} ORDER BY ${wmColumn} LIMIT $2`,
      [watermark, limit, ...this.params],
    );
    const caughtUp = rows.length < limit;
    if (this.mode === 'timestamp' && !caughtUp && rows.length > 0) {
      // Rows sharing a timestamp must not be split across batches: the next read starts after
      // that timestamp. Drop the last timestamp's rows, or, if the whole batch shares one,
      // read all of its rows.
      const last = rows[rows.length - 1]!.ew_wm;
      const kept = rows.filter((r) => r.ew_wm !== last);
      rows =
        kept.length > 0
          ? kept
          : await this.query<Row>(
              `SELECT ${this.select} FROM ${table} WHERE ${wmColumn} = $1${cast}${this.filters} LIMIT $2`,
              [last, MAX_TIED_ROWS, ...this.params],
            );
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

interface Row {
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
