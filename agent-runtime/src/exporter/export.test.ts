// The exporter's parts without a database: address hashing, the formats, the file series
// (rotation, gzip members, cutting back to a checkpoint), validation, the plan's checks and
// the termination message's 4 KiB.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';

import type { ExportPlan, ExportProgress } from '../contract/export.js';
import { AddressHasher } from './addresses.js';
import { FileSeries, partialName, ResumeError } from './files.js';
import { csvField, encoderFor } from './formats.js';
import { keyAfter } from './logReader.js';
import { ExportFailure, settingsOf } from './plan.js';
import { utcTime } from './records.js';
import { exportFilePattern } from './exportFileNames.js';
import { terminationMessage } from './progress.js';
import {
  emptyValidation,
  validationReport,
  Validator,
  type ValidationState,
} from './validation.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-export-unit-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('address hashing', () => {
  const hasher = new AddressHasher(Buffer.from('k'));
  const h = (s: string): string => hasher.string(s);

  test.each([
    [
      'Bad password attempt from 192.168.1.5:40022',
      /^Bad password attempt from ip-[0-9a-f]{16}:40022$/,
    ],
    [
      'wlan0: STA AA:bb:CC:dd:EE:ff IEEE 802.11: authenticated',
      /^wlan0: STA mac-[0-9a-f]{16} IEEE 802\.11: authenticated$/,
    ],
    [
      'SRC=203.0.113.9 DST=192.0.2.1 PROTO=TCP',
      /^SRC=ip-[0-9a-f]{16} DST=ip-[0-9a-f]{16} PROTO=TCP$/,
    ],
    [
      'reply fe80::1ff:fe23:4567:890a to [2001:db8::1]:547.',
      /^reply ip-[0-9a-f]{16} to \[ip-[0-9a-f]{16}\]:547\.$/,
    ],
    ['inet addr:10.0.0.1 Bcast:10.0.0.255', /^inet addr:ip-[0-9a-f]{16} Bcast:ip-[0-9a-f]{16}$/],
    ['mapped ::ffff:192.0.2.7 here', /^mapped ip-[0-9a-f]{16} here$/],
  ])('%s', (input, expected) => {
    expect(h(input)).toMatch(expected);
  });

  test('finds what the regex of issue 20 found with replace(): the same spans, hashed alike', () => {
    // The scan before the lookahead and the exec loop (issue 22), as the oracle: every span it
    // replaced must come out replaced, and nothing else.
    const ORIGINAL =
      /(?<![\w:.])([0-9a-f]{2}(?::[0-9a-f]{2}){5})(?![\w:])|(?<![\w:.])((?:[0-9a-f]{0,4}:){2,7}(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f]{0,4}))(?![\w:]|\.\d)|(?<![\w.])(\d{1,3}(?:\.\d{1,3}){3})(?!\.?\d)/gi;
    const original = (text: string): string => text.replace(ORIGINAL, (match: string) => h(match));
    const unit = fc.constantFrom(...'0123456789abcdefABCDEF:.:.:. gx_-[]/');
    const piece = fc.constantFrom(
      '192.168.1.1',
      'fe80::1',
      '::ffff:10.0.0.1',
      'AA:BB:CC:DD:EE:FF',
      '10:00:00',
      '1.2.3.4.5',
      '',
    );
    fc.assert(
      fc.property(piece, fc.string({ unit, maxLength: 40 }), piece, (a, middle, b) => {
        const text = `${a}${middle}${b}`;
        expect(h(text)).toBe(original(text));
      }),
      { numRuns: 20_000 },
    );
  });

  test('leaves alone what is not an address', () => {
    for (const s of [
      'at 10:00:00 up 3 days',
      'version 1.2.3.4.5',
      '999.1.1.1 is no address',
      'ratio 0.5, 1.25',
      'key ::',
      'OpenWrt 23.05.3 r23809',
    ])
      expect(h(s)).toBe(s);
  });

  test('the same address hashes alike, whatever its spelling; another key hashes otherwise', () => {
    expect(h('aa:bb:cc:dd:ee:ff')).toBe(h('AA:BB:CC:DD:EE:FF'));
    expect(h('2001:DB8:0:0::1')).toBe(h('2001:db8::1'));
    expect(h('::ffff:192.0.2.7')).toBe(h('192.0.2.7'));
    expect(h('192.0.2.7')).not.toBe(h('192.0.2.8'));
    expect(new AddressHasher(Buffer.from('other')).string('192.0.2.7')).not.toBe(h('192.0.2.7'));
  });

  test('every string of a nested value', () => {
    expect(hasher.value({ a: ['from 192.0.2.7', 3], b: { c: 'x' } })).toEqual({
      a: [h('from 192.0.2.7'), 3],
      b: { c: 'x' },
    });
  });
});

