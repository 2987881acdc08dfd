// A row of the collector's log table as a log record, as every reader of the table sees it.
import { facilityName, levelName, normalizeFacility, normalizeLevel } from '../parse/priority.js';
import { isoToUtc, type LogRecord } from '../parse/syslog.js';

// A whole tag, "dnsmasq[728]:", as some collectors store the program.
const TAG = /^([^[:\s]+)(?:\[(\d+)\])?:?$/;

/** One row's columns as text, as the collector's table holds them. */
export interface RawLogRow {
  ts: string | null;
  host: string | null;
  program: string | null;
  pid: string | null;
  level: string | null;
  facility: string | null;
  message: string | null;
}

/**
 * A row as a log record, as every reader of the table sees it: the time in UTC (a time
 * without a zone is UTC), a whole tag split into program and pid, numeric priorities and
 * facilities named. Undefined when the row has no usable timestamp.
 */
export function logRecordOf(
  r: RawLogRow,
  programIsTag: boolean,
): { time: number; record: LogRecord } | undefined {
  const stamp = r.ts === null ? null : isoToUtc(r.ts);
  if (stamp === null) return undefined;
  const time = stamp.ms;
  let program = r.program;
  let pid = r.pid !== null && /^\d+$/.test(r.pid) ? Number(r.pid) : null;
  if (program !== null && programIsTag) {
    const tag = TAG.exec(program.trim());
    program = tag?.[1] ?? program;
    if (tag?.[2]) pid = Number(tag[2]);
  }
  return {
    time,
    record: {
      timestamp: stamp.iso,
      host: r.host,
      facility:
        r.facility === null
          ? null
          : /^\d+$/.test(r.facility)
            ? facilityName(Number(r.facility))
            : normalizeFacility(r.facility.toLowerCase()),
      level:
        r.level === null
          ? null
          : /^\d+$/.test(r.level)
            ? levelName(Number(r.level))
            : normalizeLevel(r.level.toLowerCase()),
      program: program === '' ? null : program,
      pid,
      message: r.message ?? '',
    },
  };
}
