// Offers as the agent receives them: the token check, the body check, and the three ways to
// the bytes and to the model's manifest.json (inline, a file on the source volume, a real HTTP
// server on loopback).
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { MAX_MANIFEST_BYTES, MAX_MODEL_BYTES, type ModelOfferRequest } from '../contract/index.js';
import { controlTokenDigest } from '../contract/index.js';
import { addressPolicy, type AddressPolicy } from './addressPolicy.js';
import { authorized, offerBytes, offerManifest, parseOffer } from './delivery.js';
import { checkManifest, ModelError } from './manifest.js';

const base = { version: 'v1', agent: 'auth', features: ['failures'] };
const offer = (source: ModelOfferRequest['source'], sha256?: string): ModelOfferRequest => ({
  ...base,
  source,
  ...(sha256 ? { sha256 } : {}),
});

test('only the token whose digest the agent holds is accepted', () => {
  const digest = controlTokenDigest('s3cret-token');
  expect(authorized('Bearer s3cret-token', digest)).toBe(true);
  expect(authorized('Bearer s3cret-tokem', digest)).toBe(false);
  expect(authorized('s3cret-token', digest)).toBe(false);
  expect(authorized(undefined, digest)).toBe(false);
  expect(authorized('Bearer ', digest)).toBe(false);
});

test('a bad offer is answered with the field that is wrong', () => {
  expect(parseOffer(offer({ inline: 'AA==' }))).toMatchObject(base);
  expect(parseOffer([])).toBe('body: not a JSON object');
  expect(parseOffer({ ...base, version: '' })).toMatch(/^version/);
  expect(parseOffer({ ...base, features: [] })).toMatch(/^features/);
  expect(
    parseOffer({ ...base, features: ['a'], threshold: 'high', source: { inline: '' } }),
  ).toMatch(/^threshold/);
  expect(parseOffer({ ...base, sha256: 'ABC', source: { inline: '' } })).toMatch(/^sha256/);
  expect(parseOffer({ ...base, source: { inline: '', url: 'http://x' } })).toMatch(/^source:/);
  expect(parseOffer({ ...base, source: { url: 'http://x/m.onnx' } })).toMatch(/^sha256: required/);
  expect(parseOffer({ ...base, source: { url: 'ftp://x' }, sha256: 'a'.repeat(64) })).toMatch(
    /^source.url/,
  );
  const withManifest = { ...base, source: { inline: 'AA==' }, manifest: { file: 'm.json' } };
  expect(parseOffer(withManifest)).toEqual(withManifest);
  expect(parseOffer({ ...withManifest, manifest: { file: 'm.json', inline: '' } })).toMatch(
    /^manifest:/,
  );
  expect(parseOffer({ ...withManifest, manifest: { url: 'ftp://x/m.json' } })).toMatch(
    /^manifest.url/,
  );
  expect(parseOffer({ ...withManifest, manifest: { inline: 7 } })).toMatch(/^manifest.inline/);
});

async function refusal(p: Promise<unknown>): Promise<{ reason: string; message: string }> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return { reason: (error as ModelError).reason, message: (error as ModelError).message };
}

/** The test's HTTP server is on loopback, which agents refuse unless allowlisted (issue 20, M1). */
const loopback = { addresses: addressPolicy('127.0.0.0/8') as AddressPolicy };

