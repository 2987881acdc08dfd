// RFC 5424's header, after the <PRI>: VERSION SP TIMESTAMP SP HOST SP APP SP PROCID SP MSGID
// SP STRUCTURED-DATA [SP MSG], as "1 2026-01-05T12:54:43.262Z gw-home hostapd 1234 - - wlan0: AP-ENABLED".
import type { LogRecord } from './record.js';

/** Groups: 1 timestamp, 2 host, 3 app, 4 procid, 5 msgid, 6 structured data, 7 message. */
export const RFC5424 = /^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$/s;

const nil = (v: string): string | null => (v === '-' ? null : v);

/**
 * The record of a header RFC5424 matched, stamped `timestamp` (the header's own, or the
 * reference time when it gives none): "-" fields are null, a numeric PROCID is the pid, and
 * the message loses its BOM.
 */
export function rfc5424Record(
  m: RegExpExecArray,
  timestamp: string,
  facility: string | null,
  level: string | null,
  defaultHost: string | null,
): LogRecord {
  const pid = m[4] !== undefined && /^\d+$/.test(m[4]) ? Number(m[4]) : null;
  let message = m[7] ?? '';
  if (message.startsWith('\uFEFF')) message = message.slice(1);
  return {
    timestamp,
    host: nil(m[2]!) ?? defaultHost,
    facility,
    level,
    program: nil(m[3]!),
    pid,
    message,
  };
}
