// The one structured logger of the operator and the agent runtime: JSON lines in Kubernetes'
// style (klog's JSON format), one object per line with ts, v (verbosity), msg, and key/value
// pairs; errors carry `err` as their message. Written by pino, synchronously (no worker thread:
// a line is out before the process can die, and no second thread costs memory).
// A field named like a secret (password, token, authorization, ...) is written as [redacted].
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  error(msg: string, error: unknown, fields?: Fields): void;
  /** Verbose detail, shown at --v=N or above. */
  debug(msg: string, fields?: Fields, level?: number): void;
  with(fields: Fields): Logger;
}

export interface LoggerOptions {
  /** Detail shown: debug lines of this level or lower (klog's --v). */
  verbosity?: number;
  /** Where each line goes, without its newline; stderr when not given. */
  write?: (line: string) => void;
  /** Fields on every line. */
  base?: Fields;
}

// klog's levels as pino's: v0 is pino's info (30), vN is 30 - N, down to v10.
const INFO = 30;
const MAX_VERBOSITY = 10;
const levelName = (v: number): string => (v === 0 ? 'info' : `v${v}`);
const customLevels = Object.fromEntries(
  Array.from({ length: MAX_VERBOSITY + 1 }, (_, v) => [levelName(v), INFO - v]),
);

const SECRET_KEYS = [
  'password',
  'passwd',
  'token',
  'accessToken',
  'refreshToken',
  'bearerToken',
  'authorization',
  'Authorization',
  'cookie',
  'secret',
  'clientSecret',
  'apiKey',
  'api_key',
  'privateKey',
  'credentials',
];
/** The keys redacted, on a line and one level down (`{ smtp: { password } }`). */
export const REDACTED_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`]);

const clampLevel = (v: number): number => Math.min(MAX_VERBOSITY, Math.max(0, Math.trunc(v)));

const errorMessage = (err: unknown): string =>
  err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);

function destination(write: LoggerOptions['write']): DestinationStream {
  if (!write) return pino.destination({ dest: 2, sync: true });
  return { write: (line: string) => write(line.endsWith('\n') ? line.slice(0, -1) : line) };
}

function wrap(logger: Pino<string>): Logger {
  return {
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    error: (msg, err, fields) => logger.info({ ...fields, err: errorMessage(err) }, msg),
    debug: (msg, fields, level = 4) => {
      const name = levelName(clampLevel(level));
      if (logger.isLevelEnabled(name)) logger[name]!(fields ?? {}, msg);
    },
    with: (fields) => wrap(logger.child(fields)),
  };
}

export function jsonLogger(options: LoggerOptions = {}): Logger {
  const logger = pino(
    {
      level: levelName(clampLevel(options.verbosity ?? 0)),
      customLevels,
      useOnlyCustomLevels: true,
      base: options.base ?? null,
      messageKey: 'msg',
      timestamp: () => `,"ts":${Date.now() / 1000}`,
      formatters: { level: (_label, number) => ({ v: INFO - number }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination(options.write),
  );
  return wrap(logger);
}