describe('formats', () => {
  const fields = ['time', 'message', 'extra', 'n'];
  const records = [
    { time: 't1', message: 'commas, "quotes"\r\nand lines', extra: { a: [1] }, n: 3 },
    { time: 't2', message: '', extra: null, n: 0 },
    { time: 't3', message: 'naïve ✓ \u0001 \ud83d\ude00', extra: 'x', n: -1.5 },
  ];
  const whole = (format: 'json' | 'jsonl' | 'csv'): string => {
    const e = encoderFor(format, fields);
    return e.head() + records.map((r, i) => e.record(r, i === 0)).join('') + e.tail();
  };

  test('jsonl and json are what JSON.stringify writes', () => {
    expect(whole('jsonl')).toBe(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(JSON.parse(whole('json'))).toEqual(records);
  });

  test('CSV: RFC 4180 quoting, read back by a CSV parser', () => {
    const text = whole('csv');
    expect(text.split('\r\n')[0]).toBe('time,message,extra,n');
    expect(text).toContain('"commas, ""quotes""\r\nand lines"');
    expect(parseCsv(text, { columns: true })).toEqual([
      { time: 't1', message: records[0]!.message, extra: '{"a":[1]}', n: '3' },
      { time: 't2', message: '', extra: '', n: '0' },
      { time: 't3', message: records[2]!.message, extra: 'x', n: '-1.5' },
    ]);
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a"b')).toBe('"a""b"');
  });

  test('utc times keep the stored precision, in a fixed width that sorts as text', () => {
    expect(utcTime('2026-11-23 10:00:00.123456+00', 0)).toBe('2026-11-23T10:00:00.123456Z');
    expect(utcTime('2026-11-23 10:00:00.1234+00', 0)).toBe('2026-11-23T10:00:00.123400Z');
    expect(utcTime('2026-11-23 10:00:00.98+00', 0)).toBe('2026-11-23T10:00:00.980Z');
    expect(utcTime('2026-11-23 10:00:00', 0)).toBe('2026-11-23T10:00:00.000Z');
    expect(utcTime('2026-11-23 11:00:00+01', Date.parse('2026-11-23T10:00:00Z'))).toBe(
      '2026-11-23T10:00:00.000Z',
    );
  });
});

describe('file series', () => {
  const encoder = encoderFor('jsonl', ['n', 'text']);
  const record = (n: number): Record<string, unknown> => ({ n, text: 'x'.repeat(40) });
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  test('a new file at maxFileSize; hidden partial files until the checkpoint; sha256 and sizes', async () => {
    const series = FileSeries.create(dir, 'e-logs', encoder, false, 200);
    for (let n = 0; n < 10; n++) await series.add(record(n));
    await series.flush(false);
    // Finished files keep their partial names until published (after the checkpoint).
    expect((await readdir(dir)).sort()).toEqual([
      '.e-logs-0001.jsonl.partial',
      '.e-logs-0002.jsonl.partial',
      '.e-logs-0003.jsonl.partial',
      '.e-logs-0004.jsonl.partial',
    ]);
    await series.publish();
    await series.close();
    await series.publish();
    const files = series.files();
    expect(files.map((f) => f.name)).toEqual([
      'e-logs-0001.jsonl',
      'e-logs-0002.jsonl',
      'e-logs-0003.jsonl',
      'e-logs-0004.jsonl',
    ]);
    let lines: string[] = [];
    for (const f of files) {
      const bytes = await readFile(path.join(dir, f.name));
      expect(bytes.length).toBeLessThanOrEqual(200);
      expect({ bytes: bytes.length, sha256: sha(bytes) }).toEqual({
        bytes: f.bytes,
        sha256: f.sha256,
      });
      lines = lines.concat(bytes.toString().trim().split('\n'));
      expect(f.records).toBe(bytes.toString().trim().split('\n').length);
    }
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(await readdir(dir)).toHaveLength(4);
  });

  test('gzip: one member per flush; cut back to a checkpoint and continued, the file reads whole', async () => {
    const series = FileSeries.create(dir, 'e-logs', encoder, true, 1 << 20);
    for (let n = 0; n < 5; n++) await series.add(record(n));
    await series.flush(true);
    const checkpoint = series.snapshot();
    // Written after the checkpoint, then the process dies: these must not survive.
    for (let n = 5; n < 8; n++) await series.add(record(n));
    await series.flush(false);
    await series.abandon();
    const partial = path.join(dir, partialName('e-logs-0001.jsonl.gz'));
    expect((await stat(partial)).size).toBeGreaterThan(checkpoint.current!.bytes);
    await writeFile(path.join(dir, '.e-logs-0002.jsonl.gz.partial'), 'stray');

    const resumed = await FileSeries.resume(dir, 'e-logs', encoder, true, 1 << 20, checkpoint);
    for (let n = 5; n < 12; n++) await resumed.add(record(n));
    await resumed.flush(false);
    await resumed.close();
    await resumed.publish();
    const [file] = resumed.files();
    const bytes = await readFile(path.join(dir, file!.name));
    expect(sha(bytes)).toBe(file!.sha256);
    const lines = gunzipSync(bytes).toString().trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { n: number }).n)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
    ]);
    expect(await readdir(dir)).toEqual(['e-logs-0001.jsonl.gz']); // the stray partial is gone
  });

  test('killed between checkpoints (flushes and a finished file after it): the resumed series writes the bytes of an unbroken one', async () => {
    // Flush points as the run makes them, every 3 records; a checkpoint only after the first.
    const write = async (series: FileSeries, from: number, to: number): Promise<void> => {
      for (let n = from; n < to; n++) {
        await series.add(record(n));
        if (n % 3 === 2) await series.flush(false);
      }
    };
    const unbrokenDir = await mkdtemp(path.join(tmpdir(), 'edgewarden-unbroken-'));
    try {
      const unbroken = FileSeries.create(unbrokenDir, 'e-logs', encoder, true, 300);
      await write(unbroken, 0, 16);
      await unbroken.close();
      await unbroken.publish();

      const series = FileSeries.create(dir, 'e-logs', encoder, true, 300);
      await write(series, 0, 3);
      const checkpoint = series.snapshot();
      await write(series, 3, 9); // two more flushes, and file 1 ends (300 bytes): no checkpoint
      expect(series.unpublished()).toBe(true);
      await series.abandon(); // killed

      const resumed = await FileSeries.resume(dir, 'e-logs', encoder, true, 300, checkpoint);
      expect(await readdir(dir)).toEqual([partialName('e-logs-0001.jsonl.gz')]);
      await write(resumed, 3, 16);
      await resumed.close();
      await resumed.publish();
      expect(resumed.files()).toEqual(unbroken.files());
      for (const f of resumed.files())
        expect(await readFile(path.join(dir, f.name))).toEqual(
          await readFile(path.join(unbrokenDir, f.name)),
        );
    } finally {
      await rm(unbrokenDir, { recursive: true, force: true });
    }
  });

  test('a partial file that lost bytes, or holds other bytes, is not resumed', async () => {
    const series = FileSeries.create(dir, 'e-logs', encoder, false, 1 << 20);
    for (let n = 0; n < 3; n++) await series.add(record(n));
    await series.flush(true);
    const checkpoint = series.snapshot();
    await series.abandon();
    const partial = path.join(dir, partialName('e-logs-0001.jsonl'));
    const original = await readFile(partial);
    await writeFile(partial, original.subarray(0, 10));
    await expect(
      FileSeries.resume(dir, 'e-logs', encoder, false, 1 << 20, checkpoint),
    ).rejects.toThrow(ResumeError);
    await writeFile(partial, Buffer.alloc(original.length, 0));
    await expect(
      FileSeries.resume(dir, 'e-logs', encoder, false, 1 << 20, checkpoint),
    ).rejects.toThrow(/differ/);
  });
});

