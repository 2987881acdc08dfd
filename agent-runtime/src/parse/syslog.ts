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
// Each shape is read in a file of its own: logread.ts, rfc5424.ts, kernelRing.ts, rfc3339.ts
// (RFC 3339 stamps), wallClock.ts (RFC 3164 and logread stamps), hostAndTag.ts (what follows
// the stamp), facilityLevel.ts (busybox's and logread's facility.level word), repeated.ts
// (a relay's "message repeated N times").
//
// Lines that carry no date (the ring buffer's, and logread lines whose start was cut off) take
// the time of the last line this parser read that had one: a parser reads one device's stream.
//
// A line it cannot read is reported as such (with a reason), never thrown: the caller counts it
// and moves on. Dispatch is on the first character, one regular expression per shape, and the
// last timestamp's conversion is memoised, because a log has many lines per second.
import { facilityName, levelName, normalizeFacility, normalizeLevel } from './priority.js';
import { readHostAndTag } from './hostAndTag.js';
import { facilityLevelAt, type FacilityLevel } from './facilityLevel.js';
import { kernelRecord, uptimeLength } from './kernelRing.js';
import { cutLogreadWord, DATE_CUT, isYear, LOGREAD } from './logread.js';
import { fail, ok, type ParseOutcome, type Stamp } from './record.js';
import { RFC5424, rfc5424Record } from './rfc5424.js';
import { isoToUtc } from './rfc3339.js';
import { WallClock } from './wallClock.js';

export type { LogRecord, ParseOutcome, Stamp } from './record.js';
export { isoToUtc } from './rfc3339.js';

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

const MAX_LINE = 64 * 1024;

// Mmm dd hh:mm:ss rest   (RFC 3164 timestamp; the PRI, if any, is already removed)
const BSD_STAMP = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)? (.*)$/s;
// RFC 3339 timestamp then rest
const ISO_STAMP =
  /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?) (.*)$/is;

export class SyslogParser {
  private readonly referenceMs: number;
  private readonly defaultHost: string | null;
  private readonly clock: WallClock;
  /** The time of the last line read that had a date: the time of the lines that have none. */
  private dated: Stamp;

  constructor(options: ParserOptions = {}) {
    this.referenceMs = (options.referenceTime ?? new Date()).getTime();
    this.dated = { iso: new Date(this.referenceMs).toISOString(), ms: this.referenceMs };
    this.clock = new WallClock(this.referenceMs, options.timeZone);
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
      const record = kernelRecord(line, stamp.iso, this.defaultHost, facility, level);
      return ok(record, stamp.ms);
    }

    if (first >= 48 && first <= 57 /* digit: RFC 3339 timestamp */) {
      const m = ISO_STAMP.exec(line);
      if (!m) return (hasPri ? null : this.cutLogread(line)) ?? fail('unrecognised timestamp');
      const timestamp = isoToUtc(m[1]!);
      if (timestamp === null) return fail('invalid timestamp');
      this.dated = timestamp;
      return readHostAndTag(timestamp, facility, level, m[2]!, true, this.defaultHost);
    }

    if (!hasPri) {
      const m = LOGREAD.exec(line);
      if (m) {
        const timestamp = this.clock.stamp(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, Number(m[6]));
        if (timestamp === null) return fail('invalid date');
        const fac = normalizeFacility(m[7]!);
        const lev = normalizeLevel(m[8]!);
        if (fac === null || lev === null) return fail('unknown facility or level');
        this.dated = timestamp;
        return readHostAndTag(timestamp, fac, lev, m[9]!, false, this.defaultHost);
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
    const timestamp = this.clock.stamp(m[1]!, m[2]!, m[3]!, m[4]!, m[5]!, year);
    if (timestamp === null) return fail('invalid date');
    this.dated = timestamp;
    if (fl !== null)
      return readHostAndTag(timestamp, fl.facility, fl.level, fl.rest, false, this.defaultHost);
    return readHostAndTag(timestamp, facility, level, rest, true, this.defaultHost);
  }

  /**
   * A logread line whose start was cut off (logread.ts): it takes the time of the last dated
   * line. Null when the line is not one.
   */
  private cutLogread(line: string): ParseOutcome | null {
    const found = cutLogreadWord(line);
    if (found === null) return null;
    if (found === DATE_CUT) return fail('date cut off, and no facility.level to read the line by');
    return readHostAndTag(
      this.dated,
      found.facility,
      found.level,
      found.rest,
      false,
      this.defaultHost,
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
    return ok(rfc5424Record(m, stamp.iso, facility, level, this.defaultHost), stamp.ms);
  }
}
