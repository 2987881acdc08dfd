// LogReader's COPY against a real PostgreSQL: text that COPY's text format must escape (tabs,
// backslashes, newlines, control characters, characters of two to four UTF-8 bytes, "\N" as
// text) and NULL columns come out as a plain SELECT ...::text through node-postgres gives them
// (what the cursor path handed out); filters holding quotes and backslashes match what bind
// parameters match; a connection terminated by the server in the middle of the COPY is
// retried, the COPY issued again after the last row handed out, and every row comes out
// exactly once, in order, with an id column and without one.
import pg from 'pg';

import {
  adminClient,
  createLogTable,
  READER,
  startPostgres,
  type PostgresServer,
} from '../../../test/services/postgres.js';
import { presets, type Preset } from '../source/presets.js';
import type { PostgresConnection } from '../source/sourceOptions.js';
import { LogReader, type LogReaderOptions, type LogRow } from './logReader.js';

const FROM = '2026-11-23T00:00:00Z';
const TO = '2026-11-24T00:00:00Z';
const AWKWARD = [
  'tab\there',
  'back\\slash',
  '\\N',
  '\\x41 \\101 \\. \\',
  'new\nline',
  'carriage\r\nreturn',
  'bell\u0007 backspace\b form\f vtab\v escape\u001b',
  'quote \' and "double"',
  'multi-byte: é ✓ 漢 𝄞 🙂',
  '',
  ' .',
];

const full: Preset = {
  table: 'awkward',
  columns: {
    id: 'id',
    timestamp: 'ts',
    host: 'host',
    program: 'program',
    pid: 'pid',
    level: 'level',
    facility: 'facility',
    message: 'message',
  },
  programIsTag: false,
};
const noId: Preset = {
  table: 'ties',
  columns: {
    timestamp: 'date',
    host: 'host',
    program: 'program',
    level: 'level',
    message: 'message',
  },
  programIsTag: false,
};

let server: PostgresServer;
let admin: pg.Client;
let connection: PostgresConnection;

beforeAll(async () => {
  server = await startPostgres();
  admin = await adminClient(server);
  await createLogTable(admin);
  await admin.query(`CREATE TABLE awkward (id bigserial PRIMARY KEY, ts timestamptz NOT NULL,
    host text, program text, pid integer, level text, facility text, message text)`);
  // 20,000 rows: every awkward message with a run of two- and four-byte characters of varying
  // length after it (so multi-byte characters straddle the stream's chunks), NULLs in every
  // nullable column now and then, programs with quotes and backslashes.
  await admin.query(
    `INSERT INTO awkward (ts, host, program, pid, level, facility, message)
     SELECT timestamptz '2026-11-22 23:30:00+00' + g * interval '4.5 seconds',
            CASE WHEN g % 13 = 0 THEN NULL ELSE 'gw-' || (g % 5) END,
            CASE WHEN g % 17 = 0 THEN NULL ELSE (ARRAY['dnsmasq', 'o''brien', 'back\\slash', 'tab\tprog'])[1 + g % 4] END,
            CASE WHEN g % 3 = 0 THEN NULL ELSE g END,
            CASE WHEN g % 11 = 0 THEN NULL ELSE 'info' END,
            CASE WHEN g % 2 = 0 THEN NULL ELSE 'daemon' END,
            CASE WHEN g % 19 = 0 THEN NULL
                 ELSE ($1::text[])[1 + g % ${AWKWARD.length}] || repeat('é𝄞', g % 40) END
     FROM generate_series(1, 20000) g`,
    [AWKWARD],
  );
  // Wide rows, so the COPY is far larger than what the socket buffers hold when it is killed.
  await admin.query(
    `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message)
     SELECT 'gw-' || (g % 7), timestamptz '2026-11-23 00:00:00+00' + g * interval '300 milliseconds',
            'info', 'dropbear', 'line ' || g || ' ' || repeat('x✓', 150)
     FROM generate_series(1, 120000) g`,
  );
  // No id: five identical rows at each second, and rows that differ only in the message.
  await admin.query(`CREATE TABLE ties (date timestamp NOT NULL, host text, program text,
    level text, message text)`);
  await admin.query(
    `INSERT INTO ties SELECT timestamp '2026-11-23 00:00:00' + (g / 10) * interval '1 second',
       'gw-' || (g % 2), 'dnsmasq', 'info', 'query ' || (g % 3) || ' ' || repeat('y', 200)
     FROM generate_series(0, 99999) g`,
  );
  await admin.query(`GRANT SELECT ON awkward, ties TO ${READER.user}`);
  connection = {
    host: server.host,
    port: server.port,
    database: 'postgres',
    user: READER.user,
    password: READER.password,
    sslMode: 'verify-full',
    ca: server.ca,
  };
}, 180_000);

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await server?.remove();
});

function reader(options: Partial<LogReaderOptions> & { mapping: Preset }): LogReader {
  return new LogReader({
    connection,
    from: FROM,
    to: TO,
    batchSize: 777,
    retryDelayMs: 10,
    ...options,
  });
}

