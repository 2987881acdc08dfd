// The built-in packs (agent-runtime/rules/): they compile, and every rule's examples hold.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { compilePacks } from './packFiles.js';
import { runExamples } from './ruleExamples.js';
import { packSources } from './ruledAgents.js';

test('the built-in packs compile and every rule passes its own examples', async () => {
  // EDGEWARDEN_PACKS=wifi.yaml,system.yaml checks only those (while writing one pack).
  const only = process.env.EDGEWARDEN_PACKS?.split(',');
  const sources = (await packSources()).filter(
    (s) => !only || only.some((name) => s.origin.endsWith(`/${name}`)),
  );
  const rules = compilePacks(sources);
  expect(rules.length).toBeGreaterThan(0);
  const result = runExamples(rules);
  expect(result.failures).toEqual([]);
  expect(result.examples).toBeGreaterThanOrEqual(2 * rules.length);
});

const docs = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs');
const RULE_ID = /\b(?:auth|wifi|system|dns|firewall)\.[a-z0-9]+(?:-[a-z0-9]+)+\b/g;

test('docs/rules.md names every built-in rule in its coverage table, and the docs name no rule that does not exist', async () => {
  const ids = new Set(compilePacks(await packSources()).map((r) => r.id));
  const rulesDoc = readFileSync(path.join(docs, 'rules.md'), 'utf8');
  expect([...ids].filter((id) => !rulesDoc.includes(`\`${id}\``))).toEqual([]);
  const pages = [
    ...readdirSync(docs).filter((f) => f.endsWith('.md')),
    ...readdirSync(path.join(docs, 'resources')).map((f) => `resources/${f}`),
  ];
  const unknown = pages.flatMap((page) =>
    [...readFileSync(path.join(docs, page), 'utf8').matchAll(RULE_ID)]
      .map((m) => m[0])
      .filter((id) => !ids.has(id))
      .map((id) => `${page}: ${id}`),
  );
  expect(unknown).toEqual([]);
});
