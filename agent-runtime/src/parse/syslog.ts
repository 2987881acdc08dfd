// The syslog parser: every shape an OpenWrt line arrives in (../shared/guides/openwrt-logs.md).
//
//   logread (local)   Thu Nov 12 13:20:06 2020 kern.info kernel: [ 0.73] io scheduler noop registered
//   RFC 3164 (wire)   <30>Nov 12 13:20:06 gw-home dnsmasq[728]: started, version 2.80
//                     (also without <PRI>, and without the host, as OpenWrt may send it)
//   RFC 3339 stamp    <30>2026-01-05T13:54:43.262668+01:00 gw-home hostapd: wlan0: AP-ENABLED
//   RFC 5424          <30>1 2026-01-05T12:54:43.262Z gw-home hostapd 1234 - - wlan0: AP-ENABLED
//   kernel ring       [   12.345678] ath10k_pci 0000:01:00.0: firmware crashed!
//                     <3>[   12.345678] ath10k_pci 0000:01:00.0: firmware crashed!
//   busybox syslogd   Nov 12 13:20:06 gw-home daemon.warn dnsmasq[728]: ...  (also after a <PRI>)
//   cut-off logread   kern.info kernel: [ 0.73] io scheduler noop registered
//
// Where these come from (the sources read; line formats quoted from them):
//
// - logread, openwrt/ubox log/logread.c (log_notify), local output:
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
// - busybox sysklogd/syslogd.c (timestamp_and_log) writes its file and its shared-memory log as
//     sprintf(G.printbuf, "%s %.64s %s %s\n", timestamp, G.hostname, res, msg);
//   where res is "%s.%s" (facility.priority by the C library's names, "<%d>" when unnamed) and
//   msg is "tag[pid]: text"; with -S (small) it is "%s %s\n" (timestamp, msg) instead. That is
//   "Mmm dd hh:mm:ss host daemon.warn dnsmasq[1]: ...". rsyslog writes such a word only from a
//   user's template (its doc/source/configuration/yaml_config.rst shows
//   "%HOSTNAME% %syslogfacility-text%.%syslogseverity-text% %msg%\n"); no template of
//   syslog-ng's own does. A relay may put a <PRI> in front of such a line; the <PRI> is the
//   sender's own number for the line, so when both are there the <PRI> is kept and the word
//   dropped.
// - The kernel's ring buffer: `dmesg` prints "[%5ld.%06ld] " before each record, and `dmesg -r`
//   (util-linux sys-utils/dmesg.c, print_record) "<%d>[%5ld.%06ld] " with
//   LOG_RAW_FAC_PRI(facility, level): <0>..<7> for the kernel's own lines, a larger number
//   (<14>, <30>) for a record a program wrote to /dev/kmsg with its facility. Such a record is
//   read as logread shows it: program "kernel", facility and level from the number.
// - Repeated lines: rsyslog (runtime/ratelimit.c, ratelimitGenRepMsg) replaces the message of
//   the last of a run of identical lines with
//     snprintf(szRepMsg, sizeof(szRepMsg), " message repeated %d times: [%.800s]", n, msg)
//   (so the inner message is cut at 800 characters); it is read as the inner message with
//   LogRecord.repeats = n. syslog-ng (lib/logwriter.c, log_writer_emit_suppress_summary) sends
//   "Last message '%.20s' repeated %d times, suppressed by syslog-ng on %s" as a line of its
//   own, with only 20 characters of the message: it is left as it is (a line of its own, with
//   no repeats), as is the older "last message repeated %d times" of sysklogd.
//
// Lines that carry no date (the ring buffer's, and logread lines whose start was cut off) take
// the time of the last line this parser read that had one: a parser reads one device's stream.
//
// A line it cannot read is reported as such (with a reason), never thrown: the caller counts it
// and moves on. Dispatch is on the first character, one regular expression per shape, and the
// last timestamp's conversion is memoised, because a log has many lines per second.
import { facilityName, levelName, normalizeFacility, normalizeLevel } from './priority.js';

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

