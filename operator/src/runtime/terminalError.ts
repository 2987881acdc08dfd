// The one policy for a failed reconcile, as controller-runtime's TerminalError and kube-rs's
// error_policy have it. A terminal error is one no retry can cure: the spec asks for what cannot
// be (a time range that ends before it starts, a model its agent refuses). The reconcile records
// it in a condition, then throws it; the controller does not retry the key until the object's
// generation changes (a spec edit), nor for its children's events meanwhile. Every other error
// backs off through the work queue.

/** A failure of the spec itself, with the CamelCase reason its condition carries. */
export class TerminalError extends Error {
  /** Read by `isTerminal`: a controller's own error classes may carry it too. */
  readonly terminal = true;

  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * Whether no retry can cure `error`: a TerminalError, or any error that says `terminal: true`
 * (a class of a controller's own whose instances are terminal by their reason).
 */
export function isTerminal(error: unknown): boolean {
  return (
    error instanceof TerminalError ||
    (typeof error === 'object' &&
      error !== null &&
      (error as { terminal?: unknown }).terminal === true)
  );
}

/** The version of an object a terminal error holds for: another uid, generation or a deletion is another. */
interface ObjectVersion {
  metadata: { uid?: string; generation?: number; deletionTimestamp?: string };
}

const versionOf = (o: ObjectVersion): string =>
  `${o.metadata.uid ?? ''}/${o.metadata.generation ?? ''}/${o.metadata.deletionTimestamp ?? ''}`;

/** Keys whose reconcile ended in a terminal error, each with the object version it ended at. */
export class TerminalKeys {
  private readonly endedAt = new Map<string, string>();

  /** `key` failed for good at `object` (not parked when the object is gone: nothing to hold). */
  park(key: string, object: ObjectVersion | undefined): void {
    if (object) this.endedAt.set(key, versionOf(object));
  }

  /**
   * Whether `key` waits for a change: its object is the very version its terminal error was
   * recorded at. A new generation, a deletion or another object of that name releases it.
   */
  parked(key: string, object: ObjectVersion | undefined): boolean {
    const at = this.endedAt.get(key);
    if (at === undefined) return false;
    if (object && versionOf(object) === at) return true;
    this.endedAt.delete(key);
    return false;
  }
}
