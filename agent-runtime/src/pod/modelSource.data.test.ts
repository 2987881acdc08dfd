// Issue 20, H1: a model offer whose manifest (or model) is the bytes of a Secret, as a
// ModelDeployment naming a Secret key as `manifestKey` would make it, offered to a real
// `edgewarden agent` process. Its refusal, its /status and its log name the reason, the field,
// the size and our hash, and never any of the Secret's text.

import {
  modelAgentSetup,
  startModelAgent,
  type ModelAgentSetup,
} from '../../../test/fixtures/modelAgentProcess.js';
import { logisticRegressionOnnx } from '../../../test/fixtures/onnx.js';

const SECRET = 'hunter2-SuperSecret!';
/** Any 6 characters in a row of the secret would be a leak. */
const pieces = Array.from({ length: SECRET.length - 5 }, (_, i) => SECRET.slice(i, i + 6));
const leaks = (text: string): string[] => pieces.filter((p) => text.includes(p));

let setup: ModelAgentSetup;

beforeAll(async () => {
  setup = await modelAgentSetup('edgewarden-h1-');
});

afterAll(async () => {
  await setup?.remove();
});

test('a manifest or model that is a Secret: refused by reason, and none of its text is answered, served or logged', async () => {
  const agent = await startModelAgent(setup);
  const { url } = agent;
  try {
    const bytes = logisticRegressionOnnx([0, 0, 0], 6);
    const base64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64');
    const offer = {
      version: 'h1-1',
      agent: 'auth',
      features: ['failures', 'successes', 'failure_sources'],
      threshold: 0.9,
      source: { inline: base64(bytes) },
    };
    const put = agent.offer;

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
    expect(agent.output()).toContain('model refused');
    expect(leaks(agent.output())).toEqual([]);
  } finally {
    await agent.stop();
  }
  expect(leaks(agent.output())).toEqual([]);
});
