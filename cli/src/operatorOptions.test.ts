// `edgewarden operator`'s options that stop it before it starts, naming the option: the tables
// beyond the presets (issue 20, M4: a system schema, even listed, or a name the agent would not
// read as written), the Alertmanager URL (issue 21: an http(s) URL without credentials), and the
// networks of the API server's pod proxy (issue 21: addresses or CIDR ranges).
import { jest } from '@jest/globals';

import { main } from './main.js';

let err: string[];

beforeEach(() => {
  err = [];
  jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
});

afterEach(() => jest.restoreAllMocks());

test.each([
  ['allowed-source-tables', 'pg_catalog.pg_stat_activity', 'system schema'],
  ['allowed-source-tables', 'logging.router_lines,INFORMATION_SCHEMA.tables', 'system schema'],
  ['allowed-source-tables', 'pg_authid', 'pg_catalog'],
  ['allowed-source-tables', '"public"."syslog"', 'without quotes'],
  ['allowed-source-tables', 'db.public.syslog', 'table or schema.table'],
  ['alertmanager-url', 'alertmanager:9093', 'an http or https URL'],
  ['alertmanager-url', 'not a url', 'not a URL'],
  ['alertmanager-url', 'ftp://alertmanager:9093', 'an http or https URL'],
  ['alertmanager-url', 'http://admin:secret@alertmanager:9093', 'urlSecretRef'],
  ['api-proxy-cidr', '192.168.1.0/33', 'not an address or a CIDR range'],
  ['api-proxy-cidr', 'control-plane.lan', 'not an address or a CIDR range'],
])('--%s=%s is a usage error', async (option, value, why) => {
  expect(await main(['operator', `--${option}=${value}`])).toBe(2);
  const message = err.join('\n');
  expect(message).toContain(`--${option}:`);
  expect(message).toContain(why);
  expect(message).not.toContain('secret@');
});

test('the options are in the help', async () => {
  const out: string[] = [];
  jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  await main(['operator', '--help']);
  const help = out.join('\n');
  expect(help).toContain('--allowed-source-tables SCHEMA.TABLE[,...]');
  expect(help).toContain('--alertmanager-url URL');
  expect(help).toContain('--api-proxy-cidr CIDR');
});
