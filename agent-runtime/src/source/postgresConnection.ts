// How the PostgreSQL source and the exporter's log reader connect: TLS as libpq's sslmode
// says, a small pool of read-only sessions in UTC, a statement timeout.
import type pg from 'pg';

import type { PostgresConnection, SourceOptions } from './sourceOptions.js';

export function sslOption(c: PostgresConnection): pg.ClientConfig['ssl'] {
  switch (c.sslMode) {
    case 'disable':
      return false;
    case 'prefer': // tried with TLS first; see PostgresSource's attempt()
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
