// What of an agent's refusal message the operator records (status, conditions, Events, log).
// The agent names fields, sizes and hashes, never a model source's text (issue 20, H1); as a
// second line of defence against an agent that does (an older image: its JSON parser and
// schema validator quoted the source), quoted text is withheld and the length capped.

/** The longest refusal message recorded; an agent's message is a line or two. */
export const MAX_REFUSAL_MESSAGE = 512;

/** The message with every quoted string ("…" or '…') withheld, at most MAX_REFUSAL_MESSAGE long. */
export function refusalText(message: string): string {
  const unquoted = message
    .replace(/"(?:[^"\\\n]|\\.)*("|$)/g, '"…"')
    .replace(/'[^'\n]*('|$)/g, "'…'");
  return unquoted.length <= MAX_REFUSAL_MESSAGE
    ? unquoted
    : `${unquoted.slice(0, MAX_REFUSAL_MESSAGE - 1)}…`;
}
