// The connection to the API server: its URL, the TLS material, and the keep-alive agents
// requests and watches go through, each request with the credentials of the moment. An exec
// plugin that hands out a new client certificate gets new agents; the old ones' sockets finish
// what they carry and close when idle.
import http from 'node:http';
import https from 'node:https';

import type { Credentials } from './kubeCredentials.js';

/** TLS material and headers for one request. */
export interface ConnectionOptions {
  /** The keep-alive agent every request and watch goes through; it carries the TLS material. */
  agent: http.Agent;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  /** Authorization, when the user authenticates by token or password. */
  headers: Record<string, string>;
}

/** A way to the API server. */
export interface Connection {
  readonly server: URL;
  /** Where it came from, for messages: a file name or "in-cluster". */
  readonly source: string;
  /**
   * The agent, TLS material and auth headers of the next request (credentials refreshed as
   * needed); `watch` for a long-running watch, which gets an uncapped agent of its own.
   */
  requestOptions(kind?: { watch?: boolean }): Promise<ConnectionOptions>;
  /** The server said 401: cached credentials (exec plugin, token file) are fetched again next time. */
  invalidateCredentials(): void;
  /** The current agent (replaced when an exec plugin hands out a new client certificate). */
  readonly agent: http.Agent;
}

/**
 * Sockets for requests; beyond that they queue. Watches do not count: each holds its socket
 * for minutes, one per kind and namespace watched (ten kinds, times the namespaces given to
 * --namespace), so they have an agent of their own without a limit; sharing a capped pool,
 * enough watches would leave no socket for the requests and the operator would stall.
 */
const MAX_SOCKETS = 16;
/** Idle keep-alive sockets close well before the API server's own idle timeout (90 s). */
const IDLE_SOCKET_MS = 30_000;

const sameBuffer = (a: Buffer | undefined, b: Buffer | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.equals(b));

export interface Tls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export class KubeConnection implements Connection {
  readonly server: URL;
  readonly source: string;
  private readonly tls: Tls;
  private readonly credentials: Credentials | undefined;
  private current: { agent: http.Agent; watchAgent: http.Agent; cert?: Buffer; key?: Buffer };

  constructor(options: {
    server: URL;
    source: string;
    tls: Tls;
    credentials: Credentials | undefined;
  }) {
    this.server = options.server;
    this.source = options.source;
    this.tls = options.tls;
    this.credentials = options.credentials;
    this.current = this.makeAgent(this.tls.cert, this.tls.key);
  }

  get agent(): http.Agent {
    return this.current.agent;
  }

  private makeAgent(
    cert: Buffer | undefined,
    key: Buffer | undefined,
  ): { agent: http.Agent; watchAgent: http.Agent; cert?: Buffer; key?: Buffer } {
    const make = (options: http.AgentOptions): http.Agent =>
      this.server.protocol === 'https:'
        ? new https.Agent({
            ...options,
            ca: this.tls.ca,
            cert,
            key,
            rejectUnauthorized: this.tls.rejectUnauthorized,
            servername: this.tls.servername,
          })
        : new http.Agent(options);
    return {
      agent: make({ keepAlive: true, maxSockets: MAX_SOCKETS, timeout: IDLE_SOCKET_MS }),
      watchAgent: make({ keepAlive: false }),
      cert,
      key,
    };
  }

  /** Options for one request; `watch` for a long-running one (its own socket, uncapped). */
  async requestOptions(kind: { watch?: boolean } = {}): Promise<ConnectionOptions> {
    const credential = (await this.credentials?.get()) ?? {};
    const cert = credential.cert ?? this.tls.cert;
    const key = credential.key ?? this.tls.key;
    if (!sameBuffer(cert, this.current.cert) || !sameBuffer(key, this.current.key)) {
      // New client certificate from the exec plugin: requests from now on go through a new
      // agent; the old one's sockets finish what they carry and close when idle.
      this.current = this.makeAgent(cert, key);
    }
    const headers: Record<string, string> = {};
    if (credential.token) headers.Authorization = `Bearer ${credential.token}`;
    else if (credential.basic) headers.Authorization = `Basic ${credential.basic}`;
    return {
      agent: kind.watch ? this.current.watchAgent : this.current.agent,
      ...(this.tls.ca ? { ca: this.tls.ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      rejectUnauthorized: this.tls.rejectUnauthorized,
      ...(this.tls.servername ? { servername: this.tls.servername } : {}),
      headers,
    };
  }

  invalidateCredentials(): void {
    this.credentials?.invalidate?.();
  }
}
