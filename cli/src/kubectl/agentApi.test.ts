import { refusal } from './agentApi.js';

const t = { namespace: 'edge', pod: 'auth-0', token: 'x' };

test("the API server's refusal apart from the agent's", () => {
  const status = JSON.stringify({
    kind: 'Status',
    reason: 'Forbidden',
    message: 'pods "auth-0" is forbidden',
  });
  expect(refusal(t, 'GET', 403, status)).toBe('forbidden: you may not read pods/proxy in edge');
  expect(refusal(t, 'POST', 403, status)).toBe('forbidden: you may not create pods/proxy in edge');
  expect(refusal(t, 'GET', 503, JSON.stringify({ kind: 'Status', message: 'no endpoints' }))).toBe(
    'pod auth-0 in edge: the API server answered 503: no endpoints',
  );
  expect(
    refusal(
      t,
      'POST',
      409,
      JSON.stringify({ reason: 'InvalidTransition', message: 'resolved -> acknowledged' }),
    ),
  ).toBe('pod auth-0 in edge: HTTP 409: InvalidTransition: resolved -> acknowledged');
  expect(refusal(t, 'POST', 403, JSON.stringify({ error: 'read token' }))).toContain(
    'pod auth-0 in edge refused the token (403: read token)',
  );
  expect(refusal(t, 'GET', 502, '<html>bad gateway</html>')).toBe('pod auth-0 in edge: HTTP 502');
});
