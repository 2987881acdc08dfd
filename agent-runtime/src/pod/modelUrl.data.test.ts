// Issue 20, M1: a real `edgewarden agent` process offered models whose http source or manifest
// URL points at loopback (by address, by the name localhost, or behind a redirect from an
// allowlisted server) refuses them with SourceAddressRefused before connecting, and still loads
// a model from the LAN server its allowlist (EDGEWARDEN_MODEL_URL_ALLOW) admits. 127.0.0.2 plays
// the LAN model server, 127.0.0.1 the internal endpoint that must never be reached.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';
import { controlTokenDigest } from '../contract/index.js';
import { startPostgres, type PostgresServer } from '../../../test/services/postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const INTERNAL = 'internal-metadata-answer';
const model = logisticRegressionOnnx([0, 0, 0], -6);
const sha256 = createHash('sha256').update(model).digest('hex');
const manifest = JSON.stringify({
  version: 'm1-1',
  agent: 'auth',
  features: ['failures', 'successes', 'failure_sources'],
  threshold: 0.9,
  sha256,
});

let server: PostgresServer;
let dir: string;
let lan: Server;
let internal: Server;
let lanUrl: string;
let internalUrl: string;
let internalHits = 0;

const listen = async (s: Server, host: string): Promise<string> => {
  await new Promise<void>((r) => s.listen(0, host, r));
  return `http://${host}:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-m1-'));
  await writeFile(path.join(dir, 'ca.crt'), server.ca);
  await writeFile(
    path.join(dir, 'agent.yaml'),
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: ssh-guard }
spec:
  agent: auth
  interval: 10s
  source:
    secretRef: { name: unused-here }
    sslMode: verify-full
    preset: log_entries
  model: { name: auth-model }
`,
  );
  await mkdir(path.join(dir, 'model'), { recursive: true });
  // The endpoint an attacker would probe: it answers anything, and counts who asked.
  internal = createServer((_req, res) => {
    internalHits++;
    res.end(INTERNAL);
  });
  internalUrl = await listen(internal, '127.0.0.1');
  // The LAN model server: the model, its manifest, and redirects to the internal endpoint.
  lan = createServer((req, res) => {
    if (req.url === '/model.onnx') return void res.end(Buffer.from(model));
    if (req.url === '/manifest.json') return void res.end(manifest);
    if (req.url === '/to-internal')
      return void res.writeHead(302, { location: `${internalUrl}/model.onnx` }).end();
    if (req.url === '/to-localhost')
      return void res
        .writeHead(301, { location: `http://localhost:${new URL(internalUrl).port}/m.json` })
        .end();
    res.writeHead(404).end();
  });
  lanUrl = await listen(lan, '127.0.0.2');
});

afterAll(async () => {
  for (const s of [lan, internal]) {
    s?.closeAllConnections();
    await new Promise((r) => s?.close(r));
  }
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

test('model URLs on loopback, by name or behind a redirect, are refused; the allowlisted LAN server serves', async () => {
  const token = 'operator-derived-token';
  const proc = spawn('node', [path.join(root, 'bin/edgewarden.js'), 'agent'], {
    env: {
      ...process.env,
      EDGEWARDEN_CONFIG: path.join(dir, 'agent.yaml'),
      EDGEWARDEN_PG_URL: `postgresql://reader:reader-secret@localhost:${server.port}/postgres`,
      EDGEWARDEN_PG_CA_FILE: path.join(dir, 'ca.crt'),
      EDGEWARDEN_DATA_DIR: path.join(dir, 'data'),
      EDGEWARDEN_MODEL_DIR: path.join(dir, 'model'),
      EDGEWARDEN_HTTP_PORT: '0',
      POD_NAME: 'ssh-guard-0',
      EDGEWARDEN_CONTROL_TOKEN_SHA256: controlTokenDigest(token),
      EDGEWARDEN_MODEL_URL_ALLOW: '127.0.0.2/32',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise((r) => proc.on('exit', r));
  try {
    let port: string | undefined;
    for (let i = 0; i < 200 && !port; i++) {
      port = /serving on port (\d+)/.exec(output)?.[1];
      if (!port) await new Promise((r) => setTimeout(r, 200));
    }
    expect(port).toBeDefined();
    const offer = {
      version: 'm1-1',
      agent: 'auth',
      features: ['failures', 'successes', 'failure_sources'],
      threshold: 0.9,
      sha256,
      source: { url: `${lanUrl}/model.onnx` },
    };
    const put = async (body: unknown) => {
      const answer = await fetch(`http://127.0.0.1:${port}/model`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: answer.status, text: await answer.text() };
    };
    const internalPort = new URL(internalUrl).port;
    const refusedOffers = [
      { ...offer, source: { url: `${internalUrl}/model.onnx` } },
      { ...offer, source: { url: `http://localhost:${internalPort}/model.onnx` } },
      { ...offer, source: { url: `${lanUrl}/to-internal` } },
      { ...offer, manifest: { url: `${lanUrl}/to-localhost` } },
      { ...offer, manifest: { url: `${internalUrl}/manifest.json` } },
      { ...offer, source: { url: `http://[::ffff:127.0.0.1]:${internalPort}/model.onnx` } },
      { ...offer, source: { url: 'http://169.254.169.254/latest/meta-data/' } },
    ];
    for (const body of refusedOffers) {
      for (const dryRun of [true, false]) {
        const answer = await put({ ...body, dryRun });
        expect({ body, answer: answer.status }).toEqual({ body, answer: 422 });
        expect(JSON.parse(answer.text)).toMatchObject({ reason: 'SourceAddressRefused' });
        expect(answer.text).not.toContain(INTERNAL);
      }
    }
    expect(internalHits).toBe(0);
    expect(output).not.toContain(INTERNAL);

    // The LAN server the allowlist admits: validated, then installed, manifest and all.
    const lanOffer = { ...offer, manifest: { url: `${lanUrl}/manifest.json` } };
    const dry = await put({ ...lanOffer, dryRun: true });
    expect(dry.status).toBe(200);
    const installed = await put(lanOffer);
    expect(installed.status).toBe(200);
    expect(JSON.parse(installed.text)).toMatchObject({ version: 'm1-1', sha256 });
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
});
