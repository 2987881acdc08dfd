// The kernel's ring buffer: `dmesg` prints "[%5ld.%06ld] " before each record, and `dmesg -r`
// (util-linux sys-utils/dmesg.c, print_record) "<%d>[%5ld.%06ld] " with
// LOG_RAW_FAC_PRI(facility, level): <0>..<7> for the kernel's own lines, a larger number
// (<14>, <30>) for a record a program wrote to /dev/kmsg with its facility. Such a record is
// read as logread shows it: program "kernel", facility and level from the number. It has no
// date: it takes the time of the last dated line.
import { isDigit } from './chars.js';
import type { LogRecord } from './record.js';

/**
 * The length of a leading "[ 123.456789]" (the kernel's uptime stamp: the system agent reads it
 * as ^\[\s*(\d+)\.\d+\]), or 0.
 */
export function uptimeLength(s: string): number {
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

/**
 * A ring-buffer line as a record: the kernel's, in facility kern unless a <PRI> named another
 * (a <PRI> always names one); the message keeps its uptime stamp, as logread's does.
 */
export function kernelRecord(
  line: string,
  timestamp: string,
  host: string | null,
  facility: string | null,
  level: string | null,
): LogRecord {
  return {
    timestamp,
    host,
    facility: facility ?? 'kern',
    level,
    program: 'kernel',
    pid: null,
    message: line,
  };
}
