// The one port parser of the operator, the agent runtime and the CLI: a flag (--metrics-port) or
// an environment variable (EDGEWARDEN_HTTP_PORT) names a TCP port as decimal text.

/** What was wrong, naming the option or variable so the message alone says what to fix. */
export class PortError extends Error {
  override name = 'PortError';
}

export interface PortOptions {
  /** The flag or variable the text came from, as its user writes it: `--port`, `PGPORT`. */
  option: string;
  /** Port 0: let the system choose a free port (servers we start; never a port we connect to). */
  allowZero?: boolean;
}

/**
 * The port `text` names: decimal digits only, 1 to 65535 (0 too with `allowZero`).
 * Returns the error instead of throwing it, so each caller raises it as its own kind of failure.
 */
export function parsePort(
  text: string,
  { option, allowZero = false }: PortOptions,
): number | PortError {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  const lowest = allowZero ? 0 : 1;
  if (port >= lowest && port <= 65535) return port;
  return new PortError(`${option}: not a port: ${text} (a whole number from ${lowest} to 65535)`);
}