export interface ParserOptions {
  /**
   * The time lines without a year were received; a line's year is the one that puts it at or
   * before this (plus a day of clock skew), so December lines read in January land last year.
   * Default: now.
   */
  referenceTime?: Date;
  /** Time zone of timestamps that carry none (logread, RFC 3164), as an IANA name. Default UTC. */
  timeZone?: string;
  /** Host for lines that name none (logread's local format). */
  defaultHost?: string;
}

/** A time both ways: as printed (RFC 3339, UTC) and in ms since the epoch. */
export interface Stamp {
  iso: string;
  ms: number;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const DAY_MS = 86_400_000;
const MAX_LINE = 64 * 1024;

// Www Mmm dd hh:mm:ss yyyy [secs.ms ]facility.level rest   (the [secs.ms] of `logread -t`)
const LOGREAD =
  /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) (?:\[\d+\.\d+\] )?([a-z0-9]+)\.([a-z]+) ?(.*)$/s;
// Mmm dd hh:mm:ss rest   (RFC 3164 timestamp; the PRI, if any, is already removed)
const BSD_STAMP = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (.*)$/s;
// RFC 3339 timestamp then rest
const ISO_STAMP =
  /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) (.*)$/is;
// RFC 5424 after PRI: VERSION SP TIMESTAMP SP HOST SP APP SP PROCID SP MSGID SP SD [SP MSG]
const RFC5424 = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s;
// program[pid]: message  |  program [pid]: message  |  program: message  |  : message (a tag
// left empty). The pid after a space needs a program before it.
const TAG = /^([^\s:[\]]*)(?:\[(\d+)\]|(?<=[^\s:[\]]) \[(\d+)\])?: ?(.*)$/s;
// host followed by a tag: "gw-home dnsmasq[728]: ..." (a host never ends in ':' nor has '['; a
// pid needs a program, so "dnsmasq [728]: ..." is a tag, not a host and a pid)
const HOST_THEN_TAG = /^([^\s:[\]]+) ((?:[^\s:[\]]+(?:\[\d+\]| \[\d+\])?)?:.*)$/s;
// rsyslog's " message repeated %d times: [%.800s]", after the tag's ": " took the first space
const REPEATED = /^message repeated ([1-9]\d{0,8}) times: \[ ?(.*)\]$/s;
// logread's ctime() date and the space after it, by character: a = letter, d = digit,
// D = digit or space (ctime pads the day with a space); other characters stand for themselves.
const CTIME = 'aaa aaa Dd dd:dd:dd dddd ';

export class SyslogParser {
  private readonly referenceMs: number;
  private readonly defaultHost: string | null;
  private readonly zoneFormat: Intl.DateTimeFormat | undefined;
  private minuteKey = -1;
  private minute: { ms: number; prefix: string } | null = null;
  private lastSecond = -1;
  private lastStamp: Stamp = { iso: '', ms: 0 };
  /** The time of the last line read that had a date: the time of the lines that have none. */
  private dated: Stamp;

  constructor(options: ParserOptions = {}) {
    this.referenceMs = (options.referenceTime ?? new Date()).getTime();
    this.dated = { iso: new Date(this.referenceMs).toISOString(), ms: this.referenceMs };
    const zone = options.timeZone && options.timeZone !== 'UTC' ? options.timeZone : undefined;
    // Throws RangeError on an unknown zone: a configuration error, found at start.
    this.zoneFormat = zone
      ? new Intl.DateTimeFormat('en-US', {
          timeZone: zone,
          hourCycle: 'h23',
          year: 'numeric',
          month: 'numeric',
          day: 'numeric',
          hour: 'numeric',
          minute: 'numeric',
          second: 'numeric',
        })
      : undefined;
    this.defaultHost = options.defaultHost ?? null;
  }

  parse(raw: string): ParseOutcome {
    try {
      return this.parseLine(raw);
    } catch (error) {
      // The parser is written not to throw; this is the net under it, so no input ever crashes an agent.
      return { ok: false, reason: `parser error: ${(error as Error).message}` };
    }
  }

