// Downloads that reach only allowed addresses (issue 20, M1), against real HTTP servers on
// loopback: 127.0.0.2 plays an allowlisted LAN model server, 127.0.0.1 a refused address.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { addressPolicy, type AddressPolicy } from './addressPolicy.js';
import { DownloadError, MAX_REDIRECTS, safeDownload } from './safeFetch.js';

const lan = addressPolicy('127.0.0.2/32') as AddressPolicy;
const limits = { limit: 1024, timeoutMs: 5000 };
let allowed: Server;
let refused: Server;
let allowedUrl: string;
let refusedUrl: string;
let refusedHits = 0;

const listen = async (server: Server, host: string): Promise<string> => {
  await new Promise<void>((r) => server.listen(0, host, r));
  return `http://${host}:${(server.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  refused = createServer((_req, res) => {
    refusedHits++;
    res.end('internal secret');
  });
  refusedUrl = await listen(refused, '127.0.0.1');
  allowed = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/model.onnx') return void res.end('model bytes');
    if (url === '/to-internal')
      return void res.writeHead(302, { location: `${refusedUrl}/` }).end();
    if (url === '/to-localhost')
      return void res
        .writeHead(307, { location: `http://localhost:${new URL(refusedUrl).port}/` })
        .end();
    if (url === '/to-file')
      return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (url === '/hop') return void res.writeHead(301, { location: '/model.onnx' }).end();
    const loop = /^\/loop\/(\d+)$/.exec(url);
    if (loop) return void res.writeHead(302, { location: `/loop/${Number(loop[1]) + 1}` }).end();
    res.writeHead(404).end('not here');
  });
  allowedUrl = await listen(allowed, '127.0.0.2');
});

afterAll(async () => {
  for (const server of [allowed, refused]) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

const failure = async (promise: Promise<unknown>): Promise<DownloadError> => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DownloadError);
  return error as DownloadError;
};

test('an allowlisted server is downloaded from, through a relative redirect too', async () => {
  expect((await safeDownload(`${allowedUrl}/model.onnx`, lan, limits)).toString()).toBe(
    'model bytes',
  );
  expect((await safeDownload(`${allowedUrl}/hop`, lan, limits)).toString()).toBe('model bytes');
});

test('loopback, by address or by name, is refused before any connection', async () => {
  const before = refusedHits;
  const direct = await failure(safeDownload(`${refusedUrl}/`, lan, limits));
  expect(direct.kind).toBe('refused');
  const named = await failure(
    safeDownload(`http://localhost:${new URL(refusedUrl).port}/`, lan, limits),
  );
  expect(named.kind).toBe('refused');
  expect(named.message).toContain('localhost');
  expect(refusedHits).toBe(before);
});

test('a redirect to a refused address, by address or by name, is refused', async () => {
  const before = refusedHits;
  for (const path of ['/to-internal', '/to-localhost']) {
    const error = await failure(safeDownload(`${allowedUrl}${path}`, lan, limits));
    expect(error.kind).toBe('refused');
    expect(error.message).not.toContain('internal secret');
  }
  expect(refusedHits).toBe(before);
});

test('a redirect to another scheme, or too many, are refused', async () => {
  expect((await failure(safeDownload(`${allowedUrl}/to-file`, lan, limits))).kind).toBe('refused');
  const loop = await failure(safeDownload(`${allowedUrl}/loop/0`, lan, limits));
  expect(loop.kind).toBe('failed');
  expect(loop.message).toContain(`more than ${MAX_REDIRECTS} redirects`);
});

test('an HTTP error names the status, never the body', async () => {
  const error = await failure(safeDownload(`${allowedUrl}/none`, lan, limits));
  expect(error.message).toContain('HTTP 404');
  expect(error.message).not.toContain('not here');
});
