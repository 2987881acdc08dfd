// Alerts to a real local HTTP receiver (for Slack and the generic webhook) and a real local
// SMTP server.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

import type { Anomaly } from '../agents/types.js';
import { Notifier } from './notifier.js';

interface Received {
  path: string;
  body: unknown;
}

let http: Server;
let httpPort: number;
let received: Received[] = [];
let failWith: number | undefined;
let smtp: SMTPServer;
let smtpPort: number;
let mails: { from: string; to: string[]; data: string }[] = [];

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(body) as unknown });
      res.statusCode = failWith ?? 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as AddressInfo).port;

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, session, callback) {
      let data = '';
      stream.on('data', (d: Buffer) => (data += d.toString()));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => http.close(r));
  await new Promise<void>((r) => smtp.close(() => r()));
});

beforeEach(() => {
  received = [];
  mails = [];
  failWith = undefined;
});

function anomaly(overrides: Partial<Anomaly> = {}): Anomaly {
  return {
    agent: 'auth',
    device: 'gw-home',
    type: 'brute_force',
    severity: 4,
    confidence: 0.9,
    score: 0.7,
    windowStart: '2026-11-23T10:00:00.000Z',
    windowEnd: '2026-11-23T10:05:00.000Z',
    description: '12 failed logins from 203.0.113.5',
    features: { failures: 12 },
    evidence: [1, 2],
    ...overrides,
  };
}

const notifier = (overrides: Partial<ConstructorParameters<typeof Notifier>[0]> = {}): Notifier =>
  new Notifier({
    agentName: 'ssh-guard',
    slackUrl: `http://127.0.0.1:${httpPort}/slack/T000/B000/secret-token`,
    webhookUrl: `http://127.0.0.1:${httpPort}/hook`,
    email: {
      smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
      from: 'edgewarden@example.net',
      to: ['admin@example.net', 'noc@example.net'],
    },
    minSeverity: 4,
    cooldownMs: 15 * 60_000,
    ...overrides,
  });

test('an alert goes to Slack, the webhook and e-mail', async () => {
  const n = notifier();
  const report = await n.notify([anomaly()]);
  n.close();
  expect(report).toEqual({ sent: 1, suppressed: 0, failures: [] });
  const slack = received.find((r) => r.path.startsWith('/slack'));
  expect(slack?.body).toEqual({
    text: ':rotating_light: [high] auth/brute_force on gw-home: 12 failed logins from 203.0.113.5 (agent ssh-guard)',
  });
  const hook = received.find((r) => r.path === '/hook');
  expect(hook?.body).toMatchObject({
    agentName: 'ssh-guard',
    anomaly: { type: 'brute_force', severity: 4, device: 'gw-home' },
  });
  expect(mails).toHaveLength(1);
  expect(mails[0]).toMatchObject({
    from: 'edgewarden@example.net',
    to: ['admin@example.net', 'noc@example.net'],
  });
  expect(mails[0]!.data).toContain('Subject: [edgewarden] high: brute_force on gw-home');
  expect(mails[0]!.data).toContain('12 failed logins from 203.0.113.5');
});

test('below the alert severity nothing is sent; within the cooldown a repeat is suppressed', async () => {
  const n = notifier({ email: undefined, webhookUrl: undefined });
  const t0 = Date.parse('2026-11-23T10:05:00Z');
  expect(await n.notify([anomaly({ severity: 3 })], t0)).toEqual({
    sent: 0,
    suppressed: 0,
    failures: [],
  });
  expect(await n.notify([anomaly()], t0)).toMatchObject({ sent: 1 });
  expect(await n.notify([anomaly()], t0 + 10 * 60_000)).toMatchObject({ sent: 0, suppressed: 1 });
  expect(await n.notify([anomaly({ device: 'ap-attic' })], t0 + 10 * 60_000)).toMatchObject({
    sent: 1,
  }); // another device
  expect(await n.notify([anomaly()], t0 + 16 * 60_000)).toMatchObject({ sent: 1 }); // cooldown over
  expect(received).toHaveLength(3);
  n.close();
});

test('a failing channel is reported without its URL, and the others still deliver', async () => {
  failWith = 500;
  const n = notifier({
    email: { smtpUrl: 'smtp://127.0.0.1:1', from: 'e@example.net', to: ['a@example.net'] },
  });
  const report = await n.notify([anomaly()]);
  n.close();
  expect(report.sent).toBe(1);
  expect(report.failures.map((f) => f.channel).sort()).toEqual(['email', 'slack', 'webhook']);
  expect(report.failures.find((f) => f.channel === 'slack')?.error).toBe('HTTP 500');
  expect(JSON.stringify(report)).not.toContain('secret-token');

  failWith = undefined;
  const down = notifier({ slackUrl: 'http://127.0.0.1:1/slack/secret-token', email: undefined });
  const second = await down.notify([anomaly({ type: 'credential_stuffing' })]);
  down.close();
  expect(second.failures.map((f) => f.channel)).toEqual(['slack']);
  expect(JSON.stringify(second)).not.toContain('secret-token');
  expect(received.map((r) => r.path)).toContain('/hook'); // the webhook still got it
});
