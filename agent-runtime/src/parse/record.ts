// What the syslog parser makes of a line: a record, or a reason it could not read it.
import { unwrapRepeated } from './repeated.js';

export interface LogRecord {
  /** When the line was logged, RFC 3339 in UTC. */
  timestamp: string;
  /** The device, when the line names it (logread's local format does not). */
  host: string | null;
  facility: string | null;
  /** Syslog severity name: emerg, alert, crit, err, warning, notice, info or debug. */
  level: string | null;
  /** The syslog tag (program), or null when the line has none. */
  program: string | null;
  pid: number | null;
  message: string;
  /**
   * This line stands for `repeats` occurrences of its message: set (to 1 or more) only on a line
   * a relay wrote for a run of identical lines (rsyslog's "message repeated N times: [message]",
   * whose `message` is then the inner one; the run's first line came on its own before it).
   * Absent on every other line, which stands for one.
   */
  repeats?: number;
}

export type ParseOutcome =
  | { ok: true; record: LogRecord; /** record.timestamp in ms since the epoch */ time: number }
  | { ok: false; reason: string };

/** A time both ways: as printed (RFC 3339, UTC) and in ms since the epoch. */
export interface Stamp {
  iso: string;
  ms: number;
}

/** A line read; a relay's "message repeated" line stands for its inner message, counted. */
export function ok(record: LogRecord, time: number): ParseOutcome {
  // The first character is checked here, so the common line costs no call.
  if (record.message.charCodeAt(0) === 109 /* m */) unwrapRepeated(record);
  return { ok: true, record, time };
}

export function fail(reason: string): ParseOutcome {
  return { ok: false, reason };
}
