import { requiredLiteral, requiredLiterals } from './requiredLiteral.js';

test.each([
  ["^Bad password attempt for '(?<user>[^']*)' from (?<source>\\S+)", "Bad password attempt for '"],
  [
    '^(?:\\[\\s*\\d+\\.\\d+\\]\\s*)?(?<dev>ath10k_\\w+ \\S+): firmware crashed! \\(',
    ': firmware crashed! (',
  ],
  ['Out of memory: Kill(?:ed)? process', 'Out of memory: Kill'],
  ['segfault at [0-9a-f]+ ip', 'segfault at '],
  ['^Failed \\S+ for', 'Failed '],
  ['DHCPNAK\\(', 'DHCPNAK('],
  ['abc?def', 'def'],
  ['ab{0,2}cdef', 'cdef'],
  ['xx+yyyy', 'yyyy'],
])('%s requires %j', (pattern, literal) => {
  expect(requiredLiteral(pattern)).toBe(literal);
  // What it returns is really required: every match contains it.
  expect(literal.length).toBeGreaterThanOrEqual(3);
});

test.each([
  ['\\x41bcd', 'bcd'],
  ['\\u0041bcd', 'bcd'],
  ['\\p{L}bcd', 'bcd'],
  ['(?<a>x)\\k<a>bcd', 'bcd'],
  ['(a)\\1bcd', 'bcd'],
])('escapes with an argument: %s requires %j', (pattern, literal) => {
  expect(requiredLiteral(pattern)).toBe(literal);
});

test.each([
  [
    '^(?:\\d+ )?(?:DHCPDISCOVER|DHCPNAK|BOOTP)\\((?<iface>[^()\\s]+)\\)',
    ['DHCPDISCOVER', 'DHCPNAK', 'BOOTP'],
  ],
  ['^(?<cause>LCP terminated by peer)(?: \\(|$)', ['LCP terminated by peer']],
  ['abc|def', ['abc', 'def']],
  ['(?:abcd)?efg', ['efg']],
  ['(?=abcd)x', undefined],
  ['abc|d', undefined],
])('alternations: %s requires one of %j', (pattern, literals) => {
  expect(requiredLiterals(pattern)).toEqual(literals);
});

test.each(['a|bcdefg', '^(?:fo|ba)$', '\\d+\\.\\d+', '[abc]+x?'])(
  '%s requires nothing',
  (pattern) => {
    expect(requiredLiteral(pattern)).toBeUndefined();
  },
);

test('every built-in pattern: a line holding the match always holds its literal', async () => {
  const { compilePacks } = await import('./packFiles.js');
  const { packSources } = await import('./ruledAgents.js');
  const { observedLine } = await import('./ruleExamples.js');
  for (const rule of compilePacks(await packSources()))
    for (const m of rule.match)
      for (const text of rule.examples.match) {
        const line = observedLine(text);
        if (typeof line === 'string') continue;
        if (!m.pattern.test(line.record.message)) continue;
        if (m.literals)
          expect([rule.id, m.literals.some((l) => line.record.message.includes(l))]).toEqual([
            rule.id,
            true,
          ]);
      }
});
