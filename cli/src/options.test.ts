import { jest } from '@jest/globals';

import { defineCommand, optionsHelp, usageText, type Values } from './options.js';

const options = {
  input: { type: 'string', value: 'FILE|-', default: '-', help: 'file to read, or - for stdin' },
  rules: { type: 'string', value: 'FILE', multiple: true, help: 'a pack of your own; repeat' },
  'dry-run': { type: 'boolean', help: 'check only' },
  host: { type: 'string', value: 'NAME', help: 'device name (default local)' },
} as const;

let err: string[];
beforeEach(() => {
  err = [];
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});
afterEach(() => jest.restoreAllMocks());

function capture() {
  const seen: { values?: Values<typeof options>; positionals?: string[] } = {};
  const command = defineCommand({
    name: 'try',
    synopsis: ['edgewarden try [options] WORD...'],
    about: 'Tries things.',
    options,
    positionals: true,
    run(values, positionals) {
      Object.assign(seen, { values, positionals });
      return Promise.resolve(0);
    },
  });
  return { command, seen };
}

test('defaults come from the table: strings as written, booleans false, repeatables []', async () => {
  const { command, seen } = capture();
  expect(await command.run(['word'])).toBe(0);
  expect(seen.values).toEqual({ input: '-', rules: [], 'dry-run': false });
  expect(seen.positionals).toEqual(['word']);
  expect(
    await command.run(['--rules', 'a.yaml', '--dry-run', '--rules=b.yaml', '--input', 'x.log']),
  ).toBe(0);
  expect(seen.values).toEqual({ input: 'x.log', rules: ['a.yaml', 'b.yaml'], 'dry-run': true });
});

test('an unknown option is a usage error (exit 2) naming it, with the help', async () => {
  const { command } = capture();
  expect(await command.run(['--frobnicate'])).toBe(2);
  expect(err.join('\n')).toContain("edgewarden try: Unknown option '--frobnicate'");
  expect(err.join('\n')).toContain('Usage: edgewarden try [options] WORD...');
});

test('fail() prints the message and the usage, and returns 2', async () => {
  const command = defineCommand({
    name: 'strict',
    synopsis: ['edgewarden strict'],
    about: 'Refuses.',
    options: {},
    run: (_values, _positionals, fail) => Promise.resolve(fail('--x: no')),
  });
  expect(await command.run([])).toBe(2);
  expect(err).toEqual([`edgewarden strict: --x: no\n\n${command.usage}`]);
});

test('the help lists every option with its value, text and default, aligned', () => {
  expect(optionsHelp(options).split('\n')).toEqual([
    '  --input FILE|-  file to read, or - for stdin (default -)',
    '  --rules FILE    a pack of your own; repeat',
    '  --dry-run       check only',
    '  --host NAME     device name (default local)',
  ]);
});

test('long texts wrap under their column; a long name pushes only its own line', () => {
  const help = optionsHelp({
    'leader-election-namespace-of-the-lease': { type: 'string', value: 'NS', help: 'short' },
    poll: { type: 'string', value: 'DURATION', help: 'word '.repeat(30).trim(), default: '30s' },
  }).split('\n');
  expect(help[0]).toBe('  --leader-election-namespace-of-the-lease NS  short');
  expect(help[1]!.startsWith('  --poll DURATION')).toBe(true);
  const column = help[1]!.indexOf('word');
  expect(column).toBe(32);
  expect(help.slice(2).every((l) => l.indexOf('word') === column)).toBe(true);
  expect(help.every((l) => l.length <= 96)).toBe(true);
  expect(help.at(-1)).toMatch(/\(default 30s\)$/);
});

test('usage: synopsis lines, about, options, then what comes after', () => {
  expect(
    usageText({
      name: 'rules',
      synopsis: ['edgewarden rules test', 'edgewarden rules list'],
      about: 'About.',
      options: { output: { type: 'string', value: 'F', help: 'format', default: 'table' } },
      more: 'Exit codes: 0.',
    }),
  ).toBe(
    [
      'Usage: edgewarden rules test',
      '       edgewarden rules list',
      '',
      'About.',
      '',
      'Options:',
      '  --output F  format (default table)',
      '',
      'Exit codes: 0.',
    ].join('\n'),
  );
  expect(
    usageText({ name: 'agent', synopsis: ['edgewarden agent'], about: 'Runs.', options: {} }),
  ).toBe('Usage: edgewarden agent\n\nRuns.');
});
