// The PostgreSQL source against a real PostgreSQL server (Debian's package, started here).
import { readFile } from 'node:fs/promises';
import pg from 'pg';

import {
  startPostgres,
  SUPERUSER_PASSWORD,
  type PostgresServer,
} from '../../../test/services/postgres.js';
import type { ObservedLine } from '../agents/types.js';
import {
  poolConfig,
  PostgresSource,
  SourceError,
  type PostgresConnection,
  type SourceOptions,
} from './postgresSource.js';
import { resolveMapping } from './presets.js';

/** The SQL Debian's rsyslog-pgsql runs to create rsyslog's tables. */
const RSYSLOG_PGSQL_DDL = '/usr/share/dbconfig-common/data/rsyslog-pgsql/install/pgsql';

let server: PostgresServer;
let admin: pg.Client;

const READER_PASSWORD = 'reader-secret';

async function sql(text: string, values: unknown[] = []): Promise<void> {
  await admin.query(text, values);
}

/** The superuser client that sets up test data; reconnected after the server restarts. */
async function connectAdmin(): Promise<void> {
  admin = new pg.Client({
    host: server.host,
    port: server.port,
    user: 'postgres',
    password: SUPERUSER_PASSWORD,
    database: 'syslog',
  });
  admin.on('error', () => undefined); // the restart test stops the server under it
  await admin.connect();
}

beforeAll(async () => {
  server = await startPostgres();
  const setup = new pg.Client({
    host: server.host,
    port: server.port,
    user: 'postgres',
    password: SUPERUSER_PASSWORD,
    database: 'postgres',
  });
  await setup.connect();
  await setup.query('CREATE DATABASE syslog');
  await setup.query(`CREATE ROLE reader LOGIN PASSWORD '${READER_PASSWORD}'`);
  await setup.end();
  await connectAdmin();
  // The three collectors' tables, as they create them.
  await sql(`CREATE TABLE log_entries (
    id bigserial PRIMARY KEY, device_id text, device_ip inet, timestamp timestamptz NOT NULL, log_level text,
    process_name text, message text, raw_message text, structured_data jsonb, pushed_to_ai boolean DEFAULT false,
    pushed_at timestamptz, push_attempts int DEFAULT 0, last_push_error text)`);
  // rsyslog's table as Debian's rsyslog-pgsql package creates it (unquoted names: PostgreSQL
  // folds them to lower case, so the table is systemevents).
  const ddl = await readFile(RSYSLOG_PGSQL_DDL, 'utf8').catch(() => {
    throw new Error(
      `${RSYSLOG_PGSQL_DDL} is missing: apt-get install rsyslog-pgsql (bash .ci/run does)`,
    );
  });
  await sql(ddl);
  await sql(`CREATE TABLE messages (
    date timestamp without time zone, facility varchar(16), level varchar(16), host varchar(255),
    program varchar(64), pid varchar(16), message text)`);
  await sql('GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader');
});

afterAll(async () => {
  await admin?.end();
  await server?.remove();
});

const connection = (overrides: Partial<PostgresConnection> = {}): PostgresConnection => ({
  host: server.host,
  port: server.port,
  database: 'syslog',
  user: 'reader',
  password: READER_PASSWORD,
  sslMode: 'verify-full',
  ca: server.ca,
  ...overrides,
});

function source(options: Partial<SourceOptions> & Pick<SourceOptions, 'mapping'>): PostgresSource {
  return new PostgresSource({
    connection: connection(),
    batchSize: 10,
    retries: 2,
    retryDelayMs: 50,
    ...options,
  });
}

/** Reads until caught up; returns every line and the final watermark. */
async function drain(
  s: PostgresSource,
  from: string,
): Promise<{ lines: ObservedLine[]; watermark: string; reads: number }> {
  const lines: ObservedLine[] = [];
  let watermark = from;
  let reads = 0;
  for (;;) {
    const batch = await s.read(watermark);
    reads++;
    lines.push(...batch.lines);
    watermark = batch.watermark;
    if (batch.caughtUp) return { lines, watermark, reads };
  }
}

