// The GitHub Actions workflows (.github/workflows/) pass actionlint: their syntax, expressions
// and types, the inputs of the actions they use, untrusted input interpolated into scripts, and,
// where shellcheck is on the PATH, the scripts themselves. actionlint is the tool cache's
// (test/control-plane/build-binaries.sh builds it at ACTIONLINT_VERSION); without it these tests
// fail, they are never skipped. Also: every action is pinned to a full commit SHA with its
// version beside it, and every job's token has only the permissions it declares.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';

import { WORKFLOWS, actionlint, repoRoot } from '../../scripts/actionlint.js';

const files = readdirSync(path.join(repoRoot, WORKFLOWS))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => `${WORKFLOWS}/${f}`);
const read = (file: string): string => readFileSync(path.join(repoRoot, file), 'utf8');

interface Workflow {
  permissions?: unknown;
  jobs: Record<string, { permissions?: unknown }>;
}

test('the release and CI workflows are there', () => {
  expect(files).toEqual(
    expect.arrayContaining([`${WORKFLOWS}/ci.yml`, `${WORKFLOWS}/release.yml`]),
  );
});

test.each(files)(
  '%s passes actionlint',
  async (file) => {
    const { code, output } = await actionlint([file]);
    expect(output).toBe(''); // on failure: actionlint's own report
    expect(code).toBe(0);
  },
  120_000,
);

test('actionlint fails a broken workflow, and says where', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-actionlint-'));
  try {
    await mkdir(path.join(dir, WORKFLOWS), { recursive: true });
    const broken = `${WORKFLOWS}/broken.yml`;
    await writeFile(
      path.join(dir, broken),
      `name: broken
on:
  pull_request_target:
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ github.event.pull_request.title }}"
      - uses: actions/checkout@v4
        with:
          fetch-deepth: 1
      - run: echo "\${{ steps.nothing.outputs.value }}"
`,
    );
    const { code, output } = await actionlint([broken], dir);
    expect(code).toBe(1);
    expect(output).toContain(`${broken}:8:`); // the title, an untrusted input, in a script
    expect(output).toMatch(/potentially untrusted/);
    expect(output).toMatch(/input "fetch-deepth" is not defined/);
    expect(output).toMatch(/property "nothing" is not defined/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}, 120_000);

describe.each(files)('%s', (file) => {
  const text = read(file);
  const workflow = parse(text) as Workflow;

  test('pins every action to a full commit SHA, its version in a comment', () => {
    const uses = [...text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)].map((m) => ({
      ref: m[1]!,
      comment: m[2]!.trim(),
    }));
    expect(uses.length).toBeGreaterThan(0);
    for (const { ref, comment } of uses) {
      if (ref.startsWith('./') || ref.startsWith('docker://')) continue;
      // Each failure names its `uses:`.
      expect({ ref, pinned: /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref) }).toEqual({
        ref,
        pinned: true,
      });
      expect({ ref, version: /^# v\d+\.\d+\.\d+\b/.test(comment) }).toEqual({
        ref,
        version: true,
      });
    }
  });

  test('declares its token permissions at the top, none of them write-all', () => {
    // A job without permissions of its own gets the top's; one with them, only its own.
    expect(workflow.permissions).toBeDefined();
    const all = [workflow.permissions, ...Object.values(workflow.jobs).map((j) => j.permissions)];
    expect(all).not.toContain('write-all');
  });
});
