// Code the docs quote stays the code that is compiled and tested: a fenced block right after
// `<!-- quote: path -->` in docs/*.md must appear, as it is, in that file.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const QUOTE = /<!-- quote: (\S+) -->\s*```[a-z]*\n([\s\S]*?)```/g;

const quotes = readdirSync(path.join(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .flatMap((doc) =>
    [...readFileSync(path.join(root, 'docs', doc), 'utf8').matchAll(QUOTE)].map(
      (m) => [doc, m[1]!, m[2]!] as const,
    ),
  );

test('the docs quote code', () => {
  expect(quotes.map(([doc, file]) => `${doc}: ${file}`)).toEqual(
    expect.arrayContaining([
      'writing-an-agent.md: examples/agents/stations/stations.ts',
      'writing-an-agent.md: examples/agents/stations/stations.test.ts',
    ]),
  );
});

test.each(quotes)('%s quotes %s as it is', (_doc, file, block) => {
  expect(readFileSync(path.join(root, file), 'utf8')).toContain(block);
});