test('validation: empty fields, duplicates at one time (not the id), rejects, out of range', () => {
  const v = new Validator(['time', 'msg', 'id'], ['id'], emptyValidation(['time', 'msg', 'id']));
  const rows: [string, string, string][] = [
    ['t1', 'a', '1'],
    ['t1', 'a', '2'], // a duplicate: same content, another id
    ['t1', '', '3'],
    ['t2', 'a', '4'], // another time: not compared with t1's
  ];
  for (const [time, msg, id] of rows) {
    v.row();
    v.written({ time, msg, id }, time);
  }
  v.row();
  v.reject('NullTimestamp');
  v.row();
  v.outOfRange();
  // The state survives a checkpoint: a duplicate of t2's record after a resume is still seen.
  const resumed = new Validator(
    ['time', 'msg', 'id'],
    ['id'],
    JSON.parse(JSON.stringify(v.snapshot())) as ValidationState,
  );
  resumed.row();
  resumed.written({ time: 't2', msg: 'a', id: '5' }, 't2');
  expect(validationReport({ logs: resumed.snapshot() })).toEqual({
    rows: 7,
    nullRates: { time: 0, msg: 0.2, id: 0 },
    duplicates: 2,
    rejectedRows: 1,
    rejected: { NullTimestamp: 1 },
    outOfRange: 1,
  });
});

