// One watch request: GET <path>?watch=true&timeoutSeconds=..., over the connection's keep-alive
// agent, read as the API server writes it: one JSON event per line ({"type":"ADDED",
// "object":{...}}), lines split across chunks at any byte. Each event goes to the caller as it
// arrives. The promise resolves when the server ends the watch cleanly (its timeoutSeconds ran
// out: watch again from the last resourceVersion) and rejects on anything else: a response
// other than 200 (an ApiError with the Status's code and message; 410 Gone means list again),
// a broken connection, an abort, a line that is not an event, a listener that throws, or a
// server that has not ended the watch 30 s after it was asked to (a half-open connection).
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';

import { apiError, hostAndPort, type ApiError } from './kubeClient.js';
import type { Connection } from './kubeConfig.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  object: Record<string, unknown>;
}

const EVENT_TYPES: ReadonlySet<string> = new Set([
  'ADDED',
  'MODIFIED',
  'DELETED',
  'BOOKMARK',
  'ERROR',
]);
/** How much of an error response's body we keep. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * Splits a stream of bytes into its lines: give it the chunks as they come, it returns the
 * lines each one completes and keeps the unfinished rest (a multi-byte character cut in two
 * included) for the next. Empty lines are dropped, a `\r` before the `\n` too.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending: string[] = [];

  push(chunk: Buffer | string): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (!text.includes('\n')) {
      if (text) this.pending.push(text);
      return [];
    }
    this.pending.push(text);
    const lines = this.pending.join('').split('\n');
    const rest = lines.pop()!;
    this.pending = rest ? [rest] : [];
    return clean(lines);
  }

  /** The stream ended: its last line, if it had no newline. */
  end(): string[] {
    this.pending.push(this.decoder.end());
    const last = this.pending.join('');
    this.pending = [];
    return clean([last]);
  }
}

function clean(lines: string[]): string[] {
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)).filter((l) => l.trim() !== '');
}

/** One line of a watch, as an event; throws on a line that is not one. */
export function parseWatchEvent(line: string): WatchEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`watch: a line that is not JSON: ${line.slice(0, 100)}`);
  }
  const e = value as Partial<WatchEvent> | null;
  if (
    !e ||
    typeof e !== 'object' ||
    typeof e.type !== 'string' ||
    !EVENT_TYPES.has(e.type) ||
    !e.object ||
    typeof e.object !== 'object'
  )
    throw new Error(`watch: a line that is not an event: ${line.slice(0, 100)}`);
  return e as WatchEvent;
}

/** The ApiError an ERROR event's Status stands for (410 Gone: the resourceVersion expired). */
export function watchEventError(status: Record<string, unknown>, what = 'watch'): ApiError {
  const code = typeof status.code === 'number' ? status.code : 500;
  return apiError(code, JSON.stringify(status), what);
}

export interface WatchOptions {
  /** Query parameters besides watch and timeoutSeconds: resourceVersion, labelSelector, ... */
  query?: Record<string, string>;
  /** Aborting it ends the watch (the promise rejects). */
  signal: AbortSignal;
  /** How long the server keeps the watch open before it ends it cleanly. */
  timeoutSeconds: number;
}

type Finish = (error?: Error) => void;
type OnEvent = (type: WatchEventType, object: Record<string, unknown>) => void;

/** The watch's URL: the collection's path, watch=true, the caller's query, the server's timeout. */
function watchUrl(server: URL, path: string, options: WatchOptions): URL {
  const url = new URL(path, server);
  url.searchParams.set('watch', 'true');
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  url.searchParams.set('timeoutSeconds', String(options.timeoutSeconds));
  return url;
}

/** A response other than 200 ends the watch with an ApiError of its code and (kept) body. */
function failWithBody(res: http.IncomingMessage, what: string, finish: Finish): void {
  const status = res.statusCode ?? 0;
  let body = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => {
    if (body.length < MAX_ERROR_BODY) body += d;
  });
  res.on('end', () => finish(apiError(status, body, what)));
  res.on('error', finish);
}

/**
 * A 200: each line to `onEvent` as it completes, until the server ends the watch (done) or
 * the connection breaks, a line is not an event, or the listener throws (an error).
 */
function streamEvents(
  res: http.IncomingMessage,
  what: string,
  onEvent: OnEvent,
  finish: Finish,
  settled: () => boolean,
): void {
  const lines = new LineSplitter();
  const deliver = (complete: string[]): void => {
    for (const line of complete) {
      if (settled()) return;
      try {
        const event = parseWatchEvent(line);
        onEvent(event.type, event.object);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };
  res.on('data', (chunk: Buffer) => deliver(lines.push(chunk)));
  res.on('end', () => {
    deliver(lines.end());
    finish();
  });
  res.on('error', finish);
  res.on('close', () => {
    if (!res.complete) finish(new Error(`${what}: the connection closed mid-watch`));
  });
}

/** Watches `path` (a collection), handing each event to `onEvent`; see the head of this file. */
export async function watch(
  connection: Connection,
  path: string,
  options: WatchOptions,
  onEvent: OnEvent,
): Promise<void> {
  const url = watchUrl(connection.server, path, options);
  const what = `watch ${url.pathname}`;
  const { headers, ...tls } = await connection.requestOptions({ watch: true });
  const { signal } = options;
  if (signal.aborted) throw new Error(`${what}: aborted`);
  const transport = url.protocol === 'https:' ? https : http;

  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish: Finish = (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else resolve();
    };
    const onAbort = (): void => finish(new Error(`${what}: aborted`));

    const req = transport.request(
      {
        ...tls,
        method: 'GET',
        ...hostAndPort(url),
        path: `${url.pathname}${url.search}`,
        headers: { ...headers, Accept: 'application/json' },
      },
      (res) => {
        if (res.statusCode === 200) return streamEvents(res, what, onEvent, finish, () => settled);
        if (res.statusCode === 401) connection.invalidateCredentials();
        failWithBody(res, what, finish);
      },
    );
    req.on('error', finish);
    // A watch may idle for minutes between events: no socket timeout, the deadline instead.
    req.setTimeout(0);
    const deadline = setTimeout(
      () =>
        finish(new Error(`${what}: still open 30 s after its ${options.timeoutSeconds} s timeout`)),
      (options.timeoutSeconds + 30) * 1000,
    );
    deadline.unref();
    signal.addEventListener('abort', onAbort, { once: true });
    req.end();
  });
}
