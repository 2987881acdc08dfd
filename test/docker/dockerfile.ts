// The Dockerfile, read as BuildKit reads it, for the subset this project uses: stages (`FROM
// image AS name`), WORKDIR, ENV, ARG, COPY (from the context or `--from=<stage>`), RUN (shell
// form), USER, ENTRYPOINT and CMD (exec form). Pure: text in, instructions out. Anything else
// (an instruction, a flag, a heredoc, a shell-form ENTRYPOINT, a quoted COPY source) throws
// `DockerfileError` naming the line: the scratch build (scratchBuild.ts) must never skip a
// step it does not understand, or a change to the Dockerfile could escape the test.

export class DockerfileError extends Error {
  readonly code = 'DOCKERFILE_UNSUPPORTED';
  constructor(line: number, message: string) {
    super(`Dockerfile line ${line}: ${message}`);
  }
}

/** One instruction after BuildKit's line handling: continuations joined, comment lines gone. */
export interface LogicalLine {
  line: number;
  keyword: string;
  rest: string;
}

const CONTINUATION = /\\[ \t]*$/;
const COMMENT = /^#/;
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

/**
 * Splits a Dockerfile into instructions as BuildKit's parser does: parser directives only at
 * the top; a line ending in `\` (trailing blanks allowed) continues on the next; inside a
 * continuation, comment lines (`#` after optional blanks) and blank lines are dropped, and the
 * next line is appended as is (its indentation kept, no newline). `#` anywhere else in a line
 * is not a comment: it reaches the shell.
 */