  private parseLine(raw: string): ParseOutcome {
    let line = raw.endsWith('\r') || raw.endsWith('\0') ? raw.replace(/[\r\0]+$/, '') : raw;
    if (line.length === 0 || line.trim().length === 0) return fail('empty line');
    if (line.length > MAX_LINE) return fail(`line longer than ${MAX_LINE} characters`);

    let facility: string | null = null;
    let level: string | null = null;
    let hasPri = false;
    if (line.charCodeAt(0) === 60 /* < */) {
      const close = line.indexOf('>');
      if (close < 2 || close > 4) return fail('malformed <PRI>');
      const pri = Number(line.slice(1, close));
      if (!Number.isInteger(pri) || pri > 191 || !/^\d+$/.test(line.slice(1, close)))
        return fail('malformed <PRI>');
      facility = facilityName(pri >> 3);
      level = levelName(pri & 7);
      hasPri = true;
      line = line.slice(close + 1);
      if (line.startsWith('1 ')) return this.parse5424(line, facility, level);
    }

    const first = line.charCodeAt(0);
    if (first === 91 /* [ */ && uptimeLength(line) > 0) {
      // The kernel's ring buffer (dmesg, or dmesg -r after a <PRI>): no date, no tag.
      const stamp = this.dated;
      return ok(
        {
          timestamp: stamp.iso,
          host: this.defaultHost,
          facility: hasPri ? facility : 'kern',
          level,
          program: 'kernel',
          pid: null,
          message: line,
        },
        stamp.ms,
      );
    }

    if (first >= 48 && first <= 57 /* digit: RFC 3339 timestamp */) {
      const m = ISO_STAMP.exec(line);
      if (!m) return (hasPri ? null : this.cutLogread(line)) ?? fail('unrecognised timestamp');
      const timestamp = isoToUtc(m[1]!);
      if (timestamp === null) return fail('invalid timestamp');
      this.dated = timestamp;
      return this.finish(timestamp, facility, level, m[2]!, true);
    }

    if (!hasPri) {
      const m = LOGREAD.exec(line);
      if (m) {
        const timestamp = this.wallClock(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, Number(m[6]));
        if (timestamp === null) return fail('invalid date');
        const fac = normalizeFacility(m[7]!);
        const lev = normalizeLevel(m[8]!);
        if (fac === null || lev === null) return fail('unknown facility or level');
        this.dated = timestamp;
        return this.finish(timestamp, fac, lev, m[9]!, false);
      }
    }

    const m = BSD_STAMP.exec(line);
    if (!m) return (hasPri ? null : this.cutLogread(line)) ?? fail('unrecognised line');
    const rest = m[6]!;
    let year: number | undefined;
    let fl: FacilityLevel | null = null;
    if (!hasPri && isYear(rest)) {
      // A logread line without its weekday: "Mmm dd hh:mm:ss yyyy facility.level ...".
      fl = facilityLevelAt(rest, 5);
      if (fl !== null) year = Number(rest.slice(0, 4));
    }
    const timestamp = this.wallClock(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, year);
    if (timestamp === null) return fail('invalid date');
    this.dated = timestamp;
    if (fl !== null) return this.finish(timestamp, fl.facility, fl.level, fl.rest, false);
    return this.finish(timestamp, facility, level, rest, true);
  }

  /**
   * A logread line whose start was cut off (by a collector, or a copy that lost the first
   * characters): what is left of the date, if anything, then a known facility.level, then the
   * tag and message, as "kern.info kernel: [ 12.3] ..." or "2020 daemon.err odhcpd[1234]: ...".
   * The facility.level word makes it unambiguous; the date is gone, so the line takes the time
   * of the last dated one. Null when the line is not one of these.
   */
  private cutLogread(line: string): ParseOutcome | null {
    let dateLeft = false;
    for (let p = 0; p <= CTIME.length && p < line.length; p++) {
      if (p > 0 && line.charCodeAt(p - 1) !== 32) continue;
      if (!isCtimeTail(line, p)) continue;
      const fl = facilityLevelAt(line, p);
      if (fl !== null) return this.finish(this.dated, fl.facility, fl.level, fl.rest, false);
      // At least the year ("yyyy "): the line surely began with a date.
      if (p >= 5) dateLeft = true;
    }
    return dateLeft ? fail('date cut off, and no facility.level to read the line by') : null;
  }

