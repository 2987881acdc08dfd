// Wall-clock times without a zone (logread's ctime(), RFC 3164's "Mmm dd hh:mm:ss", often
// without a year) to UTC, in the configured zone. A log has many lines per second, so the
// start of the current minute is worked out once and each line adds its seconds to it.
import type { Stamp } from './record.js';

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

export class WallClock {
  private readonly zoneFormat: Intl.DateTimeFormat | undefined;
  private minuteKey = -1;
  private minute: { ms: number; prefix: string } | null = null;
  private lastSecond = -1;
  private lastStamp: Stamp = { iso: '', ms: 0 };

  /**
   * @param referenceMs when lines without a year were received: a line's year is the one that
   *   puts it at or before this (plus a day of clock skew).
   * @param timeZone an IANA name; undefined or 'UTC' for UTC.
   */
  constructor(
    private readonly referenceMs: number,
    timeZone: string | undefined,
  ) {
    const zone = timeZone && timeZone !== 'UTC' ? timeZone : undefined;
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
  }

  /**
   * A wall-clock time (in the configured zone) to RFC 3339 UTC. With no year, the year is the
   * reference time's, or the one before when that would put the line more than a day ahead.
   */
  stamp(
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
