// Which failures of a retried operation are worth a log line. A rollout retries a pod that does
// not answer every poll, for as long as it takes: logging each attempt floods the log, logging
// none leaves it silent (as it was: three minutes of failed deliveries and not a line at the
// default verbosity). So: the first failure of a key, each change of its message, and while
// the same failure repeats, one line every `repeatEveryMs` with how many were not logged; and
// its recovery. Keys a caller stops reporting (a pod deleted while failing) are forgotten
// after `forgetAfterMs`. Time is passed in: the decisions are pure.

export type FailureDecision =
  | { log: false }
  | {
      log: true;
      /** first: never seen failing (or forgotten); changed: another message; repeated: the same again. */
      kind: 'first' | 'changed' | 'repeated';
      /** Failures of this key not logged since the last line. */
      unlogged: number;
      /** When this key started failing (ms). */
      since: number;
    };

interface Failing {
  message: string;
  since: number;
  lastLogged: number;
  lastSeen: number;
  unlogged: number;
  failures: number;
}

export class RepeatedFailures {
  private readonly failing = new Map<string, Failing>();

  constructor(
    private readonly repeatEveryMs = 10 * 60_000,
    private readonly forgetAfterMs = 60 * 60_000,
  ) {}

  /** A failure of `key` with `message` at `now`: whether, and how, to log it. */
  failed(key: string, message: string, now: number): FailureDecision {
    this.forgetStale(now);
    const f = this.failing.get(key);
    if (!f || f.message !== message) {
      this.failing.set(key, {
        message,
        since: f?.since ?? now,
        lastLogged: now,
        lastSeen: now,
        unlogged: 0,
        failures: (f?.failures ?? 0) + 1,
      });
      return { log: true, kind: f ? 'changed' : 'first', unlogged: 0, since: f?.since ?? now };
    }
    f.lastSeen = now;
    f.failures++;
    if (now - f.lastLogged < this.repeatEveryMs) {
      f.unlogged++;
      return { log: false };
    }
    const unlogged = f.unlogged;
    f.lastLogged = now;
    f.unlogged = 0;
    return { log: true, kind: 'repeated', unlogged, since: f.since };
  }

  /** A success of `key`: if it was failing, how many times and since when (worth a line). */
  succeeded(key: string): { failures: number; since: number } | undefined {
    const f = this.failing.get(key);
    if (!f) return undefined;
    this.failing.delete(key);
    return { failures: f.failures, since: f.since };
  }

  private forgetStale(now: number): void {
    for (const [key, f] of this.failing)
      if (now - f.lastSeen > this.forgetAfterMs) this.failing.delete(key);
  }
}
