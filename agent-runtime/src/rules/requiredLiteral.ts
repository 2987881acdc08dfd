// The longest piece of plain text every match of a pattern must contain, found by reading the
// pattern's source: a line without it cannot match, and `String.includes` says so far faster
// than the regular expression would. Most lines a rule reads are not the one it looks for (a
// firewall log line tried against forty kernel crash patterns), so this is where the rules'
// time goes. Conservative: anything it does not understand ends a piece of text, and a pattern
// with an alternative (`|`) outside every group has none.

/** Characters that, escaped, stand for themselves. */
const ESCAPED_LITERAL = /[\\^$.*+?()[\]{}|/\-'"=:!<>@#%&,;~` ]/;

export function requiredLiteral(source: string, minimum = 3): string | undefined {
  const runs: string[] = [];
  let run = '';
  const end = (): void => {
    if (run.length > 0) runs.push(run);
    run = '';
  };
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (depth > 0) {
      // Inside a group: only its nesting matters here (its contents may be optional).
      if (c === '\\') i++;
      else if (c === '[') i = skipClass(source, i);
      else if (c === '(') depth++;
      else if (c === ')') depth--;
      continue;
    }
    let piece: string | undefined;
    if (c === '\\') {
      const next = source[++i];
      if (next !== undefined && ESCAPED_LITERAL.test(next)) piece = next;
      else i = skipEscapeArgument(source, i);
    } else if (c === '|') {
      return undefined; // one of two alternatives: nothing is required of both
    } else if (c === '(') {
      depth = 1;
    } else if (c === '[') {
      i = skipClass(source, i);
    } else if (!'^$.*+?{}'.includes(c)) {
      piece = c;
    }
    if (piece === undefined) {
      end();
      continue;
    }
    const quantifier = source[i + 1];
    if (
      quantifier === '?' ||
      quantifier === '*' ||
      (quantifier === '{' && /^\{0[,}]/.test(source.slice(i + 1)))
    ) {
      end(); // this character may be absent
      continue;
    }
    run += piece;
    if (quantifier === '+' || quantifier === '{') end(); // present, but how often is open
  }
  end();
  const longest = runs.reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest.length >= minimum ? longest : undefined;
}

/** After `\\x41`, `\\u{…}`, `\\k<name>`, `\\p{…}`, `\\12`: the index of the escape's last character. */
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
