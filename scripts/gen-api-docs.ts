// Writes the generated sections of docs/resources/<kind>.md (scripts/api-docs.ts) from the
// CRDs in crds/, leaving the hand-written text around them as it is, and formats each page as
// Prettier would. Never edit between the markers: edit api/schema/ (then npm run generate:api)
// or the page's YAML examples, and run `npm run generate:api-docs`. With --check it writes
// nothing and exits 1 when a generated section differs from what the CRDs render, a page or
// its markers are missing, or a field has no example in its page's YAML, so a field added to
// the API without documentation fails `npm test`.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { parse } from 'yaml';

import { sectionsIn, withSections } from './api-docs-sections.js';
import { docFileOf, renderPage, type Crd } from './api-docs.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function loadCrds(root = repoRoot): Promise<{ file: string; crd: Crd }[]> {
  const files = (await readdir(path.join(root, 'crds'))).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (f) => ({
      file: `crds/${f}`,
      crd: parse(await readFile(path.join(root, 'crds', f), 'utf8')) as Crd,
    })),
  );
}

export interface RenderedDoc {
  file: string;
  /** The page as it must be on disk (undefined: the page or its markers are missing). */
  text?: string;
  problems: string[];
}

/** Each page with its generated sections rendered from the CRDs, and what is wrong with it. */
export async function renderApiDocs(root = repoRoot): Promise<RenderedDoc[]> {
  const out: RenderedDoc[] = [];
  for (const { file: crdFile, crd } of await loadCrds(root)) {
    const file = docFileOf(crd);
    const filepath = path.join(root, file);
    const current = await readFile(filepath, 'utf8').catch(() => undefined);
    if (current === undefined) {
      out.push({ file, problems: [`${file} is missing (the page of ${crd.spec.names.kind})`] });
      continue;
    }
    const page = renderPage(crd, current);
    let spliced: string;
    try {
      spliced = withSections(current, page.sections, crdFile);
    } catch (error) {
      out.push({ file, problems: [`${file}: ${(error as Error).message}`] });
      continue;
    }
    const text = await format(spliced, { ...(await resolveConfig(filepath)), filepath });
    out.push({
      file,
      text,
      problems: page.missingExamples.map(
        (f) => `${file}: ${f} has no example (give it a value in one of the page's YAML examples)`,
      ),
    });
  }
  return out;
}

/** What differs between the pages on disk and what the CRDs render (empty: in step). */
export async function apiDocsDrift(root = repoRoot): Promise<string[]> {
  const problems: string[] = [];
  for (const doc of await renderApiDocs(root)) {
    problems.push(...doc.problems);
    if (doc.text === undefined) continue;
    const current = sectionsIn(await readFile(path.join(root, doc.file), 'utf8'));
    for (const [name, wanted] of sectionsIn(doc.text))
      if (current.get(name) !== wanted)
        problems.push(`${doc.file}: the generated section "${name}" differs`);
  }
  return problems;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, root: { type: 'string' } },
  });
  const root = path.resolve(values.root ?? repoRoot);
  if (values.check) {
    const problems = await apiDocsDrift(root);
    if (problems.length === 0)
      return console.log('docs/resources/ matches crds/: every field documented, with an example');
    console.error(
      `docs/resources/ is out of step with crds/ (run npm run generate:api-docs):\n  ${problems.join('\n  ')}`,
    );
    process.exit(1);
  }
  const docs = await renderApiDocs(root);
  let written = 0;
  for (const doc of docs) {
    if (doc.text === undefined) continue;
    const target = path.join(root, doc.file);
    if ((await readFile(target, 'utf8')) === doc.text) continue;
    await writeFile(target, doc.text);
    written++;
  }
  console.log(`wrote ${written} of ${docs.length} pages in docs/resources/`);
  const problems = docs.flatMap((d) => d.problems);
  if (problems.length > 0) {
    console.error(`still to do:\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1]))
  await main();
