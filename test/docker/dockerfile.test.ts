// The Dockerfile reader and the .dockerignore matcher that the scratch image build
// (test/integration/dockerfile.test.ts) relies on, and the checks on the real files that need
// no build: every base known, every COPY source sent by the context, the runtime's shape.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  absolutePaths,
  aptInstallPackages,
  imageConfigOf,
  logicalLines,
  parseDockerfile,
  splitWords,
  stagesNeeded,
  type Instruction,
} from './dockerfile.js';
import { cleanPath, ContextFilter } from './dockerignore.js';
import { BASE_IMAGES, numericUser, parseLdd } from './scratchBuild.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const amd64 = { os: 'linux', arch: 'amd64' };
const parse = (text: string) => parseDockerfile(text, amd64);
const only = <K extends Instruction['kind']>(text: string, kind: K) =>
  parse(text).stages[0]!.instructions.filter(
    (i): i is Extract<Instruction, { kind: K }> => i.kind === kind,
  );

describe('logical lines, as BuildKit joins them', () => {
  test('a continuation keeps the next line as is; comment and blank lines inside it are dropped', () => {
    const lines = logicalLines(
      [
        '# a comment',
        'FROM node:20-bookworm-slim AS build',
        '',
        'RUN npm run build \\',
        '    # a comment inside the continuation: not part of the command',
        '',
        '    && echo "#not a comment" \\  ',
        '  #another',
        '    && true',
        'USER 1',
      ].join('\n'),
    );
    expect(lines).toEqual([
      { line: 2, keyword: 'FROM', rest: 'node:20-bookworm-slim AS build' },
      { line: 4, keyword: 'RUN', rest: 'npm run build     && echo "#not a comment"     && true' },
      { line: 10, keyword: 'USER', rest: '1' },
    ]);
  });

  test('CRLF line ends, lower-case keywords, a continuation at the end of the file', () => {
    expect(logicalLines('from a\r\nrun x \\\r\n  y \\')).toEqual([
      { line: 1, keyword: 'FROM', rest: 'a' },
      { line: 2, keyword: 'RUN', rest: 'x   y' },
    ]);
  });

  test('parser directives: the default syntax and escape are read, others refused', () => {
    expect(logicalLines('# syntax=docker/dockerfile:1\n# escape=\\\nFROM a')).toHaveLength(1);
    expect(() => logicalLines('# escape=`\nFROM a')).toThrow(/only the default escape/);
    expect(() => logicalLines('# syntax=example/frontend\nFROM a')).toThrow(/syntax=/);
  });
});