test('keys: after the last (ts, id), or without an id after n rows at the last time', () => {
  const row = (ts: string, id: string | null = null): (string | null)[] => [
    ts,
    id,
    null,
    null,
    null,
    null,
    null,
    'm',
  ];
  expect(keyAfter([row('a', '1'), row('b', '2')], undefined, true)).toEqual({ ts: 'b', id: '2' });
  expect(keyAfter([row('a'), row('b'), row('b')], undefined, false)).toEqual({ ts: 'b', skip: 2 });
  expect(keyAfter([row('b'), row('b')], { ts: 'b', skip: 2 }, false)).toEqual({ ts: 'b', skip: 4 });
  expect(keyAfter([], { ts: 'b', skip: 2 }, false)).toEqual({ ts: 'b', skip: 2 });
});

describe('the plan', () => {
  const plan = (
    over: Partial<ExportPlan> = {},
    spec: Record<string, unknown> = {},
  ): ExportPlan => ({
    name: 'weekly',
    namespace: 'ns',
    uid: 'u-1',
    from: '2026-11-23T00:00:00Z',
    to: '2026-11-24T00:00:00+01:00',
    spec: {
      dataTypes: ['logs'],
      source: { analysisAgentRef: { name: 'dns' } },
      timeRange: { last: '24h' },
      destination: { persistentVolumeClaim: { claimName: 'c' }, path: 'p' },
      ...spec,
    },
    logs: { source: { secretRef: { name: 's' }, preset: 'SystemEvents' } },
    ...over,
  });

  test('defaults, quantities and the window', () => {
    const s = settingsOf(plan({}, { maxFileSize: '2Mi' }));
    expect(s).toMatchObject({
      format: 'jsonl',
      compression: 'none',
      batchSize: 1000,
      maxFileSize: 2 * 1024 * 1024,
      timestamps: 'utc',
      hashAddresses: true, // the schema's default since issue 20 (was false)
      from: { iso: '2026-11-23T00:00:00.000Z' },
      to: { iso: '2026-11-23T23:00:00.000Z' },
      mapping: { table: 'systemevents' },
    });
    expect(settingsOf(plan()).maxFileSize).toBe(100 * 1024 * 1024);
  });

  test.each([
    [{ to: '2026-11-23T00:00:00Z' }, {}, 'BadTimeRange'],
    [{ from: 'soon' }, {}, 'BadTimeRange'],
    [{}, { format: 'xml' }, 'InvalidSpec'],
    [{ name: '../etc' }, {}, 'InvalidPlan'],
    [{ logs: undefined }, {}, 'InvalidPlan'],
  ])('%j %j: %s, exit 3', (over, spec, reason) => {
    let failure: unknown;
    try {
      settingsOf(plan(over, spec));
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(ExportFailure);
    expect(failure).toMatchObject({ reason, exitCode: 3 });
  });
});

test('the termination message fits 4 KiB: files dropped from the end, and counted', () => {
  const files = Array.from({ length: 200 }, (_, i) => ({
    name: `weekly-review-logs-${String(i + 1).padStart(4, '0')}.jsonl.gz`,
    records: 100_000,
    bytes: 12_345_678,
    sha256: 'a'.repeat(64),
  }));
  const progress: ExportProgress = {
    state: 'succeeded',
    recordsDone: 2e7,
    bytes: 1e9,
    files,
    manifest: 'weekly-review.manifest.json',
  };
  const text = terminationMessage(progress);
  expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
  const parsed = JSON.parse(text) as ExportProgress;
  expect(parsed.files.length + parsed.filesOmitted!).toBe(200);
  expect(parsed.files).toEqual(files.slice(0, parsed.files.length));
  expect(parsed.manifest).toBe('weekly-review.manifest.json');
  const small = { ...progress, files: files.slice(0, 2) };
  expect(JSON.parse(terminationMessage(small))).toEqual(small);
});

test("the files of an export, and no one else's", () => {
  const p = exportFilePattern('weekly');
  for (const n of [
    'weekly-logs-0001.jsonl',
    'weekly-anomalies-0012.csv.gz',
    '.weekly-logs-0002.json.partial',
    'weekly.manifest.json',
    'weekly-logs-10000.jsonl',
  ])
    expect(p.test(n)).toBe(true);
  for (const n of [
    'weekly-review-logs-0001.jsonl',
    'other-logs-0001.jsonl',
    'weekly-logs-1.jsonl',
    'weekly.txt',
  ])
    expect(p.test(n)).toBe(false);
});
