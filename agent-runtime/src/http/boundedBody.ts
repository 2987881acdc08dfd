// Request bodies the agent reads at all, and how it refuses one it will not read (issue 20, H3).
// A body is counted as it arrives and given up the moment it passes its cap (a Content-Length
// over the cap is refused before a byte is read), so a client can never make the agent hold
// more than the cap. A request refused before its body is read (no token, over the cap, too
// many in flight) is answered at once, and the rest of its body is discarded as it arrives,
// never buffered (closing the connection instead would cut the client off mid-upload, before it
// reads the answer; Node's requestTimeout ends an upload that never ends).
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Largest PUT /model body. The biggest legitimate inline offer is a ConfigMap or Secret source:
 * the model and its manifest together fit in one object of at most 1 MiB (etcd's limit), sent
 * as base64 (4/3 of that, ~1.34 MiB) with a few hundred bytes of version and features. Larger
 * models come by `http` or `persistentVolumeClaim`, whose bytes are not in the body.
 */
export const MAX_OFFER_BODY_BYTES = 2 * 1024 * 1024;

export type JsonBody =
  | { ok: true; value: unknown }
  | { ok: false; code: 400 | 413; reason: 'BadRequest' | 'PayloadTooLarge'; message: string };

const tooLarge = (maxBytes: number): JsonBody => ({
  ok: false,
  code: 413,
  reason: 'PayloadTooLarge',
  message: `the body is larger than ${maxBytes} bytes`,
});

/** The request's body parsed as JSON, read only while it stays within `maxBytes`. */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<JsonBody> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) return Promise.resolve(tooLarge(maxBytes));
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (result: JsonBody): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      chunks.length = 0;
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) stop(tooLarge(maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        stop({ ok: true, value: text === '' ? undefined : (JSON.parse(text) as unknown) });
      } catch {
        stop({ ok: false, code: 400, reason: 'BadRequest', message: 'the body is not JSON' });
      }
    };
    const onError = (): void =>
      stop({ ok: false, code: 400, reason: 'BadRequest', message: 'the body was cut short' });
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/**
 * Answers `code` with a JSON `body` without reading (more of) the request's body: what is left
 * of it is discarded as it arrives.
 */
export function answerUnread(
  req: IncomingMessage,
  res: ServerResponse,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (!req.complete) req.resume();
  res.writeHead(code, { ...headers, 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
