// Issue 20, H1: a model offer whose manifest (or model) is the bytes of a Secret, as a
// ModelDeployment naming a Secret key as `manifestKey` would make it, offered to a real
// `edgewarden agent` process. Its refusal, its /status and its log name the reason, the field,
// the size and our hash, and never any of the Secret's text.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';
import { controlTokenDigest } from '../contract/index.js';
import { startPostgres, type PostgresServer } from '../../../test/services/postgres.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SECRET = 'hunter2-SuperSecret!';
/** Any 6 characters in a row of the secret would be a leak. */
const pieces = Array.from({ length: SECRET.length - 5 }, (_, i) => SECRET.slice(i, i + 6));
const leaks = (text: string): string[] => pieces.filter((p) => text.includes(p));

let server: PostgresServer;
let dir: string;

beforeAll(async () => {
  server = await startPostgres();
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-h1-'));
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
});

afterAll(async () => {
  await server?.remove();
  await rm(dir, { recursive: true, force: true });
});

test('a manifest or model that is a Secret: refused by reason, and none of its text is answered, served or logged', async () => {
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
      // Run as by hand: /status, /anomalies open (issue 20, H2; apiAuth.data.test checks the tokens).
      EDGEWARDEN_API_AUTH: 'none',
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
    const url = (p: string): string => `http://127.0.0.1:${port}${p}`;
    const bytes = logisticRegressionOnnx([0, 0, 0], 6);
    const base64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');
    const offer = {
      version: 'h1-1',
      agent: 'auth',
      features: ['failures', 'successes', 'failure_sources'],
      threshold: 0.9,
      source: { inline: base64(bytes) },
    };
    const put = async (body: unknown) => {
      const answer = await fetch(url('/model'), {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: answer.status, text: await answer.text() };
    };

    const cases = [
      // The Secret's value as the manifest: not JSON (JSON.parse quoted it).
      { ...offer, manifest: { inline: base64(SECRET) } },
      // A JSON string: not an object.
      { ...offer, manifest: { inline: base64(JSON.stringify(SECRET)) } },
      // JSON whose values and keys the schema refuses (the validator quoted the values).
      {
        ...offer,
        manifest: {
          inline: base64(
            JSON.stringify({ version: SECRET, agent: SECRET, features: [SECRET], [SECRET]: 1 }),
          ),
        },
      },
      // The Secret's value as the model's bytes.
      { ...offer, sha256: undefined, source: { inline: base64(SECRET) } },
    ];
    for (const body of cases) {
      for (const dryRun of [true, false]) {
        const answer = await put({ ...body, dryRun });
        expect(answer.status).toBe(422);
        expect(JSON.parse(answer.text)).toMatchObject({
          reason: expect.stringMatching(/^(ManifestInvalid|InvalidModel)$/) as string,
        });
        expect(leaks(answer.text)).toEqual([]);
      }
    }
    const status = await (await fetch(url('/status'))).text();
    expect(JSON.parse(status)).toMatchObject({
      model: { lastFailure: { reason: 'InvalidModel' } },
    });
    expect(leaks(status)).toEqual([]);
    expect(output).toContain('model refused');
    expect(leaks(output)).toEqual([]);
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
  expect(leaks(output)).toEqual([]);
});
