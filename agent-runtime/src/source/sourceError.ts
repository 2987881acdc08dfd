// A failed read of the PostgreSQL source, and which failures are worth another attempt.

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