  /** The part after the timestamp: [host ][facility.level ]tag: message. */
  private finish(
    stamp: Stamp,
    facility: string | null,
    level: string | null,
    rest: string,
    mayHaveHost: boolean,
  ): ParseOutcome {
    const timestamp = stamp.iso;
    let host = this.defaultHost;
    let tagged = rest;
    if (mayHaveHost) {
      // logread -t sends "[secs.ms] " before the host.
      if (rest.charCodeAt(0) === 91 /* [ */) {
        const n = uptimeLength(rest);
        if (n > 0 && rest.charCodeAt(n) === 32) rest = tagged = rest.slice(n + 1);
      }
      // busybox syslogd's "host facility.level tag: message", or the word with no host.
      let fl = facilityLevelAt(rest, 0);
      if (fl === null) {
        const space = rest.indexOf(' ');
        if (space > 0) {
          fl = facilityLevelAt(rest, space + 1);
          if (fl !== null) {
            if (isHost(rest, space)) host = rest.slice(0, space);
            else fl = null;
          }
        }
      }
      if (fl !== null) {
        // An explicit <PRI> wins over the word.
        if (facility === null) {
          facility = fl.facility;
          level = fl.level;
        }
        tagged = fl.rest;
      } else {
        const h = HOST_THEN_TAG.exec(rest);
        if (h) {
          host = h[1]!;
          tagged = h[2]!;
        } else if (!TAG.test(rest) || rest.indexOf(':') < 0) {
          // "host message" with no tag at all: the first word is the host.
          const space = rest.indexOf(' ');
          if (space > 0 && !rest.slice(0, space).includes(':')) {
            return ok(
              {
                timestamp,
                host: rest.slice(0, space),
                facility,
                level,
                program: null,
                pid: null,
                message: rest.slice(space + 1),
              },
              stamp.ms,
            );
          }
        }
      }
    }
    const t = TAG.exec(tagged);
    if (t && t[1]!.length <= 64) {
      const pid = t[2] ?? t[3];
      return ok(
        {
          timestamp,
          host,
          facility,
          level,
          program: t[1] === '' ? null : t[1]!,
          pid: pid === undefined ? null : Number(pid),
          message: t[4]!,
        },
        stamp.ms,
      );
    }
    return ok(
      { timestamp, host, facility, level, program: null, pid: null, message: tagged },
      stamp.ms,
    );
  }

  private parse5424(line: string, facility: string | null, level: string | null): ParseOutcome {
    const m = RFC5424.exec(line);
    if (!m) return fail('malformed RFC 5424 header');
    const stamp =
      m[1] === '-'
        ? { iso: new Date(this.referenceMs).toISOString(), ms: this.referenceMs }
        : isoToUtc(m[1]!);
    if (stamp === null) return fail('invalid timestamp');
    if (m[1] !== '-') this.dated = stamp;
    const nil = (v: string): string | null => (v === '-' ? null : v);
    const pid = m[4] !== undefined && /^\d+$/.test(m[4]) ? Number(m[4]) : null;
    let message = m[7] ?? '';
    if (message.startsWith('\uFEFF')) message = message.slice(1);
    return ok(
      {
        timestamp: stamp.iso,
        host: nil(m[2]!) ?? this.defaultHost,
        facility,
        level,
        program: nil(m[3]!),
        pid,
        message,
      },
      stamp.ms,
    );
  }

