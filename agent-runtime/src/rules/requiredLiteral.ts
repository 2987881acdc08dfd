// Text every match of a pattern must contain, read from the pattern's source: one of a few
// literals (`Out of memory: Kill`, or `DHCPDISCOVER(` / `DHCPNAK(` / `BOOTP(` for an alternation).
// A line holding none of them cannot match, and `String.includes` says so far faster than the
// regular expression would. Most lines a rule reads are not the one it looks for (a firewall
// log line tried against forty kernel crash patterns), so this is where the rules' time goes.
// Conservative: whatever it does not understand requires nothing, so at worst a line is tried.

/** Characters that, escaped, stand for themselves. */
const ESCAPED_LITERAL = /[\\^$.*+?()[\]{}|/\-'"=:!<>@#%&,;~` ]/;

/**
 * Literals of which every match contains at least one, each at least `minimum` long; undefined
 * when the pattern gives none (a class, a wildcard, an optional part everywhere).
 */
export function requiredLiterals(source: string, minimum = 3): string[] | undefined {
  const found = alternatives(source, 0, source.length, minimum);
  return found && found.length > 0 && found.length <= 16 ? [...new Set(found)] : undefined;
}

/** The single literal, when the pattern needs one and only one (for tests and explain). */
export function requiredLiteral(source: string, minimum = 3): string | undefined {
  const found = requiredLiterals(source, minimum);
  return found?.length === 1 ? found[0] : undefined;
}

/** source[from, to) split at its top-level `|`: each branch must give literals. */
function alternatives(
  source: string,
  from: number,
  to: number,
  minimum: number,
): string[] | undefined {
  const branches: [number, number][] = [];
  let start = from;
  let depth = 0;
  for (let i = from; i < to; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = skipClass(source, i);
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      branches.push([start, i]);
      start = i + 1;
    }
  }
  branches.push([start, to]);
  const out: string[] = [];
  for (const [a, b] of branches) {
    const literals = sequence(source, a, b, minimum);
    if (!literals) return undefined;
    out.push(...literals);
  }
  return out;
}

/** A sequence without top-level `|`: the best of its literal runs and its required groups. */
function sequence(source: string, from: number, to: number, minimum: number): string[] | undefined {
  const candidates: string[][] = [];
  let run = '';
  const end = (): void => {
    if (run.length >= minimum) candidates.push([run]);
    run = '';
  };
  for (let i = from; i < to; i++) {
    const c = source[i]!;
    let piece: string | undefined;
    let last = i; // the index of the item's last character
    if (c === '\\') {
      const next = source[i + 1];
      last = i + 1;
      if (next !== undefined && ESCAPED_LITERAL.test(next)) piece = next;
      else last = skipEscapeArgument(source, i + 1);
    } else if (c === '(') {
      last = closeOf(source, i);
      const optional = isOptional(source[last + 1], source.slice(last + 1));
      const lookaround = /^\(\?(?:=|!|<=|<!)/.test(source.slice(i, i + 4));
      end();
      if (!optional && !lookaround) {
        const body = source[i + 1] === '?' ? groupBodyStart(source, i) : i + 1;
        const inner = alternatives(source, body, last, minimum);
        if (inner) candidates.push(inner);
      }
      i = last;
      continue;
    } else if (c === '[') {
      last = skipClass(source, i);
    } else if (!'^$.*+?{}|'.includes(c)) {
      piece = c;
    }
    i = last;
    if (piece === undefined) {
      end();
      continue;
    }
    const after = source[i + 1];
    if (isOptional(after, source.slice(i + 1))) {
      end(); // this character may be absent
      continue;
    }
    run += piece;
    if (after === '+' || after === '{') end(); // present, but how often is open
  }
  end();
  if (candidates.length === 0) return undefined;
  // The best: the set whose shortest literal is longest (the most selective test).
  const shortest = (set: string[]): number => Math.min(...set.map((l) => l.length));
  return candidates.reduce((a, b) => (shortest(b) > shortest(a) ? b : a));
}

function isOptional(quantifier: string | undefined, rest: string): boolean {
  return quantifier === '?' || quantifier === '*' || (quantifier === '{' && /^\{0[,}]/.test(rest));
}

/** Where a `(?…` group's body starts: after `(?:`, `(?<name>`. */
function groupBodyStart(source: string, open: number): number {
  if (source[open + 2] === ':') return open + 3;
  if (source[open + 2] === '<') return source.indexOf('>', open) + 1;
  return open + 1;
}

/** The index of the `)` that closes the group opened at `open`. */
function closeOf(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (c === '[') i = skipClass(source, i);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return source.length;
}

/** After `\x41`, `\u{…}`, `\k<name>`, `\p{…}`, `\12`: the index of the escape's last character. */
function skipEscapeArgument(source: string, at: number): number {
  const letter = source[at];
  const closing = (open: string, close: string): number =>
    source[at + 1] === open ? Math.max(at, source.indexOf(close, at)) : at;
  switch (letter) {
    case 'x':
      return at + 2;
    case 'u':
      return source[at + 1] === '{' ? closing('{', '}') : at + 4;
    case 'c':
      return at + 1;
    case 'k':
      return closing('<', '>');
    case 'p':
    case 'P':
      return closing('{', '}');
    default: {
      let i = at;
      while (/\d/.test(source[i + 1] ?? '')) i++;
      return i;
    }
  }
}

/** The index of the `]` that closes the class opened at `open`. */
function skipClass(source: string, open: number): number {
  for (let i = open + 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === ']' && i > open + 1) return i;
  }
  return source.length;
}
