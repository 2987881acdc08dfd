// Writing a proposed suppression into an AnalysisAgent with the user's own credentials (RBAC:
// patch analysisagents): read it, compute the JSON patch (suppression.ts), send it. The patch
// tests the resourceVersion read, so a concurrent edit is never overwritten: the read and the
// patch are tried again once (retry.ts) when the API server refuses it for that.
import { retryWithJitter } from '../../../agent-runtime/src/retry.js';
import { RESOURCES } from '../../../operator/src/domain/resources.js';
import {
  ApiError,
  resourcePath,
  type KubeClient,
} from '../../../operator/src/runtime/kubeClient.js';
import type { AgentObject } from './cluster.js';
import { suppressionPatch, type JsonPatch, type Suppression } from './suppression.js';

export type SuppressionResult =
  { kind: 'applied' | 'dry-run'; patch: JsonPatch } | { kind: 'present'; existing: Suppression };

/** A JSON patch whose `test` failed: the object changed since it was read. */
const stale = (error: unknown): boolean =>
  error instanceof ApiError &&
  (error.status === 409 || error.status === 422) &&
  /test/i.test(error.message);

export async function applySuppression(
  client: KubeClient,
  namespace: string,
  name: string,
  suppression: Suppression,
  options: { dryRun: boolean; now: Date },
): Promise<SuppressionResult> {
  const path = resourcePath(RESOURCES.analysisAgent, namespace, name);
  return retryWithJitter(
    async () => {
      const agent = await client.get<AgentObject>(RESOURCES.analysisAgent, namespace, name);
      const plan = suppressionPatch(agent, suppression, options.now);
      if (plan.kind === 'present') return plan;
      if (plan.kind === 'full')
        throw new Error(
          `AnalysisAgent ${name} in ${namespace} holds the most suppressions it may (100): remove expired ones first`,
        );
      if (options.dryRun) return { kind: 'dry-run', patch: plan.patch };
      await client.request('PATCH', path, {
        body: plan.patch,
        contentType: 'application/json-patch+json',
        query: { fieldManager: 'kubectl-edgewarden' },
      });
      return { kind: 'applied', patch: plan.patch };
    },
    { attempts: 2, delayMs: 200, maxDelayMs: 200, retryable: stale },
  );
}
