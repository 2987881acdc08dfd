import { expect, test } from '@jest/globals';
import { jsonLogger } from './log.js';

function captured(verbosity = 0) {
  const lines: Record<string, unknown>[] = [];
  const log = jsonLogger({ verbosity, write: (l) => lines.push(JSON.parse(l) as never) });
  return { log, lines };
}

test('a line is klog JSON: ts, v, msg and the fields', () => {
  const { log, lines } = captured();
  const before = Date.now() / 1000;
  log.info('reconciled', { namespace: 'home', name: 'dns', took: 12 });
  expect(lines).toEqual([
    { ts: expect.any(Number), v: 0, msg: 'reconciled', namespace: 'home', name: 'dns', took: 12 },
  ]);
  expect(lines[0]!.ts).toBeGreaterThanOrEqual(before);
  expect(lines[0]!.ts).toBeLessThan(before + 60);
});

test('an error is logged at v 0 with its message as err', () => {
  const { log, lines } = captured();
  log.error('apply failed', new Error('409 Conflict'), { name: 'dns' });
  log.error('write failed', 'disk full');
  log.error('odd', { code: 7 });
  expect(lines).toEqual([
    expect.objectContaining({ v: 0, msg: 'apply failed', err: '409 Conflict', name: 'dns' }),
    expect.objectContaining({ v: 0, msg: 'write failed', err: 'disk full' }),
    expect.objectContaining({ v: 0, msg: 'odd', err: '{"code":7}' }),
  ]);
});

test('debug lines appear only at their verbosity or above', () => {
  const quiet = captured(0);
  quiet.log.debug('detail', { a: 1 });
  expect(quiet.lines).toEqual([]);

  const verbose = captured(4);
  verbose.log.debug('default level', { a: 1 });
  verbose.log.debug('level 2', {}, 2);
  verbose.log.debug('level 6', {}, 6);
  expect(verbose.lines.map((l) => [l.msg, l.v])).toEqual([
    ['default level', 4],
    ['level 2', 2],
  ]);
});

test('with() adds fields to every line; a line overrides them', () => {
  const lines: Record<string, unknown>[] = [];
  const root = jsonLogger({
    base: { component: 'operator' },
    write: (l) => lines.push(JSON.parse(l) as never),
  });
  const log = root.with({ controller: 'agent' }).with({ name: 'dns' });
  log.info('one');
  log.info('two', { name: 'wifi' });
  root.info('three');
  expect(lines).toEqual([
    expect.objectContaining({
      msg: 'one',
      component: 'operator',
      controller: 'agent',
      name: 'dns',
    }),
    expect.objectContaining({
      msg: 'two',
      component: 'operator',
      controller: 'agent',
      name: 'wifi',
    }),
    { ts: expect.any(Number), v: 0, msg: 'three', component: 'operator' },
  ]);
});

test('a secret passed as a field is never written', () => {
  const raw: string[] = [];
  const log = jsonLogger({ write: (l) => raw.push(l) });
  log.info('connecting', { user: 'ew', password: 'hunter2', smtp: { token: 's3cret-token' } });
  log.with({ authorization: 'Bearer abc.def' }).error('denied', new Error('403'));
  expect(raw.join('\n')).not.toMatch(/hunter2|s3cret-token|abc\.def/);
  const [first, second] = raw.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(first).toMatchObject({
    user: 'ew',
    password: '[redacted]',
    smtp: { token: '[redacted]' },
  });
  expect(second).toMatchObject({ authorization: '[redacted]', err: '403' });
});
