// A line against a rule's matchers: its level, the literals the pattern requires, then the
// pattern, on at most MATCH_LIMIT characters of the message.
import type { ObservedLine } from '../agents/types.js';
import { LEVELS } from '../parse/priority.js';
import type { Captures } from './detectors.js';
import type { Matcher } from './ruleTypes.js';

/** Longest part of a message the patterns see: bounds the cost of any pattern on any line. */
export const MATCH_LIMIT = 4096;

const LEVEL_ORDER: readonly string[] = LEVELS;

/** A level's rank, 0 for emerg; a line with no level, or an unknown one, ranks below all. */
function levelRank(level: string | null): number {
  const i = LEVEL_ORDER.indexOf(level ?? '');
  return i < 0 ? 99 : i;
}

/** The captures of the first matcher that takes the line, or undefined. */
export function matchLine(
  matchers: readonly Matcher[],
  ctx: { ownPrograms: ReadonlySet<string> | null },
  line: ObservedLine,
): Captures | undefined {
  const program = line.record.program ?? '';
  return matchText(
    matchers.filter((m) => {
      const programs = m.programs ?? ctx.ownPrograms;
      return programs === null || programs.has(program);
    }),
    line,
  );
}

function containsOne(text: string, literals: readonly string[]): boolean {
  for (const l of literals) if (text.includes(l)) return true;
  return false;
}

/** As matchLine, for matchers already known to read the line's program. */
export function matchText(matchers: readonly Matcher[], line: ObservedLine): Captures | undefined {
  const { message, level } = line.record;
  const text = message.length > MATCH_LIMIT ? message.slice(0, MATCH_LIMIT) : message;
  for (const m of matchers) {
    if (m.maxLevel < 7 && levelRank(level) > m.maxLevel) continue;
    if (m.literals !== undefined && !containsOne(text, m.literals)) continue;
    const hit = m.pattern.exec(text);
    if (hit) return hit.groups ?? {};
  }
  return undefined;
}
