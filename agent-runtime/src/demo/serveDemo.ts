// `edgewarden demo --serve`: the demo's store behind the same HTTP endpoints an agent serves
// (/healthz, /readyz, /status, /anomalies, /anomalies/<id>, /metrics), so a dashboard,
// Prometheus or curl can be pointed at it. It serves the run's own open store (in memory, the
// only copy), which the run's caller closes. It reads only: it has no tokens, so no triage.
import type { Server } from 'node:http';
import express from 'express';
import { collectDefaultMetrics } from 'prom-client';

import { agentPaths } from '../contract/index.js';
import { serveAnomalies } from '../http/anomaliesRoute.js';
import { serveAnomaly } from '../http/anomalyRoutes.js';
import type { DemoResult } from './runDemo.js';

export interface DemoServer {
  port: number;
  close(): Promise<void>;
}

export async function serveDemo(result: DemoResult, port: number): Promise<DemoServer> {
  const store = result.store;
  // The agents' metric families as the demo's analysis filled them, and this process's own
  // (memory, CPU, event loop) under the same prefix as an agent's.
  const registry = result.metrics;
  if (!registry.getSingleMetric('edgewarden_process_cpu_user_seconds_total'))
    collectDefaultMetrics({ register: registry, prefix: 'edgewarden_' });
  const app = express();
  app.disable('x-powered-by');
  app.get(agentPaths.health, (_req, res) => void res.json({ status: 'ok' }));
  app.get(agentPaths.ready, (_req, res) => void res.json({ ready: true, reasons: [] }));
  app.get(
    agentPaths.status,
    (_req, res) =>
      void res.json({
        demo: true,
        linesAnalyzed: result.summary.lines,
        anomalies: { total: store.counts().total },
        attacks: result.detections.map((d) => ({
          scenario: d.scenario,
          foundBy: d.anomaly ? `${d.anomaly.agent}/${d.anomaly.type}` : null,
        })),
        precision: result.report.precision,
        recall: result.report.recall,
      }),
  );
  app.get(agentPaths.metrics, async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  app.get(agentPaths.anomalies, serveAnomalies(store));
  app.get(`${agentPaths.anomalies}/:id`, serveAnomaly(store));
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: async () => {
      await new Promise((r) => server.close(r));
    },
  };
}
