// The model-delivery protocol, the agent's side of a ModelDeployment rollout: PUT /model
// offers a model version (checked: token, body; its bytes and manifest fetched; validated by
// installModel against this agent's features and the golden sample; unless a dry run, swapped
// in), DELETE /model serves none (rules only). Offers and unloads run one at a time. Each
// answer is an HTTP code and a body: the result, or { reason, message } when refused.
import { builtInAgents } from '../agents/registry.js';
import type { AgentName } from '../agents/types.js';
import type { ModelOfferRefusal, ModelOfferRequest, ModelOfferResult } from '../contract/index.js';
import type { AddressPolicy } from '../model/addressPolicy.js';
import { authorized, offerBytes, offerManifest, parseOffer } from '../model/delivery.js';
import { installModel, uninstallModel } from '../model/install.js';
import { ModelError } from '../model/manifest.js';
import type { ModelWatcher } from '../model/modelWatcher.js';
import { componentLog } from '../log.js';

export interface DeliveryAnswer<Body> {
  code: number;
  body: Body;
}

export interface DeliveryOptions {
  agent: AgentName;
  /** Hex SHA-256 of the operator's control token; unset: delivery is off. */
  controlTokenSha256?: string;
  modelDir: string;
  modelSourceDir: string;
  /** The addresses a model URL may reach (issue 20, M1). */
  modelAddresses: AddressPolicy;
  /** Unset: the agent has no spec.model (or no model folder) and refuses offers. */
  models?: ModelWatcher;
  /** The recent windows an offered model is tried on. */
  golden(): Record<string, number>[];
  /** A model that sets no threshold of its own, neither in its offer nor its manifest. */
  defaultThreshold: number;
  /** After another model serves: /metrics names it at once (not at the next cycle). */
  onServed(): void;
}

const log = componentLog('agent');

const refused = (code: number, reason: string, message: string) => ({
  code,
  body: { reason, message },
});

export class ModelDelivery {
  /** Offers are installed one at a time. */
  private installing: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: DeliveryOptions) {}

  /**
   * Whether PUT /model may go on to read its body: the refusal if not (no control token, a
   * wrong one, no model configured), decided from the headers alone.
   */
  admission(authorization: string | undefined): DeliveryAnswer<ModelOfferRefusal> | undefined {
    const { controlTokenSha256, models } = this.options;
    if (!controlTokenSha256)
      return refused(403, 'DeliveryDisabled', 'this agent was started without a control token');
    if (!authorized(authorization, controlTokenSha256))
      return refused(401, 'Unauthorized', 'a valid bearer token is required');
    if (!models)
      return refused(409, 'NoModelConfigured', 'this agent has no spec.model and no model folder');
    return undefined;
  }

  /** PUT /model: the operator's offer (its body read only once admission() let it through). */
  async offer(
    authorization: string | undefined,
    body: unknown,
  ): Promise<DeliveryAnswer<ModelOfferResult | ModelOfferRefusal>> {
    const refusal = this.admission(authorization);
    if (refusal) return refusal;
    const models = this.options.models as ModelWatcher; // admission() refuses without one
    const request = parseOffer(body);
    if (typeof request === 'string') return refused(400, 'BadRequest', request);
    return this.oneAtATime(() => this.install(models, request));
  }

  /** DELETE /model: serve no model (rules only), for a rollback to before the first version. */
  async unload(authorization: string | undefined): Promise<DeliveryAnswer<Record<string, string>>> {
    const { controlTokenSha256, models, modelDir } = this.options;
    if (!controlTokenSha256 || !authorized(authorization, controlTokenSha256))
      return {
        code: 401,
        body: { reason: 'Unauthorized', message: 'a valid bearer token is required' },
      };
    if (!models) return { code: 204, body: {} };
    return this.oneAtATime(async () => {
      await uninstallModel(modelDir);
      await models.unload();
      log.info('model unloaded; rules only');
      return { code: 204, body: {} };
    });
  }

  private oneAtATime<T>(run: () => Promise<T>): Promise<T> {
    const done = this.installing.then(run);
    this.installing = done.catch(() => undefined);
    return done;
  }

  private async install(
    models: ModelWatcher,
    request: ModelOfferRequest,
  ): Promise<DeliveryAnswer<ModelOfferResult | ModelOfferRefusal>> {
    const { agent, modelDir, modelSourceDir, modelAddresses } = this.options;
    try {
      const bytes = await offerBytes(request, modelSourceDir, { addresses: modelAddresses });
      const manifest = await offerManifest(request, modelSourceDir, { addresses: modelAddresses });
      const result = await installModel(
        modelDir,
        { ...request, bytes, manifest },
        {
          agent,
          available: builtInAgents[agent].features,
          golden: this.options.golden(),
          dryRun: request.dryRun,
          defaultThreshold: this.options.defaultThreshold,
        },
      );
      if (result.model) {
        await models.adopt(result.model);
        this.options.onServed();
      }
      log.info(request.dryRun ? 'model validated' : 'model installed', {
        version: request.version,
        sha256: result.sha256.slice(0, 12),
        golden: `${result.golden.flagged}/${result.golden.rows} flagged`,
      });
      const answer: ModelOfferResult = {
        version: request.version,
        sha256: result.sha256,
        dryRun: request.dryRun ?? false,
        golden: result.golden,
      };
      return { code: 200, body: answer };
    } catch (error) {
      // A ModelError's message names only fields, sizes and hashes; any other error may quote
      // the offer's bytes (a parser's, onnxruntime's), and they may be any Secret's (issue 20, H1).
      const e =
        error instanceof ModelError
          ? error
          : new ModelError(
              'InvalidModel',
              `model ${request.version}: checking it failed (${(error as Error)?.name ?? 'error'})`,
            );
      if (!request.dryRun) models.refused(e);
      log.error('model refused', e, { version: request.version, reason: e.reason });
      return refused(422, e.reason, e.message);
    }
  }
}
