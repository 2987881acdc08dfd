// The tokens of an agent's HTTP API (issue 20, H2), both HMACs of the agent's uid under the
// operator's control key, with distinct labels: the control token (every route; the operator's
// own, modelDeployment/rollout.ts), the read token (GET /status and GET /anomalies: the
// export pods, and users who read an agent) and the triage token (issue 21: POST
// /anomalies/:id/status and the read routes, for users who triage). Agent pods hold only their
// SHA-256 digests.
import { createHmac } from 'node:crypto';

import {
  agentEnv,
  agentTokenHeader,
  controlTokenDigest,
} from '../../../agent-runtime/src/contract/index.js';
import { controlToken } from './modelDeployment/rollout.js';

export { controlToken };

/** The read token of one agent's pods: like controlToken, under another label. */
export function readToken(key: Uint8Array, agentUid: string): string {
  return createHmac('sha256', key).update(`edgewarden-read:${agentUid}`).digest('hex');
}

/** The triage token of one agent's pods: like readToken, under another label. */
export function triageToken(key: Uint8Array, agentUid: string): string {
  return createHmac('sha256', key).update(`edgewarden-triage:${agentUid}`).digest('hex');
}

/** The environment that tells an agent pod its tokens: their digests, never the tokens. */
export function agentTokenEnvironment(
  key: Uint8Array,
  agentUid: string,
): { name: string; value: string }[] {
  return [
    {
      name: agentEnv.controlTokenSha256,
      value: controlTokenDigest(controlToken(key, agentUid)),
    },
    { name: agentEnv.readTokenSha256, value: controlTokenDigest(readToken(key, agentUid)) },
    { name: agentEnv.triageTokenSha256, value: controlTokenDigest(triageToken(key, agentUid)) },
  ];
}

/** The header that carries `token` to an agent, directly or through the API server's proxy. */
export function tokenHeaders(token: string): Record<string, string> {
  return { [agentTokenHeader]: token };
}
