// The operator reads an agent pod's /status with the agent's control token (issue 20, H2), in
// X-Edgewarden-Token; an agent's refusal is an AgentRequestError that never quotes its body.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { AgentPod } from './agentPod.js';
import { fetchAgentStatus } from './agentPodClient.js';

let server: Server;
let port: number;
const seen: IncomingHttpHeaders[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.headers['x-edgewarden-token'] !== 'control-token') {
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end('{"reason":"Unauthorized"}');
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ agent: 'dns', linesAnalyzed: 7 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise((r) => server.close(r)));

const pod = (): AgentPod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'dns-agent-0', namespace: 'home' },
  spec: { containers: [{ name: 'agent', ports: [{ name: 'http', containerPort: port }] }] },
  status: { phase: 'Running', podIP: '127.0.0.1' },
});

test('GET /status carries the control token', async () => {
  const report = await fetchAgentStatus(pod(), 8080, 2000, 'control-token');
  expect(report).toMatchObject({ linesAnalyzed: 7, pod: 'dns-agent-0' });
  expect(seen.at(-1)!['x-edgewarden-token']).toBe('control-token');
});

test('without it the agent refuses, and the failure says so without the body', async () => {
  await expect(fetchAgentStatus(pod(), 8080, 2000)).rejects.toThrow(
    /^GET \/status to pod dns-agent-0 at 127\.0\.0\.1:\d+: the agent answered HTTP 401$/,
  );
});
