// What the agent pods left unread when they first started, in the SourceReachable condition.
// A new agent starts at the end of its table: pointed at a table of old rows (historical logs
// loaded to try it), it analyses nothing, and without a word it looks like a quiet network.
// Its pods report where they started and the rows before that point (/status `start`); this
// sums them over the pods and says what it means and what reads them: spec.source.backfill,
// within its reach, or `edgewarden analyze` beyond it. Pure.
import type { SourceStart } from '../../../../agent-runtime/src/contract/index.js';

/** spec.source.backfill's upper bound (api/schema/analysisagent.yaml). */
export const MAX_BACKFILL_HOURS = 720;
const HOUR = 3_600_000;

/** The pods' starts, summed: the rows before them, their time range, where reading began. */
export interface LeftUnread {
  from: SourceStart['from'];
  backfill?: string;
  /** The earliest start. */
  time: string;
  rows: number;
  capped: boolean;
  newest?: string;
  oldest?: string;
}

/** The rows the pods left unread at their start, summed; undefined when none left any. */
export function leftUnread(starts: readonly (SourceStart | undefined)[]): LeftUnread | undefined {
  const counted = starts.filter(
    (s): s is SourceStart & { rowsBefore: number } =>
      s !== undefined && s.from !== 'beginning' && (s.rowsBefore ?? 0) > 0,
  );
  if (counted.length === 0) return undefined;
  const times = (pick: (s: SourceStart) => string | undefined): string[] =>
    counted
      .map(pick)
      .filter((t): t is string => t !== undefined)
      .sort();
  const oldest = counted.every((s) => s.oldestBefore !== undefined)
    ? times((s) => s.oldestBefore)[0]
    : undefined;
  return {
    from: counted[0]!.from,
    backfill: counted[0]!.backfill,
    time: times((s) => s.time)[0]!,
    rows: counted.reduce((n, s) => n + s.rowsBefore, 0),
    capped: counted.some((s) => s.rowsBeforeCapped),
    newest: times((s) => s.newestBefore).at(-1),
    oldest,
  };
}

/** An RFC 3339 time to the second. */
const second = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

/** "1,385 older rows (2023-07-18T02:00:00Z to 2023-07-22T08:55:00Z)", "more than 100,000 older rows". */
function rowsInWords(u: LeftUnread): string {
  const count = `${u.capped ? 'more than ' : ''}${u.rows.toLocaleString('en-US')}`;
  const range =
    u.oldest && u.newest
      ? ` (${second(u.oldest)} to ${second(u.newest)})`
      : u.newest
        ? ` (the newest ${second(u.newest)})`
        : '';
  return `${count} older row${u.rows === 1 && !u.capped ? '' : 's'}${range}`;
}

/** Where the pods began reading, in words. */
function startInWords(u: LeftUnread): string {
  return u.from === 'backfill'
    ? `started ${u.backfill ?? 'spec.source.backfill'} before ${second(u.time)} (spec.source.backfill)`
    : `started at the end of the table at ${second(u.time)}`;
}

/**
 * What reads the rows left unread: spec.source.backfill when the newest of them was within
 * its reach at the start (with a period that reaches the oldest, when known), else analyze.
 */
export function howToReadThem(u: LeftUnread): string {
  const startMs = Date.parse(u.time);
  const newestAgeH = u.newest ? (startMs - Date.parse(u.newest)) / HOUR : 0;
  if (newestAgeH > MAX_BACKFILL_HOURS)
    return `they are all older than spec.source.backfill can reach (${MAX_BACKFILL_HOURS}h); \`edgewarden analyze\` reads such logs from a file`;
  const oldestAgeH = u.oldest ? Math.ceil((startMs - Date.parse(u.oldest)) / HOUR) + 1 : undefined;
  const reach =
    oldestAgeH === undefined
      ? ''
      : oldestAgeH <= MAX_BACKFILL_HOURS
        ? `; ${oldestAgeH}h reaches the oldest`
        : `; ${MAX_BACKFILL_HOURS}h reaches the newest of them, not the oldest`;
  const more = u.from === 'backfill' ? 'a longer spec.source.backfill' : 'spec.source.backfill';
  return `to analyse them, set ${more} (at most ${MAX_BACKFILL_HOURS}h${reach}): a pod reads that period first when it starts with an empty store`;
}

/** The SourceReachable message's part about the start, when rows were left unread. */
export function unreadNote(u: LeftUnread, linesAnalyzed: number): string {
  const one = u.rows === 1 && !u.capped;
  if (linesAnalyzed === 0)
    return `no new line has arrived since the agent ${startInWords(u)}: ${rowsInWords(u)} there ${one ? 'is' : 'are'} not analysed; ${howToReadThem(u)}`;
  return `the agent ${startInWords(u)}: ${rowsInWords(u)} there ${one ? 'was' : 'were'} not analysed`;
}
