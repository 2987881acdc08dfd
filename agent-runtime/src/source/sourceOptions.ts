// What a PostgreSQL source is configured with: where to connect, which table and columns,
// what to read of it, and how hard to try.
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