  /**
   * A wall-clock time (in the configured zone) to RFC 3339 UTC. With no year, the year is the
   * reference time's, or the one before when that would put the line more than a day ahead.
   */
  private wallClock(
    mon: string,
    day: string,
    hh: string,
    mm: string,
    ss: string,
    year: number | undefined,
  ): Stamp | null {
    const month = MONTHS[mon];
    const d = Number(day);
    const h = Number(hh);
    const mi = Number(mm);
    const s = Number(ss);
    if (month === undefined || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return null;
    // One number per minute of wall-clock time: many lines share a minute, and comparing a
    // number is cheaper than building and comparing a string per line.
    const key = ((((year ?? 0) * 12 + month) * 31 + d) * 24 + h) * 60 + mi;
    if (key !== this.minuteKey) {
      const minute = this.minuteStart(year, month, d, h, mi);
      if (minute === undefined) return null;
      this.minuteKey = key;
      this.minute = minute;
      this.lastSecond = -1;
    }
    const minute = this.minute;
    if (minute === null) return this.slowStamp(year, month, d, h, mi, s);
    if (s === this.lastSecond) return this.lastStamp;
    // A leap second (:60) is kept in its minute, as :59.
    const sec = Math.min(s, 59);
    this.lastSecond = s;
    this.lastStamp = {
      iso: `${minute.prefix}${sec < 10 ? '0' : ''}${sec}.000Z`,
      ms: minute.ms + sec * 1000,
    };
    return this.lastStamp;
  }

  /**
   * The UTC start of a wall-clock minute and its ISO prefix ("YYYY-MM-DDTHH:MM:"); null when
   * the minute cannot be cached (a year-less minute astride the year-inference boundary, or a
   * zone whose offset is not whole minutes), undefined when the date does not exist.
   */
  private minuteStart(
    year: number | undefined,
    month: number,
    d: number,
    h: number,
    mi: number,
  ): { ms: number; prefix: string } | null | undefined {
    let ms: number;
    if (year !== undefined) {
      ms = this.toUtc(year, month, d, h, mi, 0);
    } else {
      // A line without a year is from the latest year that does not put it in the future.
      const refYear = new Date(this.referenceMs).getUTCFullYear();
      ms = this.toUtc(refYear, month, d, h, mi, 0);
      const limit = this.referenceMs + DAY_MS;
      if (ms > limit) ms = this.toUtc(refYear - 1, month, d, h, mi, 0);
      else if (ms + 59_000 > limit) return this.validDay(ms, d) ? null : undefined;
    }
    if (!this.validDay(ms, d)) return undefined;
    const iso = new Date(ms).toISOString();
    if (iso.length !== 24 || ms % 60_000 !== 0) return null;
    return { ms, prefix: iso.slice(0, 17) };
  }

  /** Date.UTC rolls 31 Feb into March: a date that does not exist is refused. */
  private validDay(ms: number, d: number): boolean {
    return new Date(ms + this.offsetMs(ms)).getUTCDate() === d;
  }

  /** The uncached path, second by second, for the rare minute that cannot be cached. */
  private slowStamp(
    year: number | undefined,
    month: number,
    d: number,
    h: number,
    mi: number,
    s: number,
  ): Stamp {
    let ms: number;
    if (year !== undefined) {
      ms = this.toUtc(year, month, d, h, mi, s);
    } else {
      const refYear = new Date(this.referenceMs).getUTCFullYear();
      ms = this.toUtc(refYear, month, d, h, mi, s);
      if (ms > this.referenceMs + DAY_MS) ms = this.toUtc(refYear - 1, month, d, h, mi, s);
    }
    this.lastSecond = -1;
    return { iso: new Date(ms).toISOString(), ms };
  }

  private toUtc(year: number, month: number, d: number, h: number, mi: number, s: number): number {
    const asUtc = Date.UTC(year, month, d, h, mi, Math.min(s, 59));
    if (!this.zoneFormat) return asUtc;
    // Two steps find the instant whose wall clock in the zone is the given one, DST included.
    const first = asUtc - this.offsetMs(asUtc);
    return asUtc - this.offsetMs(first);
  }

  /** The zone's offset from UTC at an instant, in ms (0 for UTC). */
  private offsetMs(instant: number): number {
    if (!this.zoneFormat) return 0;
    const parts: Record<string, number> = {};
    for (const p of this.zoneFormat.formatToParts(instant))
      if (p.type !== 'literal') parts[p.type] = Number(p.value);
    const wall = Date.UTC(
      parts.year!,
      parts.month! - 1,
      parts.day,
      parts.hour,
      parts.minute,
      parts.second,
    );
    return wall - (instant - (instant % 1000));
  }
}

const UTC_STAMP =
  /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:Z|\+00(?::?00)?|-00:00)?$/;

/**
 * An RFC 3339 timestamp (a zone-less one is taken as UTC; a space may stand for the T, and
 * PostgreSQL's "+00" for "+00:00") to RFC 3339 in UTC and ms, or null.
 */
