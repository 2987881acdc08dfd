// The two calls of Alertmanager's API v2 the agent makes: POST /api/v2/alerts (firing and
// resolved alerts) and GET /api/v2/alerts (which of ours a silence holds). The URL may carry
// credentials (spec.notifications.alertmanager.urlSecretRef): they travel as a Basic
// Authorization header (fetch refuses a URL with them) and never appear in an error's message,
// nor does the address itself. Each call has a timeout, so a dead Alertmanager cannot stall a cycle.
import type { GettableAlert, PostableAlert } from './alertmanagerAlerts.js';
import { ALERT_NAME } from './alertmanagerAlerts.js';

/** A call to Alertmanager that failed: its kind in the message, without the URL. */
export class AlertmanagerError extends Error {
  readonly code = 'EW_ALERTMANAGER';
  constructor(message: string) {
    super(message);
    this.name = 'AlertmanagerError';
  }
}

export interface AlertmanagerClientOptions {
  /** Alertmanager's base URL (http://alertmanager.monitoring:9093, a path prefix allowed). */
  url: string;
  timeoutMs?: number;
}

/** Which alerts to read back: ours (this AnalysisAgent's), silenced. */
export interface AlertSelector {
  namespace: string;
  agent: string;
}

/** Characters kept of an error response's body: enough for Alertmanager's validation message. */
const BODY_IN_ERROR = 300;

const withoutUrls = (text: string): string =>
  text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '<url>');

/** A matcher value in Alertmanager's filter syntax: quoted, with " and \ escaped. */
const quoted = (value: string): string => JSON.stringify(value);

export class AlertmanagerClient {
  private readonly base: URL;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: AlertmanagerClientOptions) {
    const url = new URL(options.url);
    this.authorization =
      url.username || url.password
        ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
        : undefined;
    url.username = '';
    url.password = '';
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    this.base = url;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Posts alerts (firing or resolved, by their endsAt); throws an AlertmanagerError. */
  async postAlerts(alerts: readonly PostableAlert[]): Promise<void> {
    await this.call('POST', 'api/v2/alerts', JSON.stringify(alerts));
  }

  /**
   * Our alerts that a silence holds (inhibited ones too: a silence may hold an inhibited alert),
   * each with status.silencedBy.
   */
  async silencedAlerts(selector: AlertSelector): Promise<GettableAlert[]> {
    const query = new URLSearchParams({ silenced: 'true', active: 'false', inhibited: 'true' });
    query.append('filter', `alertname=${quoted(ALERT_NAME)}`);
    if (selector.namespace) query.append('filter', `namespace=${quoted(selector.namespace)}`);
    query.append('filter', `agent=${quoted(selector.agent)}`);
    const body = await this.call('GET', `api/v2/alerts?${query.toString()}`);
    if (!Array.isArray(body))
      throw new AlertmanagerError('GET /api/v2/alerts: the answer is not a list of alerts');
    return body as GettableAlert[];
  }

  private async call(method: 'GET' | 'POST', path: string, body?: string): Promise<unknown> {
    const what = `${method} /${path.split('?')[0]}`;
    let response: Response;
    try {
      response = await fetch(new URL(path, this.base), {
        method,
        headers: {
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new AlertmanagerError(`${what}: ${withoutUrls(causeOf(error))}`);
    }
    const text = await response.text().catch(() => '');
    if (!response.ok)
      throw new AlertmanagerError(
        `${what}: HTTP ${response.status}${text ? `: ${withoutUrls(text.slice(0, BODY_IN_ERROR).trim())}` : ''}`,
      );
    if (!text) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new AlertmanagerError(`${what}: the answer is not JSON`);
    }
  }
}

/** The reason of a failed fetch: its cause (ECONNREFUSED, a timeout), else its own message. */
function causeOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'timed out';
  return error.cause instanceof Error ? error.cause.message : error.message;
}
