// What a row becomes in the files. Logs: {time, device, program, pid?, level, facility?,
// message, id?}: read as the agents read them (logRecordOf), with pid, facility and id present
// when the table's mapping has them, so every record of an export has the same fields (and a
// CSV file fixed columns). Anomalies: the store's fields, and the AnalysisAgent they came from.
import { logRecordOf, type RawLogRow } from '../source/postgresSource.js';
import type { Preset } from '../source/presets.js';
import type { StoredAnomaly } from '../store/anomalyStore.js';
import type { AddressHasher } from './addresses.js';
import { COL, type LogRow } from './logReader.js';

export function logFields(mapping: Preset): string[] {
  const c = mapping.columns;
  return [
    'time',
    'device',
    'program',
    ...(c.pid || mapping.programIsTag ? ['pid'] : []),
    'level',
    ...(c.facility ? ['facility'] : []),
    'message',
    ...(c.id ? ['id'] : []),
  ];
}

export const ANOMALY_FIELDS = [
  'timestamp',
  'id',
  'analysisAgent',
  'agent',
  'device',
  'type',
  'severity',
  'confidence',
  'score',
  'description',
  'features',
  'evidence',
  'windowStart',
  'windowEnd',
  'occurrences',
  'lastSeen',
  'status',
] as const;

const PG_UTC = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:\+00(?::?00)?|Z)?$/;

/**
 * RFC 3339 in UTC, keeping the stored precision (PostgreSQL's microseconds): the session is
 * in UTC, so a timestamptz reads "2026-11-23 10:00:00.12+00" and a zone-less timestamp
 * (taken as UTC, as the agents take it) "2026-11-23 10:00:00.123456". The fraction is of a
 * fixed width, 3 digits (as JavaScript writes times) or 6 when the store has microseconds,
 * so that times of one export sort as text.
 */
export function utcTime(stored: string, ms: number): string {
  const m = PG_UTC.exec(stored);
  if (!m) return new Date(ms).toISOString();
  const digits = m[3] ?? '';
  return `${m[1]}T${m[2]}.${digits.padEnd(digits.length > 3 ? 6 : 3, '0')}Z`;
}

export type Shaped =
  | { ok: true; record: Record<string, unknown>; time: number; timeKey: string }
  | { ok: false; reason: string };

export class LogShaper {
  readonly fields: string[];
  private readonly pid: boolean;
  private readonly facility: boolean;
  private readonly id: boolean;

  constructor(
    private readonly mapping: Preset,
    private readonly timestamps: 'utc' | 'keep',
    private readonly hasher: AddressHasher | undefined,
  ) {
    this.fields = logFields(mapping);
    this.pid = this.fields.includes('pid');
    this.facility = this.fields.includes('facility');
    this.id = this.fields.includes('id');
  }

  shape(row: LogRow): Shaped {
    const raw: RawLogRow = {
      ts: row[COL.ts]!,
      host: row[COL.host]!,
      program: row[COL.program]!,
      pid: row[COL.pid]!,
      level: row[COL.level]!,
      facility: row[COL.facility]!,
      message: row[COL.message]!,
    };
    if (raw.ts === null) return { ok: false, reason: 'NullTimestamp' };
    const read = logRecordOf(raw, this.mapping.programIsTag);
    if (!read) return { ok: false, reason: 'UnparseableTimestamp' };
    const r = read.record;
    const h = this.hasher;
    const record: Record<string, unknown> = {
      time: this.timestamps === 'utc' ? utcTime(raw.ts, read.time) : raw.ts,
      device: h && r.host !== null ? h.string(r.host) : r.host,
      program: h && r.program !== null ? h.string(r.program) : r.program,
    };
    if (this.pid) record.pid = r.pid;
    record.level = r.level;
    if (this.facility) record.facility = r.facility;
    record.message = h ? h.string(r.message) : r.message;
    if (this.id) record.id = row[COL.id];
    return { ok: true, record, time: read.time, timeKey: raw.ts };
  }
}

export class AnomalyShaper {
  readonly fields: string[] = [...ANOMALY_FIELDS];

  constructor(private readonly hasher: AddressHasher | undefined) {}

  shape(a: StoredAnomaly, analysisAgent: string): Shaped {
    if (typeof a.timestamp !== 'string' || a.timestamp === '')
      return { ok: false, reason: 'NullTimestamp' };
    const time = Date.parse(a.timestamp);
    if (Number.isNaN(time)) return { ok: false, reason: 'UnparseableTimestamp' };
    const h = this.hasher;
    // Stored times are already RFC 3339 in UTC: utc and keep write them alike.
    const record: Record<string, unknown> = {
      timestamp: a.timestamp,
      id: a.id,
      analysisAgent,
      agent: a.agent,
      device: h ? h.string(a.device) : a.device,
      type: a.type,
      severity: a.severity,
      confidence: a.confidence,
      score: a.score,
      description: h ? h.string(a.description) : a.description,
      features: a.features,
      evidence: h ? h.value(a.evidence) : a.evidence,
      windowStart: a.windowStart,
      windowEnd: a.windowEnd,
      occurrences: a.occurrences,
      lastSeen: a.lastSeen,
      status: a.status,
    };
    return { ok: true, record, time, timeKey: a.timestamp };
  }
}