describe('the bytes and the manifest', () => {
  let dir: string;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-source-'));
    await writeFile(path.join(dir, 'model.onnx'), 'onnx bytes');
    await writeFile(path.join(dir, 'manifest.json'), '{"version": "from the volume"}');
    server = createServer((req, res) => {
      if (req.url === '/model.onnx') return void res.end('downloaded bytes');
      if (req.url === '/manifest.json') return void res.end('{"version": "downloaded"}');
      if (req.url === '/huge.json') {
        res.writeHead(200, { 'content-length': String(MAX_MANIFEST_BYTES + 1) });
        return void res.write('x'.repeat(1024));
      }
      if (req.url === '/huge.onnx') {
        res.writeHead(200, { 'content-length': String(MAX_MODEL_BYTES + 1) });
        return void res.write('x'.repeat(1024));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  test('inline, from the source volume, and downloaded', async () => {
    const inline = Buffer.from('inline bytes').toString('base64');
    expect(Buffer.from(await offerBytes(offer({ inline }), dir)).toString()).toBe('inline bytes');
    expect(Buffer.from(await offerBytes(offer({ file: 'model.onnx' }), dir)).toString()).toBe(
      'onnx bytes',
    );
    expect(
      Buffer.from(
        await offerBytes(offer({ url: `${url}/model.onnx` }, 'a'.repeat(64)), dir, loopback),
      ).toString(),
    ).toBe('downloaded bytes');
  });

  test('a missing file, a path out of the volume, a failed or oversized download are refused', async () => {
    expect(await refusal(offerBytes(offer({ file: 'none.onnx' }), dir))).toMatchObject({
      reason: 'ModelMissing',
    });
    expect(await refusal(offerBytes(offer({ file: '../etc/passwd' }), dir))).toMatchObject({
      reason: 'ManifestInvalid',
    });
    const missing = await refusal(
      offerBytes(offer({ url: `${url}/none.onnx?token=secret` }, 'a'.repeat(64)), dir, loopback),
    );
    expect(missing.reason).toBe('DownloadFailed');
    expect(missing.message).toContain('HTTP 404');
    expect(missing.message).not.toContain('secret'); // a URL's query may be a credential
    const huge = await refusal(
      offerBytes(offer({ url: `${url}/huge.onnx` }, 'a'.repeat(64)), dir, loopback),
    );
    expect(huge.reason).toBe('InvalidModel');
    expect(huge.message).toContain('larger than');
    expect(
      (
        await refusal(
          offerBytes(offer({ url: 'http://127.0.0.1:1/m.onnx' }, 'a'.repeat(64)), dir, loopback),
        )
      ).reason,
    ).toBe('DownloadFailed');
  });

  test("the model's manifest.json: inline, from the volume, downloaded; not JSON or too big refused", async () => {
    const manifest = (m: ModelOfferRequest['manifest']) =>
      offerManifest({ ...offer({ inline: '' }), ...(m ? { manifest: m } : {}) }, dir, loopback);
    expect(await manifest(undefined)).toBeUndefined();
    const inline = Buffer.from('{"version": "inline"}').toString('base64');
    expect(await manifest({ inline })).toEqual({ version: 'inline' });
    expect(await manifest({ file: 'manifest.json' })).toEqual({ version: 'from the volume' });
    expect(await manifest({ url: `${url}/manifest.json` })).toEqual({ version: 'downloaded' });

    const notJson = await refusal(manifest({ file: 'model.onnx' }));
    expect(notJson).toMatchObject({ reason: 'ManifestInvalid' });
    expect(notJson.message).toContain('not JSON');
    expect(await refusal(manifest({ file: 'none.json' }))).toMatchObject({
      reason: 'ModelMissing',
    });
    expect(await refusal(manifest({ file: '../manifest.json' }))).toMatchObject({
      reason: 'ManifestInvalid',
      message: expect.stringContaining('manifest.file') as string,
    });
    const huge = await refusal(manifest({ url: `${url}/huge.json` }));
    expect(huge).toMatchObject({ reason: 'ManifestInvalid' });
    expect(huge.message).toContain(`larger than ${MAX_MANIFEST_BYTES} bytes`);
    const big = Buffer.alloc(MAX_MANIFEST_BYTES + 1, ' ').toString('base64');
    expect((await refusal(manifest({ inline: big }))).message).toContain('the manifest is larger');
  });
});

describe("a manifest that is a Secret's value (issue 20, H1)", () => {
  const SECRET = 'hunter2-SuperSecret!';
  /** Whether any 4 characters in a row of the secret are in the text. */
  const leaks = (text: string): boolean =>
    Array.from({ length: SECRET.length - 3 }, (_, i) => SECRET.slice(i, i + 4)).some((p) =>
      text.includes(p),
    );
  const inline = (text: string) => ({ inline: Buffer.from(text).toString('base64') });

  test('not JSON: refused by reason, size and our hash, none of its text', async () => {
    const refused = await refusal(
      offerManifest({ ...offer({ inline: '' }), manifest: inline(SECRET) }, tmpdir()),
    );
    expect(refused).toMatchObject({ reason: 'ManifestInvalid' });
    expect(refused.message).toMatch(
      /^the manifest of model v1 is not JSON \(20 bytes, sha256 [a-f0-9]{12}\)$/,
    );
    expect(leaks(refused.message)).toBe(false);
  });

  test('JSON the schema refuses: the fields named, none of the values', () => {
    const bad = {
      version: SECRET,
      agent: SECRET,
      features: [SECRET],
      threshold: SECRET,
      [SECRET]: 1,
    };
    let error: unknown;
    try {
      checkManifest(bad, 'the manifest of model v1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelError);
    const { message } = error as ModelError;
    expect(message).toMatch(/version: invalid value/);
    expect(message).toMatch(/agent: unsupported value/);
    expect(message).toMatch(/unknown field/);
    expect(leaks(message)).toBe(false);
  });
});