/** Every batch to the end; `afterBatch` runs after each. */
async function readAll(
  r: LogReader,
  afterBatch: (batch: number) => Promise<void> = () => Promise.resolve(),
): Promise<{ count: number; rows: LogRow[]; sizes: number[] }> {
  await r.inspect();
  const count = await r.open(undefined);
  const rows: LogRow[] = [];
  const sizes: number[] = [];
  for (let batch = 1; ; batch++) {
    const got = await r.next();
    if (got.length === 0) break;
    sizes.push(got.length);
    rows.push(...got);
    await afterBatch(batch);
  }
  await r.close();
  return { count, rows, sizes };
}

/** The rows as a plain SELECT of the same ::text columns gives them through node-postgres. */
async function selected(sql: string, params: unknown[] = []): Promise<LogRow[]> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    database: 'postgres',
    user: READER.user,
    password: READER.password,
    ssl: { ca: server.ca },
    options: '-c TimeZone=UTC',
  });
  await client.connect();
  try {
    return (await client.query<LogRow>({ text: sql, values: params, rowMode: 'array' })).rows;
  } finally {
    await client.end();
  }
}

const AWKWARD_SELECT = `SELECT ts::text, id::text, host::text, program::text, pid::text,
  level::text, facility::text, message::text FROM awkward`;

test('tabs, backslashes, newlines, control and multi-byte characters and NULLs come out as a plain SELECT gives them', async () => {
  const { count, rows, sizes } = await readAll(reader({ mapping: full }));
  const expected = await selected(`${AWKWARD_SELECT} WHERE ts >= $1 AND ts < $2 ORDER BY ts, id`, [
    FROM,
    TO,
  ]);
  expect(expected.length).toBeGreaterThan(15_000);
  expect(count).toBe(expected.length);
  expect(rows).toEqual(expected);
  // Batches of batchSize, the last one shorter.
  expect(sizes.slice(0, -1).every((n) => n === 777)).toBe(true);
  for (const m of AWKWARD) expect(rows.some((r) => r[7]?.startsWith(m + 'é') === true)).toBe(true);
  expect(rows.some((r) => r[7] === null && r[2] === null)).toBe(true);
}, 60_000);

test('filters holding quotes, backslashes and tabs match the rows bind parameters match', async () => {
  const programs = ["o'brien", 'back\\slash', 'tab\tprog', "'); DROP TABLE awkward; --"];
  const devices = ['gw-1', 'gw-3', "gw-'4\\"];
  const { count, rows } = await readAll(
    reader({ mapping: full, programs, devices, levels: ['info'] }),
  );
  const expected = await selected(
    `${AWKWARD_SELECT} WHERE ts >= $1 AND ts < $2 AND program::text = ANY($3)
       AND host::text = ANY($4) AND lower(btrim(level::text)) = ANY($5) ORDER BY ts, id`,
    [FROM, TO, programs, devices, ['info', '6']],
  );
  expect(expected.length).toBeGreaterThan(1000);
  expect(count).toBe(expected.length);
  expect(rows).toEqual(expected);
}, 60_000);

/**
 * Terminates the reader's backend (the only edgewarden-export session; a parallel query's
 * workers are not client backends); returns its pid.
 */
async function terminateExport(): Promise<number> {
  const { rows } = await admin.query<{ pid: number; done: boolean }>(
    `SELECT pid, pg_terminate_backend(pid) AS done FROM pg_stat_activity
     WHERE application_name = 'edgewarden-export' AND usename = $1
       AND backend_type = 'client backend'`,
    [READER.user],
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]!.done).toBe(true);
  return rows[0]!.pid;
}

async function exportPids(): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE application_name = 'edgewarden-export' AND backend_type = 'client backend'`,
  );
  return rows.map((r) => r.pid);
}

test('the connection terminated mid-COPY: the COPY is issued again after the last row, every row exactly once', async () => {
  let killed: number | undefined;
  let after: number[] = [];
  const mapping: Preset = presets.log_entries;
  const { count, rows } = await readAll(reader({ mapping, batchSize: 1000 }), async (batch) => {
    if (batch === 5) killed = await terminateExport();
    if (batch === 60) after = await exportPids();
  });
  expect(killed).toBeDefined();
  // A new session read the rest.
  expect(after).toHaveLength(1);
  expect(after[0]).not.toBe(killed);
  expect(count).toBe(120_000);
  expect(rows.map((r) => Number(r[1]))).toEqual(Array.from({ length: 120_000 }, (_, i) => i + 1));
  expect(rows[119_999]![7]).toBe(`line 120000 ${'x✓'.repeat(150)}`);
}, 120_000);

test('without an id column: terminated mid-COPY at a tie, the rows already handed out are passed over, every row exactly once', async () => {
  let killed: number | undefined;
  let after: number[] = [];
  // 777 is not a multiple of 10 rows a second: the key falls inside a run of ties.
  const { count, rows } = await readAll(reader({ mapping: noId }), async (batch) => {
    if (batch === 7) killed = await terminateExport();
    if (batch === 90) after = await exportPids();
  });
  expect(killed).toBeDefined();
  expect(after).toHaveLength(1);
  expect(after[0]).not.toBe(killed);
  const expected = await selected(
    `SELECT date::text, NULL, host::text, program::text, NULL, level::text, NULL, message::text
     FROM ties WHERE date >= $1 AND date < $2
     ORDER BY date, host::text COLLATE "C", program::text COLLATE "C", level::text COLLATE "C", message::text COLLATE "C"`,
    [FROM, TO],
  );
  expect(count).toBe(100_000);
  expect(rows).toEqual(expected);
}, 120_000);
