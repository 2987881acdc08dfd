import {
  parseAllowedSourceTables,
  sourceTableDecision,
  type SourceTableSpec,
} from './sourceTables.js';

const allowed = parseAllowedSourceTables(['logging.router_lines', 'syslog', 'Mixed.Case']);

describe('sourceTableDecision', () => {
  test.each<[string, SourceTableSpec, boolean]>([
    ['no table: the preset’s own', { preset: 'log_entries' }, true],
    ['no table, custom (the schema requires one; the agent refuses)', { preset: 'custom' }, true],
    ['a preset’s table named under custom', { preset: 'custom', table: 'log_entries' }, true],
    ['a preset’s table in public', { preset: 'custom', table: 'public.systemevents' }, true],
    ['another preset’s table', { preset: 'log_entries', table: 'messages' }, true],
    ['listed, qualified', { preset: 'custom', table: 'logging.router_lines' }, true],
    ['listed unqualified, named in public', { preset: 'custom', table: 'public.syslog' }, true],
    ['listed unqualified, named so', { preset: 'custom', table: 'syslog' }, true],
    ['listed with its case', { preset: 'custom', table: 'Mixed.Case' }, true],
    ['unlisted', { preset: 'custom', table: 'public.users' }, false],
    ['unlisted, overriding a preset’s table', { preset: 'log_entries', table: 'users' }, false],
    ['a preset’s name in another schema', { preset: 'custom', table: 'other.log_entries' }, false],
    [
      'listed, but in another case (another relation)',
      { preset: 'custom', table: 'mixed.case' },
      false,
    ],
    ['pg_catalog', { preset: 'custom', table: 'pg_catalog.pg_stat_activity' }, false],
    ['PG_CATALOG', { preset: 'custom', table: 'PG_CATALOG.pg_stat_activity' }, false],
    ['quoted', { preset: 'custom', table: '"pg_catalog"."pg_stat_activity"' }, false],
    ['quoted, listed otherwise', { preset: 'custom', table: '"logging"."router_lines"' }, false],
    [
      'unqualified pg_ (the search path finds pg_catalog first)',
      { table: 'pg_stat_activity' },
      false,
    ],
    ['unqualified PG_ ', { table: 'PG_SHADOW' }, false],
    ['information_schema', { preset: 'custom', table: 'information_schema.tables' }, false],
    ['pg_toast', { preset: 'custom', table: 'pg_toast.pg_toast_1260' }, false],
    ['a session’s temporary schema', { preset: 'custom', table: 'pg_temp_3.t' }, false],
    ['blanks around a system schema', { preset: 'custom', table: ' pg_catalog .pg_authid' }, false],
    ['catalog-qualified', { preset: 'custom', table: 'edgewarden.pg_catalog.pg_authid' }, false],
    [
      'catalog-qualified listed table',
      { preset: 'custom', table: 'db.logging.router_lines' },
      false,
    ],
    ['an empty part', { preset: 'custom', table: '.pg_authid' }, false],
    ['empty', { preset: 'custom', table: '' }, false],
  ])('%s', (_what, source, expected) => {
    const decision = sourceTableDecision(source, allowed as string[]);
    expect(decision.allowed).toBe(expected);
    if (!decision.allowed) {
      expect(decision.reason).toBe('SourceTableNotAllowed');
      expect(decision.message).toContain(`"${source.table}"`);
    }
  });

  test('the refusal of an unlisted table names the table and the flag', () => {
    const decision = sourceTableDecision({ preset: 'custom', table: 'users' }, []);
    expect(decision).toEqual({
      allowed: false,
      reason: 'SourceTableNotAllowed',
      message: expect.stringContaining('table "users" (public.users)') as string,
    });
    expect(!decision.allowed && decision.message).toContain('--allowed-source-tables');
  });

  test('a system schema is refused even when listed', () => {
    const listed = ['pg_catalog.pg_stat_activity'];
    const decision = sourceTableDecision({ table: 'pg_catalog.pg_stat_activity' }, listed);
    expect(decision).toMatchObject({ allowed: false, reason: 'SourceTableNotAllowed' });
    expect(!decision.allowed && decision.message).toContain('system schema');
  });
});

describe('parseAllowedSourceTables', () => {
  test('qualifies, trims and de-duplicates', () => {
    expect(parseAllowedSourceTables(['syslog', ' public.syslog ', 'a.b', ''])).toEqual([
      'public.syslog',
      'a.b',
    ]);
  });

  test.each([
    'pg_catalog.pg_stat_activity',
    'Information_Schema.tables',
    'pg_authid',
    '"public"."syslog"',
    'a.b.c',
  ])('refuses %s, naming the flag', (entry) => {
    const parsed = parseAllowedSourceTables(['syslog', entry]);
    expect(typeof parsed).toBe('string');
    expect(parsed).toContain('--allowed-source-tables');
    expect(parsed).toContain(entry);
  });
});
