// The agent pod's HTTP endpoints (paths in the contract): liveness and readiness probes,
// Prometheus metrics, the /status body the operator reads, the stored anomalies, and the
// model-delivery protocol's PUT and DELETE /model. The expensive routes take a bounded number
// of requests at once, and PUT /model checks its token before it reads a byte of its body,
// which it reads only up to MAX_OFFER_BODY_BYTES (issue 20, H3; docs/security.md). Every
// route but the probes needs a token, checked first (H2): /status and /anomalies the read or
// the control token, /model the control token (the read token refused here, the rest by the
// delivery's own check), /metrics one only when the agent is told so. GET /anomalies/:id reads
// one anomaly (a read token); POST /anomalies/:id/status changes its status (issue 21: the
// triage or the control token, the read token refused 403). A token travels as a bearer token
// or in X-Edgewarden-Token (http/tokens.ts).
import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';

import { agentPaths, type AgentStatus } from '../contract/index.js';
import { serveAnomalies } from '../http/anomaliesRoute.js';
import { serveAnomaly, serveStatusChange } from '../http/anomalyRoutes.js';
import { answerUnread, MAX_OFFER_BODY_BYTES, readJsonBody } from '../http/boundedBody.js';
import { inFlightLimit } from '../http/inFlight.js';
import {
  bearerOf,
  refuseReadToken,
  requireReadToken,
  requireTriageToken,
} from '../http/requireToken.js';
import type { ApiAccess } from '../http/tokens.js';
import type { AnomalyStore } from '../store/anomalyStore.js';
import type { ModelDelivery } from './modelDelivery.js';

export interface AgentApi {
  /** Alive unless the loop has stopped ticking (a wedged cycle). */
  wedged(): boolean;
  readiness(): { ready: boolean; reasons: string[] };
  status(): AgentStatus;
  registry: Registry;
  delivery: ModelDelivery;
  store: AnomalyStore;
  /** Who may use which route (issue 20, H2). */
  access: ApiAccess;
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
  const read = requireReadToken(api.access);
  const control = refuseReadToken(api.access);
  app.get(
    agentPaths.metrics,
    requireReadToken(api.access, { metrics: true }),
    async (_req, res) => {
      res.type(api.registry.contentType).send(await api.registry.metrics());
    },
  );
  app.get(agentPaths.status, read, (_req, res) => {
    res.json(api.status());
  });
  app.put(agentPaths.model, control, inFlightLimit(), async (req, res) => {
    const authorization = bearerOf(req);
    const refusal = api.delivery.admission(authorization);
    if (refusal) return answerUnread(req, res, refusal.code, refusal.body);
    const body = await readJsonBody(req, MAX_OFFER_BODY_BYTES);
    if (!body.ok)
      return answerUnread(req, res, body.code, { reason: body.reason, message: body.message });
    const answer = await api.delivery.offer(authorization, body.value);
    res.status(answer.code).json(answer.body);
  });
  app.delete(agentPaths.model, control, async (req, res) => {
    const answer = await api.delivery.unload(bearerOf(req));
    res.status(answer.code).json(answer.body);
  });
  app.get(agentPaths.anomalies, read, inFlightLimit(), serveAnomalies(api.store));
  app.get(`${agentPaths.anomalies}/:id`, read, serveAnomaly(api.store));
  app.post(
    `${agentPaths.anomalies}/:id/status`,
    requireTriageToken(api.access),
    inFlightLimit(),
    serveStatusChange(api.store),
  );
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