export function isoToUtc(stamp: string): Stamp | null {
  // Fast path for the common shape (PostgreSQL's text in a UTC session, or RFC 3339 in UTC):
  // five times quicker than Date.parse on rewritten text. Anything unusual (another offset,
  // hour 24, a leap second, a year before 1000) takes the general path below.
  const m = UTC_STAMP.exec(stamp);
  if (m) {
    const year = Number(m[1]);
    const month = Number(m[2]);
    const day = Number(m[3]);
    const hour = Number(m[4]);
    const minute = Number(m[5]);
    const second = Number(m[6]);
    if (
      year >= 1000 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      hour < 24 &&
      minute < 60 &&
      second < 60
    ) {
      const digits = m[7] ? m[7].slice(1, 4).padEnd(3, '0') : '000';
      const ms = Date.UTC(year, month - 1, day, hour, minute, second, Number(digits));
      // Date.UTC rolls 31 November over into December; Date.parse refuses it.
      if (day <= 28 || new Date(ms).getUTCDate() === day)
        return { iso: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${digits}Z`, ms };
    }
  }
  let s = stamp.replace(' ', 'T');
  if (/[+-]\d{4}$/.test(s)) s = `${s.slice(0, -2)}:${s.slice(-2)}`;
  else if (/T[\d:.]+[+-]\d{2}$/.test(s)) s += ':00'; // PostgreSQL's "+00"
  if (!/(Z|[+-]\d{2}:\d{2})$/i.test(s)) s += 'Z';
  // JavaScript dates keep milliseconds; longer fractions are truncated, not rounded.
  s = s.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? null : { iso: new Date(ms).toISOString(), ms };
}

function ok(record: LogRecord, time: number): ParseOutcome {
  const message = record.message;
  if (message.charCodeAt(0) === 109 /* m */ && message.startsWith('message repeated ')) {
    const r = REPEATED.exec(message);
    if (r) {
      record.message = r[2]!;
      record.repeats = Number(r[1]);
    }
  }
  return { ok: true, record, time };
}

interface FacilityLevel {
  facility: string;
  level: string;
  /** What follows the word and its space. */
  rest: string;
}

/**
 * A known "facility.level" word at `start` (as logread and busybox print them, e.g. daemon.warn,
 * kern.info, local7.debug), followed by a space or the end of the line; null otherwise. A
 * character loop, so that the words it is tried on (hosts, tags) are turned down at once.
 */
function facilityLevelAt(s: string, start: number): FacilityLevel | null {
  let dot = -1;
  let i = start;
  // The longest pair is "authpriv.warning" (16 characters).
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) break;
    if (i - start >= 16) return null;
    if (c === 46 /* . */) {
      if (dot >= 0) return null;
      dot = i;
    } else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57 && dot < 0))) return null;
  }
  if (dot <= start || dot === i - 1) return null;
  const facility = normalizeFacility(s.slice(start, dot));
  if (facility === null) return null;
  const level = normalizeLevel(s.slice(dot + 1, i));
  if (level === null) return null;
  return { facility, level, rest: s.slice(i + 1) };
}

/** The first `end` characters are a host name: no ':', '[' nor ']' (nor space). */
function isHost(s: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 || c === 91 || c === 93) return false;
  }
  return true;
}

/** "yyyy " at the start. */
function isYear(s: string): boolean {
  return s.charCodeAt(4) === 32 && isDigit(s, 0) && isDigit(s, 1) && isDigit(s, 2) && isDigit(s, 3);
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/**
 * The length of a leading "[ 123.456789]" (the kernel's uptime stamp: the system agent reads it
 * as ^\[\s*(\d+)\.\d+\]), or 0.
 */
function uptimeLength(s: string): number {
  if (s.charCodeAt(0) !== 91 /* [ */) return 0;
  let i = 1;
  while (s.charCodeAt(i) === 32) i++;
  const whole = i;
  while (isDigit(s, i)) i++;
  if (i === whole || s.charCodeAt(i) !== 46 /* . */) return 0;
  const fraction = ++i;
  while (isDigit(s, i)) i++;
  if (i === fraction || s.charCodeAt(i) !== 93 /* ] */) return 0;
  return i + 1;
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

function fail(reason: string): ParseOutcome {
  return { ok: false, reason };
}
