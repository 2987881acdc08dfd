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
}
