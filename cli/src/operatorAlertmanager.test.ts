// `edgewarden operator --alertmanager-url` (issue 21): an http(s) URL without credentials, or
// nothing; anything else stops the operator before it starts, naming the option.
import { jest } from '@jest/globals';

import { main } from './main.js';

let err: string[];

beforeEach(() => {
  err = [];
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});

afterEach(() => jest.restoreAllMocks());

test.each([
  ['alertmanager:9093', 'an http or https URL'],
  ['not a url', 'not a URL'],
  ['ftp://alertmanager:9093', 'an http or https URL'],
  ['http://admin:secret@alertmanager:9093', 'urlSecretRef'],
])('--alertmanager-url=%s is a usage error', async (value, why) => {
  expect(await main(['operator', `--alertmanager-url=${value}`])).toBe(2);
  const message = err.join('\n');
  expect(message).toContain('--alertmanager-url:');
  expect(message).toContain(why);
  expect(message).not.toContain('secret@');
});

test('the option is in the help', async () => {
  const out: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  await main(['operator', '--help']);
  expect(out.join('\n')).toContain('--alertmanager-url URL');
});
