// `edgewarden operator --allowed-source-tables` (issue 20, M4): a system schema, even listed,
// or a name the agent would not read as written stops the operator before it starts.
import { jest } from '@jest/globals';

import { main } from './main.js';

let err: string[];

beforeEach(() => {
  err = [];
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});

afterEach(() => jest.restoreAllMocks());

test.each([
  ['pg_catalog.pg_stat_activity', 'system schema'],
  ['logging.router_lines,INFORMATION_SCHEMA.tables', 'system schema'],
  ['pg_authid', 'pg_catalog'],
  ['"public"."syslog"', 'without quotes'],
  ['db.public.syslog', 'table or schema.table'],
])('--allowed-source-tables=%s is a usage error', async (value, why) => {
  expect(await main(['operator', `--allowed-source-tables=${value}`])).toBe(2);
  const message = err.join('\n');
  expect(message).toContain('--allowed-source-tables:');
  expect(message).toContain(why);
});

test('the option is in the help', async () => {
  const out: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  await main(['operator', '--help']);
  expect(out.join('\n')).toContain('--allowed-source-tables SCHEMA.TABLE[,...]');
});
