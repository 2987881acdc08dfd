// Requests to agent pods: failures name the request, the pod and the address asked, say why
// in words (the time waited, the network error), and never quote what the agent answered.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import {
  AgentRequestError,
  answerJson,
  describeRequest,
  failureAtAddress,
  requestAgent,
  whyNoAnswer,
  type AgentRequest,
} from '../domain/agentRequest.js';
import { OfferRefused } from './modelDeployment/offerRefused.js';
import { offerModel, unloadModel } from './modelDeployment/delivery.js';
import type { AgentPod } from '../domain/agentPod.js';
import { fetchAgentStatus } from '../domain/agentPodClient.js';

const put: AgentRequest = {
  method: 'PUT',
  path: '/model',
  pod: 'dns-agent-0',
  address: '10.42.0.7:8080',
};

test('a request is named by method, path, pod and address', () => {
  expect(describeRequest(put)).toBe('PUT /model to pod dns-agent-0 at 10.42.0.7:8080');
  const e = new AgentRequestError(put, 'no answer within 120 s');
  expect(e.message).toBe('PUT /model to pod dns-agent-0 at 10.42.0.7:8080: no answer within 120 s');
  expect(e.atAddress).toBe('PUT /model at 10.42.0.7:8080: no answer within 120 s');
  expect(failureAtAddress(e)).toBe(e.atAddress);
  expect(failureAtAddress(new Error('other'))).toBe('other');
});

test('why there was no answer, in words', () => {
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
  expect(whyNoAnswer(timeout, 120_000)).toBe('no answer within 120 s');
  expect(whyNoAnswer(timeout, 1500)).toBe('no answer within 1.5 s');
  const refused = Object.assign(new TypeError('fetch failed'), {
    cause: Object.assign(new Error('connect ECONNREFUSED 10.42.0.7:8080'), {
      code: 'ECONNREFUSED',
    }),
  });
  expect(whyNoAnswer(refused, 1000)).toBe('connection refused (nothing listens on that port)');
  expect(
    whyNoAnswer(
      Object.assign(new TypeError('fetch failed'), { cause: { code: 'EHOSTUNREACH' } }),
      1,
    ),
  ).toBe("no route to the pod's address");
  // Unknown: the network library's own message, the cause's first.
  expect(
    whyNoAnswer(Object.assign(new TypeError('fetch failed'), { cause: new Error('odd') }), 1),
  ).toBe('odd');
  expect(whyNoAnswer(new Error('plain'), 1)).toBe('plain');
});

describe('against an HTTP server standing in for an agent pod', () => {
  let server: Server;
  let port: number;
  /** What the server does with the next request. */
  let answer: (res: ServerResponse) => void;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => answer(res));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const pod = (p = port): AgentPod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dns-agent-0', namespace: 'home' },
    spec: { containers: [{ name: 'agent', ports: [{ name: 'http', containerPort: p }] }] },
    status: { phase: 'Running', podIP: '127.0.0.1' },
  });
  const offer = {
    version: '2026.12.1',
    agent: 'dns',
    features: ['queries'],
    source: { inline: 'AAAA' },
  };

  test('an offer that times out names the pod, its address and PUT /model', async () => {
    answer = () => undefined; // never answers
    const error = await offerModel(pod(), 8080, 'token', offer, 200).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AgentRequestError);
    expect((error as Error).message).toBe(
      `PUT /model to pod dns-agent-0 at 127.0.0.1:${port}: no answer within 0.2 s`,
    );
  });

  test('a refused connection, a 5xx, and a DELETE say so, naming the request', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    await expect(offerModel(pod(closed), 8080, 't', offer, 2000)).rejects.toThrow(
      `PUT /model to pod dns-agent-0 at 127.0.0.1:${closed}: connection refused (nothing listens on that port)`,
    );
    answer = (res) => res.writeHead(503).end('upstream secret detail');
    const failed = (await offerModel(pod(), 8080, 't', offer, 2000).catch(
      (e: unknown) => e,
    )) as Error;
    expect(failed.message).toBe(
      `PUT /model to pod dns-agent-0 at 127.0.0.1:${port}: the agent answered HTTP 503`,
    );
    await expect(unloadModel(pod(), 8080, 't', 2000)).rejects.toThrow(
      `DELETE /model to pod dns-agent-0 at 127.0.0.1:${port}: the agent answered HTTP 503`,
    );
  });

  test('an answer that is not JSON is said to be so, never quoted', async () => {
    answer = (res) => res.writeHead(200).end('password=hunter2 is not JSON');
    const error = (await offerModel(pod(), 8080, 't', offer, 2000).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toBe(
      `PUT /model to pod dns-agent-0 at 127.0.0.1:${port}: the agent answered HTTP 200 with a body that is not JSON`,
    );
    expect(error.message).not.toContain('hunter2');
    await expect(fetchAgentStatus(pod(), 8080, 2000)).rejects.toThrow(
      `GET /status to pod dns-agent-0 at 127.0.0.1:${port}: the agent answered HTTP 200 with a body that is not JSON`,
    );
  });

  test("a refusal keeps the agent's reason; one without a reason names the request", async () => {
    answer = (res) =>
      res
        .writeHead(422, { 'content-type': 'application/json' })
        .end(JSON.stringify({ reason: 'ChecksumMismatch', message: 'sha256 differs' }));
    await expect(offerModel(pod(), 8080, 't', offer, 2000)).rejects.toEqual(
      new OfferRefused('ChecksumMismatch', 'sha256 differs', 422),
    );
    answer = (res) => res.writeHead(404).end('<html>not here</html>');
    const refused = (await offerModel(pod(), 8080, 't', offer, 2000).catch(
      (e: unknown) => e,
    )) as OfferRefused;
    expect(refused).toBeInstanceOf(OfferRefused);
    expect([refused.reason, refused.message]).toEqual([
      'HTTP404',
      `PUT /model to pod dns-agent-0 at 127.0.0.1:${port}: the agent answered HTTP 404 without a reason`,
    ]);
  });

  test('requestAgent and answerJson on a good answer', async () => {
    answer = (res) => res.writeHead(200).end('{"ok":true}');
    const request = { ...put, method: 'GET' as const, address: `127.0.0.1:${port}` };
    const response = await requestAgent(request, `http://127.0.0.1:${port}/x`, {}, 2000);
    expect(await answerJson(request, response, 2000)).toEqual({ ok: true });
  });
});
