// A small Kubernetes REST client for the writes a controller makes: server-side apply of any
// object and of its status subresource, get, delete, create, list. Every call goes through one
// request function, over the connection kubeConfig.ts builds (server, TLS, credentials); the
// informers' watches (watch.ts) go through the same connection (requests through its capped
// keep-alive agent, watches through one of their own).
import http from 'node:http';
import https from 'node:https';

import type { ObjectMeta as ApiObjectMeta, OwnerReference } from '../../../api/src/objectMeta.js';
import type { Connection } from './kubeConfig.js';

/** An object's metadata as the server returns it: Kubernetes' ObjectMeta, with a name. */
export type ObjectMeta = ApiObjectMeta & { name: string };
export type { OwnerReference };

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** An error from the API server, with its HTTP code and the Status reason. */
export class ApiError extends Error {
  readonly code = 'EW_KUBE_API';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409;
  }
  /** 410 Gone: a watch's resourceVersion is too old; list again. */
  get gone(): boolean {
    return this.status === 410;
  }
}

/** The error of a response with `status` and body `text` (a Status object, usually), to `what`. */
export function apiError(status: number, text: string, what: string): ApiError {
  let reason = 'Unknown';
  let message = text.slice(0, 500);
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    reason = s.reason ?? reason;
    message = s.message ?? message;
  } catch {
    // not a Status object: keep the raw text
  }
  return new ApiError(status, reason, `${what}: ${status} ${reason}: ${message}`);
}

/** Where a kind lives: its API path prefix and plural resource name. */
export interface Resource {
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export function resourcePath(r: Resource, namespace?: string, name?: string): string {
  const base = r.apiVersion.includes('/') ? `/apis/${r.apiVersion}` : `/api/${r.apiVersion}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** Host and port of a URL as http.request wants them (an IPv6 host without its brackets). */
export function hostAndPort(url: URL): { hostname: string; port: string } {
  const h = url.hostname;
  return { hostname: h.startsWith('[') ? h.slice(1, -1) : h, port: url.port };
}

export class KubeClient {
  constructor(
    /** The way to the API server, shared with the informers' watches. */
    readonly connection: Connection,
    /** The field manager of every server-side apply. */
    readonly fieldManager: string,
  ) {}

  async request<T>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      contentType?: string;
      accept?: string;
      query?: Record<string, string>;
    } = {},
  ): Promise<T> {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const { status, text, url } = await this.send(method, path, { ...options, body });
    if (status >= 200 && status < 300) return (text ? JSON.parse(text) : undefined) as T;
    throw apiError(status, text, `${method} ${url.pathname}`);
  }

  /**
   * One request with the body as given (text), any status answered as it is, with the
   * response's headers: for what is not a Kubernetes object (an agent pod's API through the
   * API server's pod proxy, `kubectl edgewarden`). A 401 drops cached credentials, as request's.
   */
  async send(
    method: string,
    path: string,
    options: {
      body?: string;
      contentType?: string;
      accept?: string;
      query?: Record<string, string>;
      headers?: Record<string, string>;
    } = {},
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string; url: URL }> {
    const url = new URL(path, this.connection.server);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const body = options.body;
    const { headers, ...tls } = await this.connection.requestOptions();
    const opts: https.RequestOptions = {
      ...tls,
      method,
      ...hostAndPort(url),
      path: `${url.pathname}${url.search}`,
      headers: {
        ...options.headers,
        ...headers,
        Accept: options.accept ?? 'application/json',
        ...(body !== undefined
          ? {
              'Content-Type': options.contentType ?? 'application/json',
              'Content-Length': Buffer.byteLength(body),
            }
          : {}),
      },
      timeout: 30_000,
    };
    const transport = url.protocol === 'https:' ? https : http;
    const answer = await new Promise<{
      status: number;
      headers: http.IncomingHttpHeaders;
      text: string;
    }>((resolve, reject) => {
      const req = transport.request(opts, (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: data }),
        );
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(body);
    });
    if (answer.status === 401) this.connection.invalidateCredentials();
    return { ...answer, url };
  }

  get<T extends KubeObject>(r: Resource, namespace: string | undefined, name: string): Promise<T> {
    return this.request<T>('GET', resourcePath(r, namespace, name));
  }

  /** The object, or undefined when it does not exist. */
  async find<T extends KubeObject>(
    r: Resource,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(r, namespace, name);
    } catch (error) {
      if (error instanceof ApiError && error.notFound) return undefined;
      throw error;
    }
  }

  /**
   * An object's metadata only (a PartialObjectMetadata), or undefined when it does not exist:
   * enough to see who owns it, without its data (the operator never holds a Secret's values).
   */
  async findMetadata(
    r: Resource,
    namespace: string | undefined,
    name: string,
  ): Promise<{ metadata: ObjectMeta } | undefined> {
    try {
      return await this.request<{ metadata: ObjectMeta }>('GET', resourcePath(r, namespace, name), {
        accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
      });
    } catch (error) {
      if (error instanceof ApiError && error.notFound) return undefined;
      throw error;
    }
  }

  /** Server-side apply: the fields in `object` are ours (forced), the rest stay whoever's. */
  apply<T extends KubeObject>(r: Resource, object: KubeObject): Promise<T> {
    return this.request<T>(
      'PATCH',
      resourcePath(r, object.metadata.namespace, object.metadata.name),
      {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: this.fieldManager, force: 'true' },
      },
    );
  }

  /** Server-side apply of the status subresource (`object` holds apiVersion, kind, metadata.name and status). */
  applyStatus<T extends KubeObject>(r: Resource, object: KubeObject): Promise<T> {
    return this.request<T>(
      'PATCH',
      `${resourcePath(r, object.metadata.namespace, object.metadata.name)}/status`,
      {
        body: object,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: this.fieldManager, force: 'true' },
      },
    );
  }

  /** A JSON merge patch (for metadata we share, such as finalizers). */
  mergePatch<T extends KubeObject>(
    r: Resource,
    namespace: string | undefined,
    name: string,
    patch: unknown,
  ): Promise<T> {
    return this.request<T>('PATCH', resourcePath(r, namespace, name), {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  create<T extends KubeObject>(r: Resource, object: KubeObject): Promise<T> {
    return this.request<T>('POST', resourcePath(r, object.metadata.namespace), { body: object });
  }

  async delete(r: Resource, namespace: string | undefined, name: string): Promise<void> {
    try {
      await this.request('DELETE', resourcePath(r, namespace, name), {
        body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' },
      });
    } catch (error) {
      if (!(error instanceof ApiError && error.notFound)) throw error;
    }
  }

  list<T extends KubeObject>(
    r: Resource,
    namespace?: string,
    labelSelector?: string,
  ): Promise<{ items: T[]; metadata: { resourceVersion?: string } }> {
    return this.request('GET', resourcePath(r, namespace), {
      query: labelSelector ? { labelSelector } : {},
    });
  }
}
