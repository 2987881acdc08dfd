// Alerts: a Slack incoming webhook, a generic JSON webhook, and e-mail over SMTP (nodemailer),
// each from a secret-held URL. An anomaly is sent when it is at least the alert severity and
// its agent, device and type have not alerted within the cooldown. A channel that fails is
// counted and logged without its URL (it may hold a token); it never stops the agent.
import { createRequire } from 'node:module';
import type nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';

import type { Anomaly } from '../agents/types.js';

// nodemailer is required only by an agent that sends e-mail: the others never load its hundred
// modules (issue 22, memory per pod).
const require = createRequire(import.meta.url);

export const SEVERITY_NAMES = ['', 'info', 'low', 'medium', 'high', 'critical'] as const;

export interface NotifierOptions {
  /** Name of the AnalysisAgent, shown in every alert. */
  agentName: string;
  slackUrl?: string;
  webhookUrl?: string;
  email?: { smtpUrl: string; from: string; to: string[] };
  /** Least severity (1-5) that alerts. */
  minSeverity: number;
  cooldownMs: number;
  timeoutMs?: number;
}

export type Channel = 'slack' | 'webhook' | 'email';

export interface SendReport {
  sent: number;
  suppressed: number;
  failures: { channel: Channel; error: string }[];
}

const oneLine = (a: Anomaly): string =>
  `[${SEVERITY_NAMES[a.severity]}] ${a.agent}/${a.type} on ${a.device}: ${a.description}`;

export class Notifier {
  private readonly lastSent = new Map<string, number>();
  private readonly mail: Transporter | undefined;

  constructor(private readonly options: NotifierOptions) {
    const timeout = options.timeoutMs ?? 5000;
    // The URL carries host, port, TLS and credentials; the timeouts keep a dead server from stalling a cycle.
    const smtp: SMTPTransport.Options | undefined = options.email
      ? {
          url: options.email.smtpUrl,
          connectionTimeout: timeout,
          greetingTimeout: timeout,
          socketTimeout: timeout,
        }
      : undefined;
    this.mail = smtp
      ? (require('nodemailer') as typeof nodemailer).createTransport(smtp)
      : undefined;
  }

  channels(): Channel[] {
    return [
      ...(this.options.slackUrl ? (['slack'] as const) : []),
      ...(this.options.webhookUrl ? (['webhook'] as const) : []),
      ...(this.mail ? (['email'] as const) : []),
    ];
  }

  /** Sends what deserves an alert, on every configured channel; never throws. */
  async notify(anomalies: readonly Anomaly[], now = Date.now()): Promise<SendReport> {
    const report: SendReport = { sent: 0, suppressed: 0, failures: [] };
    if (this.channels().length === 0) return report;
    for (const a of anomalies) {
      if (a.severity < this.options.minSeverity) continue;
      const key = `${a.agent}\0${a.device}\0${a.type}`;
      const last = this.lastSent.get(key);
      if (last !== undefined && now - last < this.options.cooldownMs) {
        report.suppressed++;
        continue;
      }
      this.lastSent.set(key, now);
      if (this.lastSent.size > 10_000) this.lastSent.delete(this.lastSent.keys().next().value!);
      const results = await Promise.all(this.channels().map((channel) => this.send(channel, a)));
      for (const failure of results) if (failure) report.failures.push(failure);
      report.sent++;
    }
    return report;
  }

  private async send(
    channel: Channel,
    a: Anomaly,
  ): Promise<{ channel: Channel; error: string } | undefined> {
    try {
      if (channel === 'email') {
        const email = this.options.email!;
        await this.mail!.sendMail({
          from: email.from,
          to: email.to,
          subject: `[edgewarden] ${SEVERITY_NAMES[a.severity]}: ${a.type} on ${a.device}`,
          text: `${oneLine(a)}\n\nagent ${this.options.agentName}, window ${a.windowStart} to ${a.windowEnd}\nfeatures: ${JSON.stringify(a.features)}\n`,
        });
        return undefined;
      }
      const body =
        channel === 'slack'
          ? { text: `:rotating_light: ${oneLine(a)} (agent ${this.options.agentName})` }
          : { agentName: this.options.agentName, anomaly: a };
      const response = await fetch(
        channel === 'slack' ? this.options.slackUrl! : this.options.webhookUrl!,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
        },
      );
      if (!response.ok) return { channel, error: `HTTP ${response.status}` };
      await response.body?.cancel();
      return undefined;
    } catch (error) {
      // The URL may carry a token: report the failure's kind, never the address.
      const message =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      return { channel, error: message.replace(/\b[a-z]+:\/\/\S+/gi, '<url>') };
    }
  }

  close(): void {
    this.mail?.close();
  }
}
