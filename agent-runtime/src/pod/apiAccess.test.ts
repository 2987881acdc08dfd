// Who may use an agent's HTTP API, as its environment says (issue 20, H2).
import { accessFrom } from './config.js';

const digest = 'a'.repeat(64);

test('the digests, the opt-out and /metrics, from the environment; defaults are closed', () => {
  expect(accessFrom({})).toEqual({
    controlSha256: undefined,
    readSha256: undefined,
    open: false,
    metricsNeedToken: false,
  });
  expect(
    accessFrom({
      EDGEWARDEN_CONTROL_TOKEN_SHA256: digest,
      EDGEWARDEN_READ_TOKEN_SHA256: digest,
      EDGEWARDEN_API_AUTH: 'token',
      EDGEWARDEN_METRICS_AUTH: 'token',
    }),
  ).toEqual({ controlSha256: digest, readSha256: digest, open: false, metricsNeedToken: true });
  expect(accessFrom({ EDGEWARDEN_API_AUTH: 'none' }).open).toBe(true);
});

test('a bad value stops the agent with a message naming the key', () => {
  expect(() => accessFrom({ EDGEWARDEN_READ_TOKEN_SHA256: 'not-hex' })).toThrow(
    /EDGEWARDEN_READ_TOKEN_SHA256: must be 64 lowercase hex digits/,
  );
  expect(() => accessFrom({ EDGEWARDEN_API_AUTH: 'off' })).toThrow(
    /EDGEWARDEN_API_AUTH: must be one of token, none, not "off"/,
  );
  expect(() => accessFrom({ EDGEWARDEN_METRICS_AUTH: 'yes' })).toThrow(/EDGEWARDEN_METRICS_AUTH/);
});

test('the triage token’s digest (issue 21), checked like the others', () => {
  const triage = 'b'.repeat(64);
  expect(accessFrom({ EDGEWARDEN_TRIAGE_TOKEN_SHA256: triage }).triageSha256).toBe(triage);
  expect(accessFrom({}).triageSha256).toBeUndefined();
  expect(() => accessFrom({ EDGEWARDEN_TRIAGE_TOKEN_SHA256: 'B'.repeat(64) })).toThrow(
    /EDGEWARDEN_TRIAGE_TOKEN_SHA256: must be 64 lowercase hex digits/,
  );
});
