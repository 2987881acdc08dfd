import { TRANSIENT_REASONS } from '../../domain/modelDeployment/rollout.js';

/** An agent's refusal of an offer (HTTP 4xx with { reason, message }), or a source it cannot have. */
export class OfferRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'OfferRefused';
  }

  /** For runtime/terminalError.ts's isTerminal: a refusal no retry cures, as the plan judges it. */
  get terminal(): boolean {
    return !TRANSIENT_REASONS.has(this.reason);
  }
}