describe('words and variables', () => {
  const vars = { A: 'x', EMPTY: '' };
  test.each([
    ['K=$A', ['K=x']],
    ['K=${A}y', ['K=xy']],
    ['K=${EMPTY:-d} L=${A:+set}', ['K=d', 'L=set']],
    ['K="a b $A" L=\'$A\'', ['K=a b x', 'L=$A']],
    ['K=a\\ b M=$UNSET', ['K=a b', 'M=']],
    ['K="q\\"q"', ['K=q"q']],
  ])('%s', (text, words) => {
    expect(splitWords(text, vars, 1)).toEqual(words);
  });

  test('forms it does not know are refused, not guessed', () => {
    expect(() => splitWords('${A/x/y}', vars, 3)).toThrow(/line 3: unsupported variable form/);
    expect(() => splitWords('"open', vars, 3)).toThrow(/unmatched "/);
  });
});

describe('instructions', () => {
  test('stages, WORKDIR, ENV, ARG, COPY, RUN with the environment it sees, USER, exec form', () => {
    const df = parse(
      [
        'ARG BASE=node:20-bookworm-slim',
        'FROM $BASE AS build',
        'ARG TARGETARCH',
        'ENV MODE=prod OTHER="a b"',
        'WORKDIR /src',
        'COPY package.json package-lock.json ./',
        'RUN echo $MODE',
        'FROM gcr.io/distroless/cc-debian12:nonroot',
        'WORKDIR /app',
        'WORKDIR sub',
        'COPY --from=build /src/dist dist',
        'USER 65532:65532',
        'CMD ["ignored"]',
        'ENTRYPOINT ["/nodejs/bin/node", "/app/bin/edgewarden.js"]',
        'CMD ["--help"]',
      ].join('\n'),
    );
    expect(df.stages.map((s) => [s.name, s.base])).toEqual([
      ['build', 'node:20-bookworm-slim'],
      [undefined, 'gcr.io/distroless/cc-debian12:nonroot'],
    ]);
    const run = df.stages[0]!.instructions.find((i) => i.kind === 'RUN');
    expect(run).toEqual({
      kind: 'RUN',
      line: 7,
      command: 'echo $MODE',
      env: { TARGETARCH: 'amd64', MODE: 'prod', OTHER: 'a b' },
    });
    expect(df.stages[0]!.instructions.find((i) => i.kind === 'COPY')).toMatchObject({
      from: undefined,
      sources: ['package.json', 'package-lock.json'],
      dest: './',
    });
    expect(imageConfigOf(df.stages[1]!)).toEqual({
      entrypoint: ['/nodejs/bin/node', '/app/bin/edgewarden.js'],
      cmd: ['--help'],
      workdir: '/app/sub',
      user: '65532:65532',
      env: {},
    });
    expect(stagesNeeded(df).map((s) => s.index)).toEqual([0, 1]);
  });

  test('a stage the last one does not copy from is not built (as BuildKit skips it)', () => {
    const df = parse('FROM a AS unused\nRUN x\nFROM b AS build\nFROM c\nCOPY --from=build /x y');
    expect(stagesNeeded(df).map((s) => s.name)).toEqual(['build', undefined]);
  });

  test('a RUN keeps its inline comment-looking text and its continuation comments are gone', () => {
    const [run] = only('FROM a\nRUN a \\\n  # gone\n  && b # kept\n', 'RUN');
    expect(run!.command).toBe('a   && b # kept');
  });

  test.each([
    ['ADD x y', /ADD: not an instruction the scratch build knows/],
    ['LABEL a=b', /LABEL/],
    ['EXPOSE 80', /EXPOSE/],
    ['FROBNICATE x', /FROBNICATE: not a Dockerfile instruction/],
    ['COPY --chown=1:1 a b', /COPY --chown: flag not read/],
    ['COPY --from=elsewhere:1 /a b', /not an earlier stage/],
    ['COPY a b c', /needs a destination ending in \//],
    ['COPY src/*.ts dest/', /wildcards/],
    ['COPY "a b" c', /quotes/],
    ['COPY ["a", "b"]', /JSON form/],
    ['RUN --mount=type=cache,target=/root/.npm npm ci', /RUN --mount: flag not read/],
    ['RUN ["npm", "ci"]', /exec form/],
    ['RUN <<EOF\necho\nEOF', /heredoc/],
    ['ENTRYPOINT node app.js', /shell form needs \/bin\/sh/],
    ["CMD ['--help']", /not valid JSON: Docker would run it through \/bin\/sh/],
    ['ENV KEY value', /legacy/],
    ['USER 1\nRUN x', /RUN after USER/],
  ])('refused, loudly: %s', (text, message) => {
    expect(() => parse(`FROM a\n${text}`)).toThrow(message);
  });

  test('instructions before FROM, FROM flags, a stage as a base: refused', () => {
    expect(() => parse('RUN x\nFROM a')).toThrow(/line 1: RUN before the first FROM/);
    expect(() => parse('FROM --platform=$BUILDPLATFORM a')).toThrow(/FROM --platform/);
    expect(() => parse('FROM a AS one\nFROM one')).toThrow(/a stage as a base/);
  });
});

describe('RUN commands and this machine', () => {
  test('absolute paths are found; relative ones, globs and /dev/null are not', () => {
    expect(
      absolutePaths(
        'rm -rf /var/lib/apt/lists/* && find node_modules/x -path "*/linux/${arch}" > /dev/null && X=/opt/y',
      ),
    ).toEqual(['/var/lib/apt/lists/*', '/opt/y']);
    expect(absolutePaths('cd /src')).toEqual(['/src']);
    expect(absolutePaths('npm ci --omit=dev')).toEqual([]);
  });

  test('the Debian package step is recognised exactly, and nothing like it', () => {
    const step =
      'apt-get update && apt-get install -y --no-install-recommends python3 make g++     && rm -rf /var/lib/apt/lists/*';
    expect(aptInstallPackages(step)).toEqual(['python3', 'make', 'g++']);
    expect(aptInstallPackages(step.replace('/var/lib/apt/lists/*', '/'))).toBeUndefined();
    expect(aptInstallPackages(`${step} && rm -rf /usr`)).toBeUndefined();
    expect(aptInstallPackages('apt-get install -y curl')).toBeUndefined();
  });

  test('USER as numbers only', () => {
    expect(numericUser('65532:65532')).toEqual({ uid: 65532, gid: 65532 });
    expect(numericUser('1000')).toEqual({ uid: 1000, gid: 1000 });
    expect(() => numericUser('nonroot')).toThrow(/uid\[:gid\]/);
  });

  test('ldd output: found, not found, the loader; the vDSO left out', () => {
    expect(
      parseLdd(
        [
          '\tlinux-vdso.so.1 (0x00007ffd)',
          '\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007f75)',
          '\tlibatomic.so.1 => not found',
          '\t/lib64/ld-linux-x86-64.so.2 (0x00007f7529924000)',
        ].join('\n'),
      ),
    ).toEqual([
      { soname: 'libstdc++.so.6', resolved: '/lib/x86_64-linux-gnu/libstdc++.so.6' },
      { soname: 'libatomic.so.1', resolved: undefined },
      { soname: 'ld-linux-x86-64.so.2', resolved: '/lib64/ld-linux-x86-64.so.2' },
    ]);
  });
});

describe('.dockerignore, as Docker matches it', () => {
  const filter = (text: string) => ContextFilter.fromText(text);

  test('a pattern excludes what it matches and everything under it', () => {
    const f = filter('node_modules\n/dist/\n# a comment\n  tmp  \n');
    expect(f.excluded('node_modules')).toBe(true);
    expect(f.excluded('node_modules/a/b.js')).toBe(true);
    expect(f.excluded('dist/x.js')).toBe(true);
    expect(f.excluded('tmp')).toBe(true);
    expect(f.excluded('src/node_modules')).toBe(false); // no implicit **
    expect(f.excluded('# a comment')).toBe(false);
  });

  test('the examples of the Docker documentation', () => {
    const f = filter('*/temp*\n*/*/temp*\ntemp?');
    expect(f.excluded('somedir/temporary.txt')).toBe(true);
    expect(f.excluded('somedir/temp')).toBe(true);
    expect(f.excluded('somedir/subdir/temporary.txt')).toBe(true);
    expect(f.excluded('tempa')).toBe(true);
    expect(f.excluded('temp')).toBe(false);
    expect(f.excluded('a/b/c/temp')).toBe(false);
    const g = filter('*.md\n!README*.md\nREADME-secret.md');
    expect(g.excluded('CHANGES.md')).toBe(true);
    expect(g.excluded('README.md')).toBe(false);
    expect(g.excluded('README-secret.md')).toBe(true);
  });

  test('** at the start, in the middle, at the end; ? and classes; escapes', () => {
    const f = filter('**/*.go\na/**/z\nlogs**\nfile[0-9].txt\nlit\\*');
    expect(f.excluded('main.go')).toBe(true);
    expect(f.excluded('x/y/main.go')).toBe(true);
    expect(f.excluded('a/z')).toBe(true);
    expect(f.excluded('a/b/c/z')).toBe(true);
    expect(f.excluded('logs-old/x')).toBe(true);
    expect(f.excluded('file7.txt')).toBe(true);
    expect(f.excluded('fileA.txt')).toBe(false);
    expect(f.excluded('lit*')).toBe(true);
    expect(f.excluded('litx')).toBe(false);
    expect(filter('**/testdata').excluded('testdata/x')).toBe(true);
    expect(filter('**/testdata').excluded('a/b/testdata/x')).toBe(true);
  });

  test('a whitelist: * then ! patterns send back folders, and later exclusions win', () => {
    const f = filter('*\n!api/src\n!bin\n**/*.test.ts');
    expect(f.excluded('api')).toBe(true);
    expect(f.excluded('api/schema/x.yaml')).toBe(true);
    expect(f.excluded('api/src/validate.ts')).toBe(false);
    expect(f.excluded('api/src/validate.test.ts')).toBe(true);
    expect(f.excluded('bin/edgewarden.js')).toBe(false);
    expect(f.excluded('.git/config')).toBe(true);
    expect(f.mayIncludeBelow('api')).toBe(true);
    expect(f.mayIncludeBelow('node_modules')).toBe(false);
    expect(filter('*\n!**/keep').mayIncludeBelow('node_modules')).toBe(true);
  });

  test('paths are cleaned like Go paths', () => {
    expect(cleanPath('./a//b/../c/')).toBe('a/c');
    expect(cleanPath('/x/../..')).toBe('/');
    expect(cleanPath('.')).toBe('.');
  });
});

describe('the real Dockerfile and .dockerignore (no build: see test/integration/dockerfile.test.ts)', () => {
  const dockerfile = parse(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const filter = ContextFilter.fromText(readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8'));
  const copies = dockerfile.stages.flatMap((s) =>
    s.instructions.filter((i): i is Extract<Instruction, { kind: 'COPY' }> => i.kind === 'COPY'),
  );

  test('every base image is one the scratch build knows', () => {
    for (const s of dockerfile.stages) expect(Object.keys(BASE_IMAGES)).toContain(s.base);
  });

  test('every COPY from the context names something in the checkout that the context sends', () => {
    const fromContext = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(fromContext.length).toBeGreaterThan(5);
    for (const source of fromContext) {
      expect({ source, exists: existsSync(path.join(repoRoot, source)) }).toEqual({
        source,
        exists: true,
      });
      expect({ source, excluded: filter.excluded(source) }).toEqual({ source, excluded: false });
    }
  });

  test('the context leaves out what docker must never be sent or the image must not carry', () => {
    for (const p of [
      'node_modules/jest/package.json',
      'dist/cli/src/main.js',
      '.git/HEAD',
      '.ci/run',
      'test/control-plane/cli.ts',
      'scripts/gen-api.ts',
      'charts/edgewarden/Chart.yaml',
      'k3s/README.md',
      'cli/src/main.test.ts',
      'agent-runtime/src/parse/lines.test.ts',
      'operator/src/domain/analysisAgent/testdata/minimal.golden.yaml',
    ])
      expect({ p, excluded: filter.excluded(p) }).toEqual({ p, excluded: true });
  });

  test('the runtime: non-root by number, exec-form entrypoint into the app, its default --help', () => {
    const runtime = dockerfile.stages[dockerfile.stages.length - 1]!;
    expect(BASE_IMAGES[runtime.base]!.shell).toBe(false);
    expect(imageConfigOf(runtime)).toMatchObject({
      entrypoint: ['/nodejs/bin/node', '/app/bin/edgewarden.js'],
      cmd: ['--help'],
      workdir: '/app',
      user: '65532:65532',
    });
  });
});
