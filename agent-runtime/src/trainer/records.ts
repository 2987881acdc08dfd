// Training input: raw syslog files, or ExportJob output (JSONL, JSON or CSV), gzip or not,
// told apart by their first bytes. Every shape becomes the same ObservedLine the running agent
// sees, streamed in constant memory (a JSON array file is the exception: it is read whole).
// A record that cannot be read is counted and skipped, as a malformed log line is.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { constants, createGunzip, gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse';

import type { ObservedLine } from '../agents/types.js';
import { readLines } from '../parse/lines.js';
import { isoToUtc, SyslogParser, type ParserOptions } from '../parse/syslog.js';

export type InputFormat = 'syslog' | 'jsonl' | 'json' | 'csv';

export interface InputStats {
  records: number;
  unreadable: number;
}

/** Field names accepted for each part of a record, ExportJob's and the log_entries preset's. */
const FIELDS = {
  time: ['timestamp', 'time', 'ts', '@timestamp'],
  device: ['device', 'device_id', 'host', 'hostname'],
  program: ['program', 'process_name', 'app', 'tag'],
  level: ['level', 'log_level', 'severity'],
  facility: ['facility'],
  message: ['message', 'msg'],
  ref: ['id', 'ref'],
} as const;

function pick(record: Record<string, unknown>, names: readonly string[]): unknown {
  for (const n of names) if (record[n] !== undefined && record[n] !== null) return record[n];
  return undefined;
}

/** A JSON or CSV record as an ObservedLine, or the reason it cannot be one. */
export function fromRecord(
  record: Record<string, unknown>,
  fallbackRef: number,
  defaultDevice: string,
): ObservedLine | string {
  const message = pick(record, FIELDS.message);
  if (typeof message !== 'string') return 'no message';
  const time = pick(record, FIELDS.time);
  const stamp = typeof time === 'string' ? isoToUtc(time) : null;
  if (stamp === null) return 'no readable timestamp';
  const text = (v: unknown): string | null =>
    typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : null;
  const device = text(pick(record, FIELDS.device)) ?? defaultDevice;
  const ref = pick(record, FIELDS.ref);
  return {
    ref: typeof ref === 'number' || typeof ref === 'string' ? ref : fallbackRef,
    device,
    time: stamp.ms,
    record: {
      timestamp: stamp.iso,
      host: device,
      facility: text(pick(record, FIELDS.facility)),
      level: text(pick(record, FIELDS.level)),
      program: text(pick(record, FIELDS.program)),
      pid: null,
      message,
    },
  };
}

/** Opens a file, gunzipping it if it starts with gzip's magic bytes; and its format. */
async function openFile(file: string): Promise<{ stream: Readable; format: InputFormat }> {
  const handle = await open(file, 'r');
  const head = Buffer.alloc(512);
  let length: number;
  try {
    ({ bytesRead: length } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  const gzip = length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const raw = createReadStream(file, { highWaterMark: 256 * 1024 });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  let sample = head.subarray(0, length).toString('utf8');
  if (gzip) {
    // Peek at the decompressed start without consuming it.
    try {
      sample = gunzipSync(head.subarray(0, length), {
        finishFlush: constants.Z_SYNC_FLUSH,
      }).toString('utf8');
    } catch {
      sample = ''; // a damaged start: read as syslog, and its lines will say what is wrong
    }
  }
  return { stream, format: sniff(sample) };
}

/** JSONL starts with '{', JSON with '[', CSV with a header naming a message column. */
export function sniff(start: string): InputFormat {
  const text = start.replace(/^\uFEFF/, '').trimStart();
  if (text.startsWith('{')) return 'jsonl';
  if (text.startsWith('[')) return 'json';
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const columns = header.split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
  if (columns.length > 1 && columns.some((c) => (FIELDS.message as readonly string[]).includes(c)))
    return 'csv';
  return 'syslog';
}

/** One file being read: where its counts go, and the device of records that name none. */
interface FileReading {
  file: string;
  device: string;
  stats: InputStats;
  /** Counts a record that cannot be read, and says so. */
  skip(n: number, reason: string): void;
}

type ReadOptions = ParserOptions & {
  stats?: InputStats;
  onUnreadable?(file: string, n: number, reason: string): void;
};

/**
 * Every readable record of every file, in order, as the agent would see it. `stats` counts
 * records read and skipped; `onUnreadable` hears each skipped one.
 */
export async function* readRecords(
  files: readonly string[],
  options: ReadOptions = {},
): AsyncGenerator<ObservedLine[]> {
  const stats = options.stats ?? { records: 0, unreadable: 0 };
  const device = options.defaultHost ?? 'local';
  for (const file of files) {
    const { stream, format } = await openFile(file);
    const reading: FileReading = {
      file,
      device,
      stats,
      skip: (n, reason) => {
        stats.unreadable++;
        options.onUnreadable?.(file, n, reason);
      },
    };
    if (format === 'syslog') yield* syslogBatches(stream, reading, options);
    else if (format === 'jsonl') yield* jsonlBatches(stream, reading);
    else if (format === 'json') yield* jsonBatches(stream, reading);
    else yield* csvBatches(stream, reading);
  }
}

/** Records parsed from JSON or CSV as ObservedLines; those that are not objects are skipped. */
function fromObjects(r: FileReading, objects: [number, unknown][]): ObservedLine[] {
  const out: ObservedLine[] = [];
  for (const [n, value] of objects) {
    r.stats.records++;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      r.skip(n, 'not an object');
      continue;
    }
    const line = fromRecord(value as Record<string, unknown>, n, r.device);
    if (typeof line === 'string') r.skip(n, line);
    else out.push(line);
  }
  return out;
}

async function* syslogBatches(
  stream: Readable,
  r: FileReading,
  options: ParserOptions,
): AsyncGenerator<ObservedLine[]> {
  const parser = new SyslogParser(options);
  for await (const batch of readLines(stream)) {
    const out: ObservedLine[] = [];
    for (const [n, text] of batch) {
      r.stats.records++;
      const o = parser.parse(text);
      if (!o.ok) r.skip(n, o.reason);
      else out.push({ ref: n, device: o.record.host ?? r.device, time: o.time, record: o.record });
    }
    yield out;
  }
}

async function* jsonlBatches(stream: Readable, r: FileReading): AsyncGenerator<ObservedLine[]> {
  for await (const batch of readLines(stream)) {
    const objects: [number, unknown][] = [];
    for (const [n, text] of batch) {
      if (text.trim() === '') continue;
      try {
        objects.push([n, JSON.parse(text)]);
      } catch {
        r.stats.records++;
        r.skip(n, 'not JSON');
      }
    }
    yield fromObjects(r, objects);
  }
}

/** A JSON array file, read whole. */
async function* jsonBatches(stream: Readable, r: FileReading): AsyncGenerator<ObservedLine[]> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${r.file}: not a JSON array: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${r.file}: not a JSON array`);
  yield fromObjects(
    r,
    parsed.map((v, i) => [i + 1, v]),
  );
}

async function* csvBatches(stream: Readable, r: FileReading): AsyncGenerator<ObservedLine[]> {
  const rows = stream.pipe(
    parseCsv({
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
    }),
  );
  let n = 1; // the header is row 1
  let batch: [number, unknown][] = [];
  for await (const row of rows) {
    batch.push([++n, row]);
    if (batch.length >= 5000) {
      yield fromObjects(r, batch);
      batch = [];
    }
  }
  yield fromObjects(r, batch);
}
