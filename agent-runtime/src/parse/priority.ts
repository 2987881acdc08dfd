// Syslog facilities and severities (RFC 5424 section 6.2.1), by number and by the names
// logread and collectors print, normalised to one spelling each.

const FACILITIES = [
  'kern',
  'user',
  'mail',
  'daemon',
  'auth',
  'syslog',
  'lpr',
  'news',
  'uucp',
  'cron',
  'authpriv',
  'ftp',
  'ntp',
  'audit',
  'alert',
  'clock',
  'local0',
  'local1',
  'local2',
  'local3',
  'local4',
  'local5',
  'local6',
  'local7',
] as const;

/** Severity names, index = RFC 5424 severity number (0 = emerg, the most severe). */
export const LEVELS = [
  'emerg',
  'alert',
  'crit',
  'err',
  'warning',
  'notice',
  'info',
  'debug',
] as const;
export type Level = (typeof LEVELS)[number];

const FACILITY_ALIASES: Record<string, string> = { security: 'auth' };
const LEVEL_ALIASES: Record<string, Level> = {
  panic: 'emerg',
  error: 'err',
  warn: 'warning',
};

export function facilityName(code: number): string | null {
  return FACILITIES[code] ?? null;
}

export function levelName(code: number): Level | null {
  return LEVELS[code] ?? null;
}

export function normalizeFacility(name: string): string | null {
  const n = FACILITY_ALIASES[name] ?? name;
  return (FACILITIES as readonly string[]).includes(n) ? n : null;
}

export function normalizeLevel(name: string): Level | null {
  const n = LEVEL_ALIASES[name] ?? name;
  return (LEVELS as readonly string[]).includes(n) ? (n as Level) : null;
}

/** Severity number of a level name (0 = emerg); lower is more severe. */
export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}
