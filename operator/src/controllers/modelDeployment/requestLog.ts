// The log of requests to agent pods that fail, at the default verbosity: the first failure, a
// changed one, then one line every ten minutes while it repeats (with the count), and the
// recovery (runtime/repeatedFailures.ts decides), so a stuck rollout is neither silent nor a
// flood of one line per poll.
import type { StoredModelDeployment } from '../../domain/modelDeployment/rollout.js';
import type { RequestFailure } from '../../domain/modelDeployment/pass.js';
import type { ModelContext } from './context.js';

/** What the operator asked of a pod: read its /status, validate (a dry run), offer, unload. */
export type Asked = 'status' | 'validate' | 'offer' | 'unload';

type LogContext = Pick<ModelContext, 'log' | 'failures' | 'now'>;

/** Logs a failed request to a pod, when it is worth a line. */
export function logFailure(
  ctx: LogContext,
  md: StoredModelDeployment,
  pod: string,
  step: Asked,
  failure: RequestFailure,
  version: string | undefined,
): void {
  const { namespace, name } = md.metadata;
  const decision = ctx.failures.failed(
    `${namespace}/${name}/${pod}/${step}`,
    `${failure.reason}: ${failure.message}`,
    ctx.now().getTime(),
  );
  if (!decision.log) return;
  ctx.log.error(
    step === 'status' ? "cannot read an agent pod's status" : `model ${step} failed`,
    failure.message,
    {
      namespace,
      name,
      pod,
      step,
      reason: failure.reason,
      ...(version !== undefined ? { version } : {}),
      ...(decision.kind === 'repeated'
        ? {
            repeated: decision.unlogged + 1,
            failingSince: new Date(decision.since).toISOString(),
          }
        : decision.kind === 'changed'
          ? { failingSince: new Date(decision.since).toISOString() }
          : {}),
    },
  );
}

/** Logs that requests to a pod work again, if they had failed. */
export function logRecovery(
  ctx: LogContext,
  md: StoredModelDeployment,
  pod: string,
  step: Asked,
): void {
  const { namespace, name } = md.metadata;
  const recovered = ctx.failures.succeeded(`${namespace}/${name}/${pod}/${step}`);
  if (!recovered) return;
  ctx.log.info(
    step === 'status' ? 'agent pod status readable again' : `model ${step} works again`,
    {
      namespace,
      name,
      pod,
      step,
      failures: recovered.failures,
      failingSince: new Date(recovered.since).toISOString(),
    },
  );
}
