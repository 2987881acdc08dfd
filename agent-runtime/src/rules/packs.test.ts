// The built-in packs (agent-runtime/rules/): they compile, and every rule's examples hold.
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
