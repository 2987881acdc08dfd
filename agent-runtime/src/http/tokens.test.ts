import { controlTokenDigest } from '../contract/index.js';
import {
  authorized,
  checkNotReadToken,
  checkReadAccess,
  checkTriageAccess,
  presentedToken,
  readNeedsToken,
  tokenMatches,
  type ApiAccess,
} from './tokens.js';

const control = 'the-control-token';
const read = 'the-read-token';
const access: ApiAccess = {
  controlSha256: controlTokenDigest(control),
  readSha256: controlTokenDigest(read),
};

test('a token travels as a bearer token or in X-Edgewarden-Token; the bearer token wins', () => {
  expect(presentedToken({ authorization: 'Bearer abc' })).toBe('abc');
  expect(presentedToken({ 'x-edgewarden-token': ' abc ' })).toBe('abc');
  expect(presentedToken({ authorization: 'Bearer abc', 'x-edgewarden-token': 'def' })).toBe('abc');
  expect(presentedToken({ 'x-edgewarden-token': ['abc', 'def'] })).toBe('abc');
  for (const authorization of ['Basic abc', 'Bearer', 'Bearer a b', 'bearer abc', ''])
    expect(presentedToken({ authorization })).toBeUndefined();
  expect(presentedToken({ 'x-edgewarden-token': '  ' })).toBeUndefined();
  expect(presentedToken({})).toBeUndefined();
});

test('tokenMatches compares digests; nothing matches an unset digest', () => {
  expect(tokenMatches(control, access.controlSha256)).toBe(true);
  expect(tokenMatches(read, access.controlSha256)).toBe(false);
  expect(tokenMatches(undefined, access.controlSha256)).toBe(false);
  expect(tokenMatches(control, undefined)).toBe(false);
  expect(tokenMatches(control, 'abcd')).toBe(false); // a digest of the wrong length
  expect(authorized(`Bearer ${control}`, access.controlSha256!)).toBe(true);
  expect(authorized(`Bearer ${read}`, access.controlSha256!)).toBe(false);
  expect(authorized(undefined, access.controlSha256!)).toBe(false);
});

test('read routes: 401 without a token, 403 with a wrong one, the read or the control token opens', () => {
  expect(checkReadAccess(access, undefined)).toMatchObject({ ok: false, code: 401 });
  expect(checkReadAccess(access, 'wrong')).toMatchObject({ ok: false, code: 403 });
  expect(checkReadAccess(access, read)).toEqual({ ok: true });
  expect(checkReadAccess(access, control)).toEqual({ ok: true });
  expect(checkReadAccess({ readSha256: access.readSha256 }, read)).toEqual({ ok: true });
});

test('with no digest configured every read is refused, and the refusal says why', () => {
  const none = checkReadAccess({}, undefined);
  expect(none).toMatchObject({ ok: false, code: 401 });
  expect(JSON.stringify(none)).toContain('EDGEWARDEN_CONTROL_TOKEN_SHA256');
  expect(checkReadAccess({}, control)).toMatchObject({ ok: false, code: 403 });
});

test('control routes refuse the read token; the rest is the route’s own check', () => {
  expect(checkNotReadToken(access, read)).toMatchObject({ ok: false, code: 403 });
  expect(checkNotReadToken(access, control)).toEqual({ ok: true });
  expect(checkNotReadToken(access, 'wrong')).toEqual({ ok: true });
  expect(checkNotReadToken(access, undefined)).toEqual({ ok: true });
});

test('which reads need a token: all unless opted out; /metrics only when told so', () => {
  expect(readNeedsToken(access)).toBe(true);
  expect(readNeedsToken(access, true)).toBe(false);
  expect(readNeedsToken({ ...access, metricsNeedToken: true }, true)).toBe(true);
  expect(readNeedsToken({ open: true })).toBe(false);
  expect(readNeedsToken({ open: true, metricsNeedToken: true }, true)).toBe(false);
});

describe('the triage token (issue 21)', () => {
  const triage = 'the-triage-token';
  const all: ApiAccess = { ...access, triageSha256: controlTokenDigest(triage) };

  test('opens the triage route and the read routes; the control token opens the triage route too', () => {
    expect(checkTriageAccess(all, triage)).toEqual({ ok: true });
    expect(checkTriageAccess(all, control)).toEqual({ ok: true });
    expect(checkReadAccess(all, triage)).toEqual({ ok: true });
    expect(checkReadAccess({ triageSha256: all.triageSha256 }, triage)).toEqual({ ok: true });
  });

  test('the triage route: 401 without a token, 403 for the read token or any other', () => {
    expect(checkTriageAccess(all, undefined)).toMatchObject({ ok: false, code: 401 });
    expect(checkTriageAccess(all, read)).toMatchObject({
      ok: false,
      code: 403,
      body: { message: 'the read token does not open this route' },
    });
    expect(checkTriageAccess(all, 'wrong')).toMatchObject({ ok: false, code: 403 });
    // Without a triage digest only the control token triages; without either, none does.
    expect(checkTriageAccess(access, triage)).toMatchObject({ ok: false, code: 403 });
    const none = checkTriageAccess({ readSha256: access.readSha256 }, 'x');
    expect(JSON.stringify(none)).toContain('EDGEWARDEN_TRIAGE_TOKEN_SHA256');
  });

  test('the control routes refuse the triage token 403', () => {
    expect(checkNotReadToken(all, triage)).toMatchObject({
      ok: false,
      code: 403,
      body: { message: 'the triage token does not open this route' },
    });
    expect(checkNotReadToken(all, control)).toEqual({ ok: true });
  });
});
