// GET /progress (the run's ExportProgress as JSON) and GET /healthz, for the operator's polls
// and the pod's probes. Plain node:http: two read-only routes need no framework.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { exportPaths, type ExportProgress } from '../contract/export.js';

export class ProgressServer {
  private constructor(private readonly server: Server) {}

  static async listen(port: number, progress: () => ExportProgress): Promise<ProgressServer> {
    const server = createServer((req, res) => {
      const route = (req.url ?? '/').split('?')[0];
      const send = (code: number, body: unknown): void => {
        res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'GET only' });
      if (route === exportPaths.progress) return send(200, progress());
      if (route === exportPaths.health) return send(200, { status: 'ok' });
      send(404, { error: `not found: ${route}` });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => resolve());
    });
    return new ProgressServer(server);
  }

  port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
