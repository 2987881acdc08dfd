// logread's lines, whole and cut off at the start.
//
// openwrt/ubox log/logread.c (log_notify), local output:
//     snprintf(buf, sizeof(buf), "%s %s%s.%s%s %s\n",
//         c, log_timestamp ? buf_ts : "",
//         getcodetext(LOG_FAC(p) << 3, facilitynames),
//         getcodetext(LOG_PRI(p), prioritynames),
//         (blobmsg_get_u32(tb[LOG_SOURCE])) ? ("") : (" kernel:"), m);
//   c is ctime() without its newline ("Www Mmm dd hh:mm:ss yyyy", the day padded with a space),
//   buf_ts is "[%lu.%03u] " (seconds.milliseconds since the epoch, with `logread -t`, skipped
//   here). Every record logd read from /proc/kmsg (SOURCE_KLOG, 0) is printed with " kernel:",
//   whatever its facility, and its message keeps the kernel's "[ uptime] " prefix.
//   Remote output (log_type == LOG_NET): "<%u>" then 16 characters of ctime from the month
//   ("Mmm dd hh:mm:ss "), then buf_ts, then "hostname " (-h), "prefix: " (-P) and "kernel: " for
//   kernel records, then the message. It never prints a facility.level word.
import { isDigit } from './chars.js';
import { facilityLevelAt, type FacilityLevel } from './facilityLevel.js';

// Www Mmm dd hh:mm:ss yyyy [secs.ms ]facility.level rest   (the [secs.ms] of `logread -t`)
export const LOGREAD =
  /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) (?:\[\d+\.\d+\] )?([a-z0-9]+)\.([a-z]+) ?(.*)$/s;
// logread's ctime() date and the space after it, by character: a = letter, d = digit,
// D = digit or space (ctime pads the day with a space); other characters stand for themselves.
const CTIME = 'aaa aaa Dd dd:dd:dd dddd ';

/** What is left of a cut-off logread line that has part of its date but no facility.level. */
export const DATE_CUT = 'date cut off';

/**
 * A logread line whose start was cut off (by a collector, or a copy that lost the first
 * characters): what is left of the date, if anything, then a known facility.level, then the
 * tag and message, as "kern.info kernel: [ 12.3] ..." or "2020 daemon.err odhcpd[1234]: ...".
 * The facility.level word makes it unambiguous. Returns the word and what follows it; DATE_CUT
 * when the line surely began with a date but has no word to read it by; null when the line is
 * not one of these.
 */
export function cutLogreadWord(line: string): FacilityLevel | typeof DATE_CUT | null {
  let dateLeft = false;
  for (let p = 0; p <= CTIME.length && p < line.length; p++) {
    if (p > 0 && line.charCodeAt(p - 1) !== 32) continue;
    if (!isCtimeTail(line, p)) continue;
    const fl = facilityLevelAt(line, p);
    if (fl !== null) return fl;
    // At least the year ("yyyy "): the line surely began with a date.
    if (p >= 5) dateLeft = true;
  }
  return dateLeft ? DATE_CUT : null;
}

/** "yyyy " at the start. */
export function isYear(s: string): boolean {
  return s.charCodeAt(4) === 32 && isDigit(s, 0) && isDigit(s, 1) && isDigit(s, 2) && isDigit(s, 3);
}

/** The first n characters are the last n of a logread date and its space (CTIME). */
function isCtimeTail(s: string, n: number): boolean {
  const offset = CTIME.length - n;
  if (offset < 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const t = CTIME.charCodeAt(offset + i);
    if (t === 97 /* a */) {
      if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122))) return false;
    } else if (t === 100 /* d */) {
      if (!(c >= 48 && c <= 57)) return false;
    } else if (t === 68 /* D */) {
      if (!((c >= 48 && c <= 57) || c === 32)) return false;
    } else if (c !== t) return false;
  }
  return true;
}
