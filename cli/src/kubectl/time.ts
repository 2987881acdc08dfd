// Time as kubectl shows and takes it: ages ("5m", "3h", "2d", as kubectl's HumanDuration) and
// spans given on the command line ("1h", "7d", "1d12h"; the API's duration format plus days).
import { parseDuration } from '../../../api/src/duration.js';

const DAY_MS = 86_400_000;

/** A span such as 30s, 5m, 1h30m, 7d or 1d12h, in milliseconds; undefined if it is not one. */
export function parseSpan(text: string): number | undefined {
  const days = /^(\d+)d(.*)$/.exec(text);
  if (!days) {
    const ms = parseDuration(text);
    return ms !== undefined && ms > 0 ? ms : undefined;
  }
  const rest = days[2] === '' ? 0 : parseDuration(days[2]!);
  if (rest === undefined) return undefined;
  const total = Number(days[1]) * DAY_MS + rest;
  return total > 0 ? total : undefined;
}

/**
 * The age of something that happened at `then`, seen at `now`, as kubectl writes it (the rules
 * of k8s.io/apimachinery's duration.HumanDuration): 45s, 2m30s, 15m, 3h5m, 20h, 3d4h, 30d, 2y10d.
 */
export function age(then: string | undefined, now: Date): string {
  if (!then) return '<unknown>';
  const ms = now.getTime() - Date.parse(then);
  if (Number.isNaN(ms)) return '<unknown>';
  return humanDuration(ms);
}

export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const years = Math.floor(hours / 24 / 365);
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${years}y` : `${years}y${days}d`;
  }
  return `${years}y`;
}