describe('log_entries (edgewarden collector), id watermark', () => {
  test('reads incrementally, in batches, never the same row twice', async () => {
    await sql('TRUNCATE log_entries RESTART IDENTITY');
    for (let i = 0; i < 25; i++)
      await sql(
        `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ($1, $2, 'info', 'dnsmasq', $3)`,
        [
          `gw-${i % 2}`,
          new Date(Date.UTC(2026, 10, 23, 10, 0, i)),
          `query[A] host${i}.example.net from 192.168.1.5`,
        ],
      );
    const s = source({ mapping: resolveMapping('log_entries') });
    try {
      const first = await drain(s, s.beginning());
      expect(first.reads).toBe(3);
      expect(first.lines.map((l) => l.ref)).toEqual(
        Array.from({ length: 25 }, (_, i) => String(i + 1)),
      );
      expect(first.lines[3]).toMatchObject({
        device: 'gw-1',
        time: Date.UTC(2026, 10, 23, 10, 0, 3),
        record: {
          timestamp: '2026-11-23T10:00:03.000Z',
          host: 'gw-1',
          level: 'info',
          program: 'dnsmasq',
          message: 'query[A] host3.example.net from 192.168.1.5',
        },
      });
      expect(first.watermark).toBe('25');
      await sql(
        `INSERT INTO log_entries (device_id, timestamp, process_name, message) VALUES ('gw-0', now(), 'hostapd', 'wlan0: AP-ENABLED')`,
      );
      const next = await drain(s, first.watermark);
      expect(next.lines.map((l) => [l.ref, l.record.program])).toEqual([['26', 'hostapd']]);
      expect(await s.read(next.watermark)).toMatchObject({
        lines: [],
        caughtUp: true,
        watermark: '26',
      });
      // Started fresh with no stored watermark, an agent begins at the end: only new lines.
      expect(await s.endWatermark()).toBe('26');
      // With spec.source.backfill, just before the period's first row: the last hour holds
      // only row 26; ten years hold them all; and a period with no row is the end.
      expect(await s.endWatermark(3_600_000)).toBe('25');
      expect(await s.endWatermark(10 * 365 * 86_400_000)).toBe('0');
      await sql(`UPDATE log_entries SET timestamp = now() - interval '2 hours' WHERE id = 26`);
      expect(await s.endWatermark(3_600_000)).toBe('26');
    } finally {
      await s.close();
    }
  });

  test('program and device filters are applied in the query', async () => {
    const s = source({
      mapping: resolveMapping('log_entries'),
      programs: ['hostapd'],
      devices: ['gw-0'],
    });
    try {
      const { lines } = await drain(s, s.beginning());
      expect(lines.map((l) => l.record.message)).toEqual(['wlan0: AP-ENABLED']);
    } finally {
      await s.close();
    }
  });
});

test('shards split the devices: every line read by exactly one of them', async () => {
  const count = 3;
  const seen: string[][] = [];
  for (let index = 0; index < count; index++) {
    const s = source({ mapping: resolveMapping('log_entries'), shard: { index, count } });
    try {
      const { lines } = await drain(s, s.beginning());
      seen.push(lines.map((l) => `${l.ref}:${l.device}`));
    } finally {
      await s.close();
    }
  }
  const all = source({ mapping: resolveMapping('log_entries') });
  try {
    const { lines } = await drain(all, all.beginning());
    const everything = lines.map((l) => `${l.ref}:${l.device}`);
    expect(seen.flat().sort()).toEqual([...everything].sort()); // none lost, none twice
    // A device's lines stay together in one shard.
    const shardOf = new Map<string, number>();
    seen.forEach((refs, i) =>
      refs.forEach((r) => {
        const device = r.slice(r.indexOf(':') + 1);
        expect(shardOf.get(device) ?? i).toBe(i);
        shardOf.set(device, i);
      }),
    );
    expect(new Set(shardOf.values()).size).toBeGreaterThan(1);
  } finally {
    await all.close();
  }
});

describe('malformed rows', () => {
  test('a row with no usable timestamp is counted and skipped, and reading goes on', async () => {
    await sql(`INSERT INTO SystemEvents (ReceivedAt, Facility, Priority, FromHost, Message, SysLogTag) VALUES
      (NULL, 3, 6, 'gw', ' no time at all', 'dnsmasq[1]:'),
      ('2026-11-23 09:59:59', 3, 6, 'gw', ' fine', 'dnsmasq[1]:')`);
    const s = source({ mapping: resolveMapping('SystemEvents') });
    try {
      const batch = await s.read(s.beginning());
      expect(batch.unreadable).toBe(1);
      expect(batch.lines.map((l) => l.record.message)).toEqual([' fine']);
      expect(batch.watermark).toBe('2'); // past the bad row too: it is not read again
    } finally {
      await s.close();
      await sql('TRUNCATE SystemEvents RESTART IDENTITY');
    }
  });
});

