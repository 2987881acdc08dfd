// A relay's line for a run of identical lines, read as the line it stands for.

// rsyslog's " message repeated %d times: [%.800s]", after the tag's ": " took the first space
const REPEATED = /^message repeated ([1-9]\d{0,8}) times: \[ ?(.*)\]$/s;

/**
 * rsyslog (runtime/ratelimit.c, ratelimitGenRepMsg) replaces the message of the last of a run
 * of identical lines with
 *   snprintf(szRepMsg, sizeof(szRepMsg), " message repeated %d times: [%.800s]", n, msg)
 * (so the inner message is cut at 800 characters); it is read as the inner message with
 * LogRecord.repeats = n. syslog-ng (lib/logwriter.c, log_writer_emit_suppress_summary) sends
 * "Last message '%.20s' repeated %d times, suppressed by syslog-ng on %s" as a line of its
 * own, with only 20 characters of the message: it is left as it is (a line of its own, with
 * no repeats), as is the older "last message repeated %d times" of sysklogd.
 */
export function unwrapRepeated(record: { message: string; repeats?: number }): void {
  if (!record.message.startsWith('message repeated ')) return;
  const r = REPEATED.exec(record.message);
  if (r) {
    record.message = r[2]!;
    record.repeats = Number(r[1]);
  }
}
