// Structured JSON logs in Kubernetes' style (klog's JSON format): one object per line with
// ts, v (verbosity), msg, and key/value pairs; errors carry `err`. Never log a secret value.

export type Fields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: Fields): void;
  error(msg: string, error: unknown, fields?: Fields): void;
  /** Verbose detail, shown at --v=N or above. */
  debug(msg: string, fields?: Fields, level?: number): void;
  with(fields: Fields): Logger;
}

export function jsonLogger(
  options: { verbosity?: number; write?: (line: string) => void; base?: Fields } = {},
): Logger {
  const verbosity = options.verbosity ?? 0;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const base = options.base ?? {};
  const emit = (v: number, msg: string, fields: Fields | undefined, err?: unknown): void => {
    const entry: Fields = { ts: Date.now() / 1000, v, msg, ...base, ...fields };
    if (err !== undefined)
      entry.err =
        err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
    write(JSON.stringify(entry));
  };
  return {
    info: (msg, fields) => emit(0, msg, fields),
    error: (msg, err, fields) => emit(0, msg, fields, err),
    debug: (msg, fields, level = 4) => {
      if (level <= verbosity) emit(level, msg, fields);
    },
    with: (fields) => jsonLogger({ verbosity, write, base: { ...base, ...fields } }),
  };
}
