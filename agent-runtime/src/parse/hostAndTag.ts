// The part of a line after its timestamp: [host ][facility.level ]tag: message, in every
// arrangement OpenWrt's loggers and the relays between print it.
import { facilityLevelAt } from './facilityLevel.js';
import { uptimeLength } from './kernelRing.js';
import { ok, type ParseOutcome, type Stamp } from './record.js';

// program[pid]: message  |  program [pid]: message  |  program: message  |  : message (a tag
// left empty). The pid after a space needs a program before it.
const TAG = /^([^\s:[\]]*)(?:\[(\d+)\]|(?<=[^\s:[\]]) \[(\d+)\])?: ?(.*)$/s;
// host followed by a tag: "gw-home dnsmasq[728]: ..." (a host never ends in ':' nor has '['; a
// pid needs a program, so "dnsmasq [728]: ..." is a tag, not a host and a pid)
const HOST_THEN_TAG = /^([^\s:[\]]+) ((?:[^\s:[\]]+(?:\[\d+\]| \[\d+\])?)?:.*)$/s;

/** The part after the timestamp: [host ][facility.level ]tag: message. */
export function readHostAndTag(
  stamp: Stamp,
  facility: string | null,
  level: string | null,
  rest: string,
  mayHaveHost: boolean,
  defaultHost: string | null,
): ParseOutcome {
  const timestamp = stamp.iso;
  let host = defaultHost;
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
  return readTag(timestamp, stamp.ms, host, facility, level, tagged);
}

/** The tag and message: "program[pid]: message" and its variants, or the whole as the message. */
function readTag(
  timestamp: string,
  ms: number,
  host: string | null,
  facility: string | null,
  level: string | null,
  tagged: string,
): ParseOutcome {
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
      ms,
    );
  }
  return ok({ timestamp, host, facility, level, program: null, pid: null, message: tagged }, ms);
}

/** The first `end` characters are a host name: no ':', '[' nor ']' (nor space). */
function isHost(s: string, end: number): boolean {
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 || c === 91 || c === 93) return false;
  }
  return true;
}