describe('SystemEvents (rsyslog ompgsql)', () => {
  test('tags, numeric priorities and facilities, and a tag-aware program filter', async () => {
    await sql(`INSERT INTO SystemEvents (ReceivedAt, Facility, Priority, FromHost, Message, SysLogTag) VALUES
      ('2026-11-23 10:00:00.123456', 3, 6, 'ap-attic', ' started, version 2.80', 'dnsmasq[728]:'),
      ('2026-11-23 10:00:01', 10, 4, 'gw-home', ' Bad password attempt for ''root'' from 203.0.113.5:4000', 'dropbear[1514]:'),
      ('2026-11-23 10:00:02', 0, 6, 'gw-home', ' drop wan in: SRC=198.51.100.1', 'kernel:')`);
    const s = source({ mapping: resolveMapping('SystemEvents') });
    const filtered = source({
      mapping: resolveMapping('SystemEvents'),
      programs: ['dropbear', 'kernel'],
    });
    try {
      const { lines } = await drain(s, s.beginning());
      expect(lines.map((l) => l.record)).toEqual([
        {
          timestamp: '2026-11-23T10:00:00.123Z',
          host: 'ap-attic',
          facility: 'daemon',
          level: 'info',
          program: 'dnsmasq',
          pid: 728,
          message: ' started, version 2.80',
        },
        {
          timestamp: '2026-11-23T10:00:01.000Z',
          host: 'gw-home',
          facility: 'authpriv',
          level: 'warning',
          program: 'dropbear',
          pid: 1514,
          message: " Bad password attempt for 'root' from 203.0.113.5:4000",
        },
        {
          timestamp: '2026-11-23T10:00:02.000Z',
          host: 'gw-home',
          facility: 'kern',
          level: 'info',
          program: 'kernel',
          pid: null,
          message: ' drop wan in: SRC=198.51.100.1',
        },
      ]);
      expect(
        (await drain(filtered, filtered.beginning())).lines.map((l) => l.record.program),
      ).toEqual(['dropbear', 'kernel']);
    } finally {
      await s.close();
      await filtered.close();
    }
  });
});

describe('messages (syslog-ng), timestamp watermark', () => {
  test('rows sharing a timestamp are never split across batches: none lost, none twice', async () => {
    // 10 rows; rows 3..7 share one second, across the boundary of batches of 4.
    const seconds = [0, 1, 2, 3, 3, 3, 3, 3, 4, 5];
    for (const [i, sec] of seconds.entries())
      await sql(
        `INSERT INTO messages (date, facility, level, host, program, pid, message) VALUES ($1, 'daemon', 'info', 'gw', 'netifd', '99', $2)`,
        [`2026-11-23 10:00:0${sec}`, `line ${i}`],
      );
    const s = source({ mapping: resolveMapping('messages'), batchSize: 4 });
    try {
      const { lines, watermark } = await drain(s, s.beginning());
      expect(lines.map((l) => l.record.message).sort()).toEqual(
        seconds.map((_, i) => `line ${i}`).sort(),
      );
      expect(lines[0]!.record).toMatchObject({
        facility: 'daemon',
        level: 'info',
        program: 'netifd',
        pid: 99,
        host: 'gw',
      });
      expect(watermark).toBe('2026-11-23 10:00:05');
      // A batch made only of one timestamp's rows takes all of them.
      const tied = source({ mapping: resolveMapping('messages'), batchSize: 2 });
      const all = await drain(tied, '2026-11-23 10:00:02');
      expect(all.lines.map((l) => l.record.message)).toEqual([
        'line 3',
        'line 4',
        'line 5',
        'line 6',
        'line 7',
        'line 8',
        'line 9',
      ]);
      await tied.close();
    } finally {
      await s.close();
    }
  });

  test('the rows a fresh agent leaves behind: counted as it reads them, up to a bound', async () => {
    const s = source({ mapping: resolveMapping('messages') });
    const hostapd = source({ mapping: resolveMapping('messages'), programs: ['hostapd'] });
    try {
      // At the end: all 10 rows of the test above are before it, from 10:00:00 to 10:00:05.
      const end = await s.endWatermark();
      expect(await s.rowsBefore(end, 1000)).toEqual({
        rows: 10,
        capped: false,
        oldest: Date.UTC(2026, 10, 23, 10, 0, 0),
        newest: Date.UTC(2026, 10, 23, 10, 0, 5),
      });
      // Only the newest `cap` are looked at: more than 4, the newest at 10:00:05, no oldest.
      expect(await s.rowsBefore(end, 4)).toEqual({
        rows: 4,
        capped: true,
        newest: Date.UTC(2026, 10, 23, 10, 0, 5),
      });
      // Before a watermark in the middle; before the beginning none; and a filter applies.
      expect((await s.rowsBefore('2026-11-23 10:00:02', 1000)).rows).toBe(3);
      expect(await s.rowsBefore(s.beginning(), 1000)).toEqual({ rows: 0, capped: false });
      expect((await hostapd.rowsBefore(end, 1000)).rows).toBe(0);
    } finally {
      await s.close();
      await hostapd.close();
    }
  });
});

