// The source's SQL, without a server: the filters' parameters are numbered after the query's
// own two ($1 watermark, $2 limit), in every query, and names are quoted.
import { resolveMapping } from './presets.js';
import { SourceError } from './sourceError.js';
import { SourceQueries } from './sourceQueries.js';

const connection = {
  host: 'db',
  port: 5432,
  database: 'logs',
  user: 'reader',
  sslMode: 'disable' as const,
};

describe('SourceQueries', () => {
  test('an id watermark reads after $1 up to $2 rows, filters from $3 on', () => {
    const sql = new SourceQueries({
      connection,
      mapping: resolveMapping('log_entries'),
      batchSize: 10,
      programs: ['dnsmasq'],
      devices: ['gw-1', 'gw-2'],
      shard: { index: 1, count: 3 },
    });
    expect(sql.mode).toBe('id');
    expect(sql.beginning()).toBe('-9223372036854775808');
    const after = sql.after('41', 10);
    expect(after.values).toEqual(['41', 10, ['dnsmasq'], ['gw-1', 'gw-2'], 3, 1]);
    expect(after.text).toContain('"id" > $1::numeric');
    expect(after.text).toContain('"process_name"::text = ANY($3)');
    expect(after.text).toContain('"device_id"::text = ANY($4)');
    expect(after.text).toContain('::bigint), $5) = $6');
    expect(after.text).toMatch(/ORDER BY "id" LIMIT \$2$/);
    expect(sql.before('41', 100).values).toEqual(['41', 101, ['dnsmasq'], ['gw-1', 'gw-2'], 3, 1]);
  });

  test('a timestamp watermark: rows tied at one time are read whole, the backfill by the clock', () => {
    const sql = new SourceQueries({
      connection,
      mapping: resolveMapping('messages'),
      batchSize: 10,
    });
    expect(sql.mode).toBe('timestamp');
    expect(sql.beginning()).toBe('-infinity');
    const tied = sql.tiedAt('2026-01-05 12:00:00+00');
    expect(tied.text).toContain('"date" = $1::timestamptz');
    expect(tied.values).toEqual(['2026-01-05 12:00:00+00', 1_000_000]);
    expect(sql.backfill(60_000)).toEqual({
      text: `SELECT (now() - $1 * interval '1 millisecond')::text AS wm`,
      values: [60_000],
    });
    expect(sql.end().text).toBe('SELECT max("date")::text AS wm FROM "messages"');
  });

  test('an id watermark needs an id column; sharding needs a host column', () => {
    const messages = resolveMapping('messages');
    expect(
      () => new SourceQueries({ connection, mapping: messages, batchSize: 1, watermark: 'id' }),
    ).toThrow(SourceError);
    const noHost = { ...messages, columns: { ...messages.columns, host: undefined } };
    expect(
      () =>
        new SourceQueries({
          connection,
          mapping: noHost,
          batchSize: 1,
          shard: { index: 0, count: 2 },
        }),
    ).toThrow('sharding by device needs a host column in the mapping');
  });
});
