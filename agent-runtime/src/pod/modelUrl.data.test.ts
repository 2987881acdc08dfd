// Issue 20, M1: a real `edgewarden agent` process offered models whose http source or manifest
// URL points at loopback (by address, by the name localhost, or behind a redirect from an
// allowlisted server) refuses them with SourceAddressRefused before connecting, and still loads
// a model from the LAN server its allowlist (EDGEWARDEN_MODEL_URL_ALLOW) admits. 127.0.0.2 plays
// the LAN model server, 127.0.0.1 the internal endpoint that must never be reached.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  modelAgentSetup,
  startModelAgent,
  type ModelAgentSetup,
} from '../../../test/fixtures/modelAgentProcess.js';
import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';

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

let setup: ModelAgentSetup;
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
  setup = await modelAgentSetup('edgewarden-m1-');
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
  await setup?.remove();
});

test('model URLs on loopback, by name or behind a redirect, are refused; the allowlisted LAN server serves', async () => {
  const agent = await startModelAgent(setup, { EDGEWARDEN_MODEL_URL_ALLOW: '127.0.0.2/32' });
  try {
    const offer = {
      version: 'm1-1',
      agent: 'auth',
      features: ['failures', 'successes', 'failure_sources'],
      threshold: 0.9,
      sha256,
      source: { url: `${lanUrl}/model.onnx` },
    };
    const put = agent.offer;
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
    expect(agent.output()).not.toContain(INTERNAL);

    // The LAN server the allowlist admits: validated, then installed, manifest and all.
    const lanOffer = { ...offer, manifest: { url: `${lanUrl}/manifest.json` } };
    const dry = await put({ ...lanOffer, dryRun: true });
    expect(dry.status).toBe(200);
    const installed = await put(lanOffer);
    expect(installed.status).toBe(200);
    expect(JSON.parse(installed.text)).toMatchObject({ version: 'm1-1', sha256 });
  } finally {
    await agent.stop();
  }
});