export function logicalLines(text: string): LogicalLine[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const out: LogicalLine[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const [, name, value] = m;
    const key = name!.toLowerCase();
    if (key === 'escape' && value !== '\\')
      throw new DockerfileError(i + 1, `escape=${value}: only the default escape (\\) is read`);
    if (key === 'syntax' && !/^docker\/dockerfile:1(\.\d+)*$/.test(value!))
      throw new DockerfileError(i + 1, `syntax=${value}: only docker/dockerfile:1 is read`);
  }
  for (; i < lines.length; i++) {
    const first = lines[i]!.trimStart();
    if (first === '' || COMMENT.test(first)) continue;
    const start = i + 1;
    let joined = first;
    let open = CONTINUATION.test(joined);
    if (open) joined = joined.replace(CONTINUATION, '');
    while (open && i + 1 < lines.length) {
      const next = lines[++i]!;
      if (COMMENT.test(next.trimStart()) || next.trim() === '') continue;
      open = CONTINUATION.test(next);
      joined += open ? next.replace(CONTINUATION, '') : next;
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(joined)!;
    out.push({ line: start, keyword: m[1]!.toUpperCase(), rest: m[2]!.trim() });
  }
  return out;
}

/** Variables in scope: ARG and ENV values. */
export type Vars = Record<string, string>;

/**
 * Docker's word processing for ENV, ARG and the like: blanks split words; '...' is literal;
 * "..." expands variables and honours \" \$ \\; an unquoted backslash escapes the next
 * character; $NAME, ${NAME}, ${NAME:-word} and ${NAME:+word} expand (unset is empty).
 */
export function splitWords(s: string, vars: Vars, line: number): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const variable = (): string => {
    // at s[i] === '$'
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:[-+])([^}]*))?\}/.exec(s.slice(i));
    if (braced) {
      i += braced[0].length;
      const value = vars[braced[1]!];
      if (braced[2] === ':-') return value ? value : braced[3]!;
      if (braced[2] === ':+') return value ? braced[3]! : '';
      return value ?? '';
    }
    if (s[i + 1] === '{')
      throw new DockerfileError(line, `unsupported variable form in ${JSON.stringify(s)}`);
    const plain = /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(i));
    if (plain) {
      i += plain[0].length;
      return vars[plain[1]!] ?? '';
    }
    i += 1;
    return '$';
  };
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new DockerfileError(line, `unmatched ' in ${JSON.stringify(s)}`);
      word += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new DockerfileError(line, `unmatched " in ${JSON.stringify(s)}`);
        const d = s[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '"$\\'.includes(s[i + 1]!)) {
          word += s[i + 1];
          i += 2;
        } else if (d === '$') word += variable();
        else {
          word += d;
          i++;
        }
      }
    } else if (c === '\\' && i + 1 < s.length) {
      word += s[i + 1];
      i += 2;
    } else if (c === '$') word += variable();
    else {
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** A path-like argument (WORKDIR, COPY, USER, FROM): variables expanded, no quoting. */
function plainWords(s: string, vars: Vars, line: number, what: string): string[] {
  if (/["'\\]/.test(s))
    throw new DockerfileError(line, `${what}: quotes and escapes are not read here (${s})`);
  return splitWords(s, vars, line);
}

export interface PlatformArgs {
  /** Docker's names: os `linux`, arch `amd64` / `arm64`. */
  os: string;
  arch: string;
}

const PLATFORM_ARGS = (p: PlatformArgs): Vars => ({
  TARGETPLATFORM: `${p.os}/${p.arch}`,
  TARGETOS: p.os,
  TARGETARCH: p.arch,
  TARGETVARIANT: '',
  BUILDPLATFORM: `${p.os}/${p.arch}`,
  BUILDOS: p.os,
  BUILDARCH: p.arch,
  BUILDVARIANT: '',
});

export type Instruction =
  | { kind: 'WORKDIR'; line: number; path: string }
  | { kind: 'ENV'; line: number; vars: Vars }
  | { kind: 'ARG'; line: number; name: string; value: string | undefined }
  | { kind: 'COPY'; line: number; from: string | undefined; sources: string[]; dest: string }
  /** `env`: the ARG and ENV values a RUN sees (ENV wins over an ARG of the same name). */
  | { kind: 'RUN'; line: number; command: string; env: Vars }
  | { kind: 'USER'; line: number; user: string }
  | { kind: 'ENTRYPOINT' | 'CMD'; line: number; argv: string[] };

export interface Stage {
  index: number;
  name: string | undefined;
  base: string;
  line: number;
  instructions: Instruction[];
  /** The image's environment at the end of the stage (ENV only: ARGs are not kept). */
  env: Vars;
}

export interface Dockerfile {
  stages: Stage[];
}

function execForm(rest: string, line: number, keyword: string): string[] {
  if (!rest.startsWith('['))
    throw new DockerfileError(
      line,
      `${keyword} in shell form needs /bin/sh, which the runtime image does not have: use ["...", "..."]`,
    );
  let argv: unknown;
  try {
    argv = JSON.parse(rest);
  } catch {
    // Docker would silently take invalid JSON as shell form, then fail at run time.
    throw new DockerfileError(
      line,
      `${keyword} ${rest} is not valid JSON: Docker would run it through /bin/sh`,
    );
  }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string'))
    throw new DockerfileError(line, `${keyword} must be a JSON array of strings`);
  return argv;
}

/** Leading `--name=value` flags of FROM, COPY and RUN. */
function flags(rest: string): { flags: Record<string, string>; rest: string } {
  const found: Record<string, string> = {};
  let r = rest;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(r); m; m = /^--([a-z-]+)(?:=(\S*))?\s*/.exec(r)) {
    found[m[1]!] = m[2] ?? '';
    r = r.slice(m[0].length);
  }
  return { flags: found, rest: r };
}

function noFlags(keyword: string, f: Record<string, string>, line: number, allowed: string[] = []) {
  for (const name of Object.keys(f))
    if (!allowed.includes(name))
      throw new DockerfileError(line, `${keyword} --${name}: flag not read by the scratch build`);
}

const NOT_READ = new Set([
  'ADD',
  'LABEL',
  'EXPOSE',
  'VOLUME',
  'SHELL',
  'HEALTHCHECK',
  'STOPSIGNAL',
  'ONBUILD',
  'MAINTAINER',
]);

/**
 * Parses the Dockerfile into stages of instructions, variables expanded where Docker expands
 * them (not in RUN: the shell does that, from the `env` recorded on the RUN).
 */
export function parseDockerfile(text: string, platform: PlatformArgs): Dockerfile {
  const platformArgs = PLATFORM_ARGS(platform);
  const globalArgs: Vars = {};
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  let args: Vars = {};
  const scope = (): Vars => ({ ...args, ...stage!.env });

  for (const { line, keyword, rest } of logicalLines(text)) {
    if (NOT_READ.has(keyword))
      throw new DockerfileError(
        line,
        `${keyword}: not an instruction the scratch build knows; teach test/docker/dockerfile.ts before using it`,
      );
    if (/<<-?\s*["']?[A-Za-z_]/.test(rest) && (keyword === 'RUN' || keyword === 'COPY'))
      throw new DockerfileError(line, `${keyword} with a heredoc is not read by the scratch build`);

    if (keyword === 'FROM') {
      const f = flags(rest);
      noFlags('FROM', f.flags, line);
      const words = plainWords(f.rest, { ...platformArgs, ...globalArgs }, line, 'FROM');
      let name: string | undefined;
      if (words.length === 3 && words[1]!.toUpperCase() === 'AS') name = words[2]!;
      else if (words.length !== 1)
        throw new DockerfileError(line, `FROM ${rest}: expected IMAGE [AS NAME]`);
      if (name !== undefined && !/^[a-z][a-z0-9_.-]*$/.test(name))
        throw new DockerfileError(line, `stage name ${name}: lower case letters, digits, - _ .`);
      if (stages.some((s) => s.name !== undefined && s.name === name))
        throw new DockerfileError(line, `stage name ${name} is used twice`);
      const base = words[0]!;
      if (stages.some((s) => s.name === base))
        throw new DockerfileError(
          line,
          `FROM ${base}: a stage as a base is not read by the scratch build`,
        );
      stage = { index: stages.length, name, base, line, instructions: [], env: {} };
      stages.push(stage);
      args = {};
      continue;
    }

    if (keyword === 'ARG') {
      const words = splitWords(rest, stage ? scope() : globalArgs, line);
      if (words.length === 0) throw new DockerfileError(line, 'ARG without a name');
      for (const word of words) {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          throw new DockerfileError(line, `ARG ${word}: not a variable name`);
        const given = eq < 0 ? undefined : word.slice(eq + 1);
        if (!stage) {
          globalArgs[name] = given ?? platformArgs[name] ?? '';
          continue;
        }
        // In a stage, a bare ARG takes the global value (or the platform's), if there is one.
        const value = given ?? globalArgs[name] ?? platformArgs[name];
        if (value !== undefined) args[name] = value;
        else delete args[name];
        stage.instructions.push({ kind: 'ARG', line, name, value });
      }
      continue;
    }

    if (!stage) throw new DockerfileError(line, `${keyword} before the first FROM`);

    switch (keyword) {
      case 'WORKDIR': {
        const words = plainWords(rest, scope(), line, 'WORKDIR');
        if (words.length !== 1) throw new DockerfileError(line, 'WORKDIR takes one path');
        stage.instructions.push({ kind: 'WORKDIR', line, path: words[0]! });
        break;
      }
      case 'ENV': {
        const vars: Vars = {};
        for (const word of splitWords(rest, scope(), line)) {
          const eq = word.indexOf('=');
          if (eq <= 0)
            throw new DockerfileError(
              line,
              `ENV ${rest}: use KEY=value (the legacy "ENV KEY value" is not read)`,
            );
          vars[word.slice(0, eq)] = word.slice(eq + 1);
        }
        if (Object.keys(vars).length === 0) throw new DockerfileError(line, 'ENV without a value');
        stage.env = { ...stage.env, ...vars };
        stage.instructions.push({ kind: 'ENV', line, vars });
        break;
      }
      case 'COPY': {
        const f = flags(rest);
        noFlags('COPY', f.flags, line, ['from']);
        if (f.rest.startsWith('['))
          throw new DockerfileError(line, 'COPY in JSON form is not read by the scratch build');
        const words = plainWords(f.rest, scope(), line, 'COPY');
        if (words.length < 2)
          throw new DockerfileError(line, 'COPY needs a source and a destination');
        const dest = words.pop()!;
        if (words.length > 1 && !dest.endsWith('/'))
          throw new DockerfileError(
            line,
            `COPY with several sources needs a destination ending in / (${dest})`,
          );
        for (const source of words)
          if (/[*?[\]]/.test(source))
            throw new DockerfileError(
              line,
              `COPY ${source}: wildcards are not read by the scratch build`,
            );
        const from = f.flags.from;
        if (from !== undefined && !stages.some((s) => s.name === from || String(s.index) === from))
          throw new DockerfileError(
            line,
            `COPY --from=${from}: not an earlier stage (copying from another image is not read by the scratch build)`,
          );
        stage.instructions.push({ kind: 'COPY', line, from, sources: words, dest });
        break;
      }
      case 'RUN': {
        const f = flags(rest);
        noFlags('RUN', f.flags, line);
        if (f.rest.startsWith('['))
          throw new DockerfileError(line, 'RUN in exec form is not read by the scratch build');
        if (stage.instructions.some((i) => i.kind === 'USER'))
          throw new DockerfileError(line, 'RUN after USER is not read by the scratch build');
        if (f.rest === '') throw new DockerfileError(line, 'RUN without a command');
        stage.instructions.push({ kind: 'RUN', line, command: f.rest, env: scope() });
        break;
      }
      case 'USER': {
        const words = plainWords(rest, scope(), line, 'USER');
        if (words.length !== 1) throw new DockerfileError(line, 'USER takes one user[:group]');
        stage.instructions.push({ kind: 'USER', line, user: words[0]! });
        break;
      }
      case 'ENTRYPOINT':
      case 'CMD':
        stage.instructions.push({ kind: keyword, line, argv: execForm(rest, line, keyword) });
        break;
      default:
        throw new DockerfileError(
          line,
          `${keyword}: not a Dockerfile instruction the scratch build knows`,
        );
    }
  }
  if (stages.length === 0) throw new DockerfileError(1, 'no FROM');
  return { stages };
}

/** The stage a `--from=` names (by name or index). */
export function stageNamed(dockerfile: Dockerfile, from: string): Stage {
  const s = dockerfile.stages.find((st) => st.name === from || String(st.index) === from);
  if (!s) throw new Error(`no stage ${from}`);
  return s;
}

/** The stages BuildKit builds for the last one: it and those it copies from, transitively. */
export function stagesNeeded(dockerfile: Dockerfile): Stage[] {
  const needed = new Set<number>();
  const visit = (s: Stage): void => {
    if (needed.has(s.index)) return;
    needed.add(s.index);
    for (const i of s.instructions)
      if (i.kind === 'COPY' && i.from !== undefined) visit(stageNamed(dockerfile, i.from));
  };
  visit(dockerfile.stages[dockerfile.stages.length - 1]!);
  return dockerfile.stages.filter((s) => needed.has(s.index));
}

/** What the final image runs: ENTRYPOINT, CMD, WORKDIR, USER and ENV of the last stage. */
export interface ImageConfig {
  entrypoint: string[];
  cmd: string[];
  workdir: string;
  user: string | undefined;
  env: Vars;
}

export function imageConfigOf(stage: Stage): ImageConfig {
  let entrypoint: string[] | undefined;
  let cmd: string[] = [];
  let workdir = '/';
  let user: string | undefined;
  for (const i of stage.instructions) {
    if (i.kind === 'ENTRYPOINT') {
      entrypoint = i.argv;
      cmd = []; // Docker: a new ENTRYPOINT drops a CMD set before it.
    } else if (i.kind === 'CMD') cmd = i.argv;
    else if (i.kind === 'WORKDIR') workdir = resolveWorkdir(workdir, i.path);
    else if (i.kind === 'USER') user = i.user;
  }
  if (!entrypoint)
    throw new DockerfileError(
      stage.line,
      "the last stage has no ENTRYPOINT (the base image's is not known here)",
    );
  return { entrypoint, cmd, workdir, user, env: stage.env };
}

/** WORKDIR: an absolute path as is, a relative one from the current directory. */
export function resolveWorkdir(current: string, next: string): string {
  return next.startsWith('/') ? normalizeImagePath(next) : normalizeImagePath(`${current}/${next}`);
}

/** An absolute, normalised path in an image's file system (no `..` above the root). */
export function normalizeImagePath(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/**
 * The absolute paths a shell command names: words that start with `/` (after a blank, `=`,
 * `:`, a quote or an operator). `/dev/null` is allowed: it is the same file here and in any
 * image. A scratch build cannot run a command that writes to this machine's real paths.
 */
export function absolutePaths(command: string): string[] {
  const found = command.match(/(?:^|[\s=:;'"(|&<>])\/[^\s'";|&<>)]*/g) ?? [];
  return found.map((m) => m.replace(/^[^/]/, '')).filter((p) => p !== '/dev/null');
}

/**
 * The one RUN with absolute paths the scratch build understands: the Debian package install
 * (`apt-get update && apt-get install -y --no-install-recommends PKG... && rm -rf
 * /var/lib/apt/lists/*`). Returns its packages, or undefined for any other command.
 */
export function aptInstallPackages(command: string): string[] | undefined {
  const m =
    /^apt-get update && apt-get install -y --no-install-recommends ((?:[a-z0-9][a-z0-9+.-]* ?)+) && rm -rf \/var\/lib\/apt\/lists\/\*$/.exec(
      command.replace(/\s+/g, ' ').trim(),
    );
  return m ? m[1]!.trim().split(' ') : undefined;
}
