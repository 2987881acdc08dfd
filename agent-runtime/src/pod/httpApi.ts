// The agent pod's HTTP endpoints (paths in the contract): liveness and readiness probes,
// Prometheus metrics, the /status body the operator reads, the stored anomalies, and the
// model-delivery protocol's PUT and DELETE /model.
import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';

import { agentPaths, type AgentStatus } from '../contract/index.js';
import { ANOMALY_ORDER_HEADER, parseAnomalyQuery } from '../http/anomalyQuery.js';
import type { AnomalyStore } from '../store/anomalyStore.js';
import type { ModelDelivery } from './modelDelivery.js';

/** Largest PUT /model body: a model inline in base64 (MAX_MODEL_BYTES) and its manifest. */
const OFFER_BODY_LIMIT = '48mb';

export interface AgentApi {
  /** Alive unless the loop has stopped ticking (a wedged cycle). */
  wedged(): boolean;
  readiness(): { ready: boolean; reasons: string[] };
  status(): AgentStatus;
  registry: Registry;
  delivery: ModelDelivery;
  store: AnomalyStore;
}

function routes(api: AgentApi): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get(agentPaths.health, (_req, res) => {
    const wedged = api.wedged();
    res.status(wedged ? 500 : 200).json({ status: wedged ? 'wedged' : 'ok' });
  });
  app.get(agentPaths.ready, (_req, res) => {
    const { ready, reasons } = api.readiness();
    res.status(ready ? 200 : 503).json({ ready, reasons });
  });
  app.get(agentPaths.metrics, async (_req, res) => {
    res.type(api.registry.contentType).send(await api.registry.metrics());
  });
  app.get(agentPaths.status, (_req, res) => {
    res.json(api.status());
  });
  app.put(agentPaths.model, express.json({ limit: OFFER_BODY_LIMIT }), async (req, res) => {
    const answer = await api.delivery.offer(req.get('authorization'), req.body);
    res.status(answer.code).json(answer.body);
  });
  app.delete(agentPaths.model, async (req, res) => {
    const answer = await api.delivery.unload(req.get('authorization'));
    res.status(answer.code).json(answer.body);
  });
  app.get(agentPaths.anomalies, (req, res) => {
    const q = parseAnomalyQuery(req.query);
    if (!q.ok) return void res.status(400).json({ error: q.error });
    res.set(ANOMALY_ORDER_HEADER, q.order);
    res.json(api.store.list(q));
  });
  return app;
}

/** Serves the API on `port` (0: any free one); resolves once listening. */
export async function serveAgentApi(api: AgentApi, port: number): Promise<Server> {
  const app = routes(api);
  return new Promise<Server>((resolve, reject) => {
    const server = app.listen(port, () => resolve(server));
    server.once('error', reject);
  });
}
