// The operator's HTTP endpoints: /healthz (the process is alive), /readyz (its controllers'
// caches have synced, or it is a standby waiting for the lease), /metrics (Prometheus).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface Probes {
  healthy(): boolean;
  ready(): { ready: boolean; reason?: string };
}

export async function serveProbes(
  port: number,
  host: string,
  registry: Registry,
  probes: Probes,
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (path === '/healthz')
      return send(probes.healthy() ? 200 : 503, probes.healthy() ? 'ok\n' : 'shutting down\n');
    if (path === '/readyz') {
      const r = probes.ready();
      return send(r.ready ? 200 : 503, r.ready ? 'ok\n' : `${r.reason ?? 'not ready'}\n`);
    }
    if (path === '/metrics') {
      registry
        .metrics()
        .then((text) => send(200, text, registry.contentType))
        .catch((error: Error) => send(500, error.message));
      return;
    }
    send(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
