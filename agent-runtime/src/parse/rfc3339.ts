// RFC 3339 timestamps, as syslog lines and PostgreSQL's text print them, to UTC.
import type { Stamp } from './record.js';

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
