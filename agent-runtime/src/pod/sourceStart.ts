// The agent's first start in words, for its log: where it began reading the source and how
// many older rows it left unread. An agent started at the end of a table of old rows analyses
// nothing; its log says so at once, and names spec.source.backfill.
import type { SourceStart } from '../contract/index.js';

/** The first start's position in words, for the log: where reading began, and what it left. */
export function describeStart(start: SourceStart): string {
  const from =
    start.from === 'beginning'
      ? 'reading the source from its first row'
      : start.from === 'backfill'
        ? `reading the source from ${start.backfill ?? 'spec.source.backfill'} before now (spec.source.backfill)`
        : 'reading the source from its end: only rows that arrive from now on';
  if (start.from === 'beginning' || start.rowsBefore === undefined) return `first start: ${from}`;
  if (start.rowsBefore === 0) return `first start: ${from}; no older rows were left unread`;
  const one = start.rowsBefore === 1 && !start.rowsBeforeCapped;
  const rows = `${start.rowsBeforeCapped ? 'more than ' : ''}${start.rowsBefore.toLocaleString('en-US')} older row${one ? '' : 's'}`;
  const range = start.oldestBefore
    ? `, from ${start.oldestBefore} to ${start.newestBefore},`
    : start.newestBefore
      ? `, the newest from ${start.newestBefore},`
      : '';
  const hint =
    start.from === 'end'
      ? ': spec.source.backfill (at most 720h) has a pod that starts with an empty store read that period first'
      : '';
  return `first start: ${from}; ${rows}${range} ${one ? 'is' : 'are'} not analysed${hint}`;
}
