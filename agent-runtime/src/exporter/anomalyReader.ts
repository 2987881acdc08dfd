// Reads one agent pod's anomalies of [from, to) through its GET /anomalies, oldest first, a
// page at a time after a keyset cursor ("timestamp,id" of the last anomaly of the previous
// page), so a resumed run continues exactly where the checkpoint says. The agent's store is a
// SQLite file on the pod's own volume: the API is the only safe way in (see docs/export.md).
// Each request carries the agent's read token (issue 20, H2), read from the file of the
// agent's name in the folder the operator mounts the ExportJob's token Secret at.
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { exportDefaults } from '../contract/export.js';
import { agentPaths, agentTokenHeader } from '../contract/index.js';
import { ANOMALY_ORDER_HEADER, ANOMALY_PAGE_LIMIT, anomalyCursor } from '../http/anomalyQuery.js';
import { retryWithJitter } from '../retry.js';
import { componentLog } from '../log.js';
import type { StoredAnomaly } from '../store/anomalyStore.js';
import { ExportFailure } from './plan.js';

const log = componentLog('export', 'stdout');

export interface AnomalySource {
  agent: string;
  kind: string;
  pod: string;
  url: string;
}

export interface AnomalyReaderOptions {
  from: string;
  to: string;
  minSeverity?: number;
  pageSize: number;
  retries?: number;
  retryDelayMs?: number;
  timeoutMs?: number;
  /** The folder of the agents' read tokens (a file per agent); default exportDefaults.agentTokens. */
  tokenDir?: string;
}

/**
 * The read token of `agent` from its file in `dir`, or undefined when there is none (the agent
 * then refuses the request 401, and the export fails naming it, not the token).
 */
export async function agentReadToken(dir: string, agent: string): Promise<string | undefined> {
  try {
    const token = (await readFile(path.join(dir, path.basename(agent)), 'utf8')).trim();
    return token === '' ? undefined : token;
  } catch {
    return undefined;
  }
}

export class AnomalyReader {
  private token?: Promise<string | undefined>;

  constructor(
    private readonly source: AnomalySource,
    private readonly options: AnomalyReaderOptions,
  ) {}

  /** The page after `after` (from the window's start without one); empty at the end. */
  async page(after: string | undefined): Promise<StoredAnomaly[]> {
    const url = new URL(agentPaths.anomalies, this.source.url.replace(/\/*$/, '/'));
    url.searchParams.set('since', this.options.from);
    url.searchParams.set('until', this.options.to);
    url.searchParams.set('order', 'asc');
    // The agent serves at most ANOMALY_PAGE_LIMIT a page; the next continues after the last.
    url.searchParams.set('limit', String(Math.min(ANOMALY_PAGE_LIMIT, this.options.pageSize)));
    if (this.options.minSeverity)
      url.searchParams.set('minSeverity', String(this.options.minSeverity));
    if (after) url.searchParams.set('after', after);
    const where = `${this.source.pod} (${this.source.agent}) ${url.origin}`;
    const attempts = Math.max(1, this.options.retries ?? 6);
    try {
      return await retryWithJitter(() => this.fetchPage(url, after, where), {
        attempts,
        delayMs: this.options.retryDelayMs ?? 500,
        maxDelayMs: 15_000,
        retryable: (error) => !(error instanceof ExportFailure),
        onRetry: (error) => log.info(`${where}: GET /anomalies: ${failureText(error)}; retrying`),
      });
    } catch (error) {
      if (error instanceof ExportFailure) throw error;
      throw new ExportFailure(
        'AgentUnavailable',
        `${where}: GET /anomalies: ${failureText(error)} (after ${attempts} attempts)`,
      );
    }
  }

  /** One attempt: the page, or an ExportFailure (not retried), or any other error (retried). */
  private async fetchPage(
    url: URL,
    after: string | undefined,
    where: string,
  ): Promise<StoredAnomaly[]> {
    this.token ??= agentReadToken(
      this.options.tokenDir ?? exportDefaults.agentTokens,
      this.source.agent,
    );
    const token = await this.token;
    const response = await fetch(url, {
      headers: token === undefined ? {} : { [agentTokenHeader]: token },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    if (response.ok) {
      if (response.headers.get(ANOMALY_ORDER_HEADER) !== 'asc')
        throw new ExportFailure(
          'AgentTooOld',
          `${where}: GET /anomalies does not page oldest first (no ${ANOMALY_ORDER_HEADER}: asc); the agent needs this edgewarden's version`,
        );
      const rows = (await response.json()) as StoredAnomaly[];
      checkOrder(rows, after, where);
      return rows;
    }
    const body = await response.text().catch(() => '');
    const failure = `HTTP ${response.status}${body ? `: ${body.slice(0, 200)}` : ''}`;
    if (response.status < 500 && response.status !== 429)
      throw new ExportFailure('AnomalyQueryRefused', `${where}: GET /anomalies: ${failure}`);
    throw new HttpStatusError(failure);
  }
}

/** A 5xx or 429 answer: worth another attempt. */
class HttpStatusError extends Error {}

/** What failed, for the log and the final message: the status, or the error and its code. */
function failureText(error: unknown): string {
  if (error instanceof HttpStatusError) return error.message;
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
}

/** A page must continue strictly after the cursor, oldest first: else it would loop or skip. */
function checkOrder(rows: StoredAnomaly[], after: string | undefined, where: string): void {
  let previous = after;
  for (const a of rows) {
    if (typeof a.timestamp !== 'string' || typeof a.id !== 'number')
      throw new ExportFailure('AgentTooOld', `${where}: anomalies come without timestamp and id`);
    if (previous !== undefined && !isAfter(a, previous))
      throw new ExportFailure(
        'AnomalyOrder',
        `${where}: GET /anomalies returned ${anomalyCursor(a)} after ${previous}: not oldest first`,
      );
    previous = anomalyCursor(a);
  }
}

function isAfter(a: { timestamp: string; id: number }, cursor: string): boolean {
  const comma = cursor.lastIndexOf(',');
  const ts = cursor.slice(0, comma);
  const id = Number(cursor.slice(comma + 1));
  return a.timestamp > ts || (a.timestamp === ts && a.id > id);
}
