// The "facility.level" word that logread prints before every tag, and busybox syslogd after
// the host (daemon.warn, kern.info, local7.debug).
//
// busybox sysklogd/syslogd.c (timestamp_and_log) writes its file and its shared-memory log as
//   sprintf(G.printbuf, "%s %.64s %s %s\n", timestamp, G.hostname, res, msg);
// where res is "%s.%s" (facility.priority by the C library's names, "<%d>" when unnamed) and
// msg is "tag[pid]: text"; with -S (small) it is "%s %s\n" (timestamp, msg) instead. That is
// "Mmm dd hh:mm:ss host daemon.warn dnsmasq[1]: ...". rsyslog writes such a word only from a
// user's template (its doc/source/configuration/yaml_config.rst shows
// "%HOSTNAME% %syslogfacility-text%.%syslogseverity-text% %msg%\n"); no template of
// syslog-ng's own does. A relay may put a <PRI> in front of such a line; the <PRI> is the
// sender's own number for the line, so when both are there the <PRI> is kept and the word
// dropped.
import { normalizeFacility, normalizeLevel } from './priority.js';

export interface FacilityLevel {
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
export function facilityLevelAt(s: string, start: number): FacilityLevel | null {
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
