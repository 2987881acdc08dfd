// A download that reaches only the addresses an AddressPolicy allows (issue 20, M1). The check
// is made on the address actually connected to: a host name is resolved once, by the socket's
// own `lookup`, and the connection goes to the address that was checked (no second resolution
// a DNS answer could change in between). Redirects are followed by hand, each hop checked the
// same way, at most MAX_REDIRECTS, and only to http or https. Refusals and failures name the
// host, never the URL's path or query (it may hold a credential) nor any byte of a response.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';

import { addressAllowed, parseAddress, type AddressPolicy } from './addressPolicy.js';

export const MAX_REDIRECTS = 5;

/** Why a download did not happen; `refused` when the policy forbade an address. */
export class DownloadError extends Error {
  constructor(
    readonly kind: 'refused' | 'failed' | 'tooBig',
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

const refusedHost = (host: string): DownloadError =>
  new DownloadError(
    'refused',
    host,
    `${host} is not a public address, nor in the allowlist of model servers`,
  );

/** A socket lookup that resolves once and refuses the name if any of its addresses is refused. */
function checkedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, found: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      if (found.length === 0 || found.some((a) => !addressAllowed(policy, a.address)))
        return callback(refusedHost(hostname), '', 0);
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, found);
      callback(null, found[0]!.address, found[0]!.family);
    });
  };
}

/** One GET, to the checked address; the response (its body unread) or a DownloadError. */
function get(url: URL, policy: AddressPolicy, signal: AbortSignal): Promise<IncomingMessage> {
  const literal = parseAddress(url.hostname);
  if (literal && !addressAllowed(policy, literal.toString()))
    return Promise.reject(refusedHost(url.host));
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(url, { lookup: checkedLookup(policy), signal, agent: false });
    request.on('response', resolve);
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error instanceof DownloadError) return reject(refusedHost(url.host));
      const why = signal.aborted ? 'no answer in time' : (error.code ?? error.name);
      reject(new DownloadError('failed', url.host, `${url.host}: ${why}`));
    });
  });
}

/** The response of the last hop, after at most MAX_REDIRECTS checked redirects. */
async function follow(start: URL, policy: AddressPolicy, signal: AbortSignal) {
  let url = start;
  for (let hop = 0; ; hop++) {
    const response = await get(url, policy, signal);
    const location = response.headers.location;
    if (![301, 302, 303, 307, 308].includes(response.statusCode ?? 0) || !location)
      return { response, url };
    response.resume();
    if (hop >= MAX_REDIRECTS)
      throw new DownloadError(
        'failed',
        start.host,
        `${start.host}: more than ${MAX_REDIRECTS} redirects`,
      );
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new DownloadError('failed', url.host, `${url.host}: a redirect to a malformed URL`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new DownloadError(
        'refused',
        url.host,
        `${url.host}: a redirect to a scheme other than http(s)`,
      );
    url = next;
  }
}

/**
 * The body of `url` (http or https), at most `limit` bytes, within `timeoutMs`, from addresses
 * the policy allows only.
 */
export async function safeDownload(
  url: string,
  policy: AddressPolicy,
  { limit, timeoutMs }: { limit: number; timeoutMs: number },
): Promise<Buffer> {
  const signal = AbortSignal.timeout(timeoutMs);
  const { response, url: last } = await follow(new URL(url), policy, signal);
  const host = last.host;
  if ((response.statusCode ?? 0) < 200 || (response.statusCode ?? 0) > 299) {
    response.resume();
    throw new DownloadError('failed', host, `${host}: HTTP ${response.statusCode}`);
  }
  if (Number(response.headers['content-length'] ?? 0) > limit) {
    response.destroy();
    throw new DownloadError('tooBig', host, `the download from ${host}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        response.destroy();
        throw new DownloadError('tooBig', host, `the download from ${host}`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof DownloadError) throw error;
    const why = signal.aborted
      ? 'no answer in time'
      : ((error as NodeJS.ErrnoException).code ?? 'the connection broke');
    throw new DownloadError('failed', host, `${host}: ${why}`);
  }
  return Buffer.concat(chunks);
}
