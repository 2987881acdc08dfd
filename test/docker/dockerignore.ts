// .dockerignore, matched as Docker matches it (moby/patternmatcher's MatchesOrParentMatches):
// so the scratch build copies from the checkout exactly what `docker build` would send as
// its context, not the checkout's node_modules, dist or anything else left lying about. Pure.
//
// Reading the file: a line whose first character is `#` is a comment; blanks around a line
// are dropped; `!` re-includes; each pattern is cleaned like a path, a leading `/` dropped.
// Matching: `*` is any run of characters but `/`, `?` one of them, `[...]` a class, `\` escapes,
// `**` any number of directories (none included). A path is excluded when the last pattern that
// matches it, or one of its parent directories, is not a `!` pattern.

export interface IgnorePattern {
  /** The cleaned pattern, without its `!`. */
  pattern: string;
  /** A `!` pattern: what it matches is sent after all. */
  include: boolean;
  matches: (path: string) => boolean;
}

/** Go's filepath.Clean for slash paths. */
export function cleanPath(p: string): string {
  const absolute = p.startsWith('/');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (seg === '..' && absolute) continue;
    else parts.push(seg);
  }
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined === '' ? '.' : joined;
}

const REGEX_SPECIAL = /[.+()|{}$^]/;

function compile(pattern: string): (path: string) => boolean {
  let re = '^';
  let type: 'exact' | 'prefix' | 'suffix' | 'regexp' = 'exact';
  for (let i = 0, pos = 0; pos < pattern.length; i++) {
    const ch = pattern[pos++]!;
    if (ch === '*') {
      if (pattern[pos] === '*') {
        pos++;
        if (pattern[pos] === '/') pos++;
        if (pos >= pattern.length) {
          if (type === 'exact') type = 'prefix';
          else {
            re += '.*';
            type = 'regexp';
          }
        } else {
          re += '(.*/)?';
          type = 'regexp';
        }
        if (i === 0) type = 'suffix';
      } else {
        re += '[^/]*';
        type = 'regexp';
      }
    } else if (ch === '?') {
      re += '[^/]';
      type = 'regexp';
    } else if (ch === '\\') {
      if (pos < pattern.length) {
        re += `\\${pattern[pos++]}`;
        type = 'regexp';
      } else re += '\\\\';
    } else if (ch === '[') {
      const end = pattern.indexOf(']', pos);
      if (end < 0) throw new Error(`.dockerignore: ${pattern}: [ without ]`);
      re += `[${pattern.slice(pos, end)}]`;
      pos = end + 1;
      type = 'regexp';
    } else if (ch === ']') {
      throw new Error(`.dockerignore: ${pattern}: ] without [`);
    } else re += REGEX_SPECIAL.test(ch) ? `\\${ch}` : ch;
  }
  switch (type) {
    case 'exact':
      return (p) => p === pattern;
    case 'prefix': {
      const prefix = pattern.slice(0, -2);
      return (p) => p.startsWith(prefix);
    }
    case 'suffix': {
      // A leading `**` and nothing wild after it: a plain test; `**/foo` also matches `foo`.
      const suffix = pattern.slice(2);
      return (p) => p.endsWith(suffix) || (suffix.startsWith('/') && p === suffix.slice(1));
    }
    case 'regexp': {
      const regexp = new RegExp(`${re}$`);
      return (p) => regexp.test(p);
    }
  }
}

export function parseDockerignore(text: string): IgnorePattern[] {
  const out: IgnorePattern[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (raw.startsWith('#')) continue;
    let p = raw.trim();
    if (p === '') continue;
    const include = p.startsWith('!');
    if (include) p = p.slice(1).trim();
    if (p === '') throw new Error('.dockerignore: "!" alone is not a pattern');
    p = cleanPath(p);
    if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    out.push({ pattern: p, include, matches: compile(p) });
  }
  return out;
}

/** Whether one glob segment (no `/`) can match one path segment. */
function segmentMatches(glob: string, segment: string): boolean {
  if (glob.includes('**')) return true;
  return compile(glob)(segment);
}

export class ContextFilter {
  constructor(readonly patterns: IgnorePattern[]) {}

  static fromText(text: string): ContextFilter {
    return new ContextFilter(parseDockerignore(text));
  }

  /** Whether `docker build` leaves this path (relative to the context, `/`-separated) out. */
  excluded(path: string): boolean {
    const file = cleanPath(path);
    if (file === '.') return false;
    const dirs = file.split('/').slice(0, -1);
    let excluded = false;
    for (const p of this.patterns) {
      // An exclusion cannot change an excluded path; a `!` cannot change a sent one.
      if (p.include !== excluded) continue;
      let match = p.matches(file);
      for (let i = 1; !match && i <= dirs.length; i++)
        match = p.matches(dirs.slice(0, i).join('/'));
      if (match) excluded = !p.include;
    }
    return excluded;
  }

  /**
   * Whether a `!` pattern could send something below this directory: if not, an excluded
   * directory need not be walked. Errs on the side of walking.
   */
  mayIncludeBelow(dir: string): boolean {
    const segments = cleanPath(dir).split('/');
    return this.patterns.some((p) => {
      if (!p.include) return false;
      if (p.pattern.includes('**')) return true;
      const globs = p.pattern.split('/');
      if (globs.length <= segments.length) return false;
      return segments.every((s, i) => segmentMatches(globs[i]!, s));
    });
  }
}