describe('connections', () => {
  test('sessions are read-only, in UTC, with a statement timeout', async () => {
    const client = new pg.Client(
      poolConfig({
        connection: connection(),
        mapping: resolveMapping('log_entries'),
        batchSize: 1,
        statementTimeoutMs: 500,
      }),
    );
    await client.connect();
    try {
      await expect(client.query('CREATE TABLE nope (x int)')).rejects.toThrow(
        /read-only transaction/,
      );
      expect(
        (await client.query<{ z: string }>('SELECT current_setting($$TimeZone$$) AS z')).rows[0]?.z,
      ).toBe('UTC');
      await expect(client.query('SELECT pg_sleep(2)')).rejects.toThrow(/statement timeout/);
    } finally {
      await client.end();
    }
  });

  test('table and column names are quoted, never spliced into SQL', async () => {
    const s = source({
      mapping: { ...resolveMapping('log_entries'), table: 'log_entries; DROP TABLE log_entries' },
    });
    await expect(s.read(s.beginning())).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('does not exist') as string,
    });
    await s.close();
    await expect(admin.query('SELECT count(*) FROM log_entries')).resolves.toBeDefined();
  });

  test('a system schema is never read, whoever wrote the configuration (issue 20, M4)', async () => {
    const columns = { timestamp: 'query_start', message: 'query' };
    for (const table of ['pg_catalog.pg_stat_activity', 'pg_stat_activity']) {
      const refusal = async (): Promise<unknown> => {
        const s = source({ mapping: resolveMapping('custom', table, columns) });
        try {
          await s.read(s.beginning());
          return undefined;
        } finally {
          await s.close();
        }
      };
      await expect(refusal()).rejects.toMatchObject({
        retryable: false,
        message: expect.stringContaining(`table "${table}"`) as string,
      });
    }
  });

  test('sslmode verify-full checks the certificate and the host name; a wrong CA or password is refused', async () => {
    const read = async (c: Partial<PostgresConnection>): Promise<unknown> => {
      const s = new PostgresSource({
        connection: connection(c),
        mapping: resolveMapping('log_entries'),
        batchSize: 1,
        retries: 1,
      });
      try {
        return await s.read(s.beginning());
      } finally {
        await s.close();
      }
    };
    await expect(read({ host: 'localhost' })).resolves.toMatchObject({ lines: [{ ref: '1' }] });
    await expect(read({ sslMode: 'require', ca: undefined })).resolves.toMatchObject({
      lines: [{ ref: '1' }],
    });
    await expect(read({ sslMode: 'disable' })).resolves.toMatchObject({ lines: [{ ref: '1' }] });
    await expect(read({ ca: undefined })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    await expect(read({ password: 'wrong' })).rejects.toMatchObject({
      retryable: false,
      message: expect.stringContaining('password authentication failed') as string,
    });
  });

  test('a server that goes away is retried, reported as retryable, and read again when it returns', async () => {
    const s = source({ mapping: resolveMapping('log_entries') });
    try {
      const start = await s.endWatermark();
      await admin.end();
      await server.stop();
      const failure = await s.read(start).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(SourceError);
      expect(failure).toMatchObject({ retryable: true });
      await server.start();
      await connectAdmin();
      await sql(
        `INSERT INTO log_entries (device_id, timestamp, process_name, message) VALUES ('gw-0', now(), 'netifd', 'after the restart')`,
      );
      const { lines } = await drain(s, start);
      expect(lines.map((l) => l.record.message)).toEqual(['after the restart']);
    } finally {
      await s.close();
    }
  });
});
