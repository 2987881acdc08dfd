// Checks on the records of one data type, counted as they pass, in bounded memory:
//   rows         records read from the source (written, rejected or out of range)
//   nullRates    share of written records with each field empty (null or "")
//   duplicates   written records identical (all fields but the id) to an earlier one. Rows
//                come ordered by time, so an earlier identical record has the same time:
//                only records sharing the current time are remembered (at most
//                MAX_TIED_KEYS of them), never the whole export. Duplicates are counted, and
//                exported: they are what the source holds.
//   rejected     records skipped, by reason (no timestamp, an unreadable one)
//   outOfRange   records whose time is outside [from, to): skipped
// The state is plain JSON and goes into the checkpoint, so a resumed run counts on.
import { createHash } from 'node:crypto';

import type { ExportValidation } from '../contract/export.js';

const MAX_TIED_KEYS = 10_000;

export interface ValidationState {
  rows: number;
  written: number;
  empty: Record<string, number>;
  duplicates: number;
  rejected: Record<string, number>;
  outOfRange: number;
  /** The time of the last written record, and the keys of the records written at that time. */
  tie?: { time: string; keys: string[] };
}

export function emptyValidation(fields: readonly string[]): ValidationState {
  return {
    rows: 0,
    written: 0,
    empty: Object.fromEntries(fields.map((f) => [f, 0])),
    duplicates: 0,
    rejected: {},
    outOfRange: 0,
  };
}

export class Validator {
  private readonly state: ValidationState;
  private tieTime: string | undefined;
  /** The first record at tieTime, keyed only when a second arrives (ties are the exception). */
  private tieFirst: Record<string, unknown> | undefined;
  private tieKeys: Set<string> | undefined;

  constructor(
    private readonly fields: readonly string[],
    /** Fields left out of the duplicate comparison (the source's row id). */
    private readonly ignore: readonly string[],
    state: ValidationState,
  ) {
    this.state = structuredClone(state);
    if (state.tie) {
      this.tieTime = state.tie.time;
      this.tieKeys = new Set(state.tie.keys);
    }
  }

  row(): void {
    this.state.rows++;
  }

  reject(reason: string): void {
    this.state.rejected[reason] = (this.state.rejected[reason] ?? 0) + 1;
  }

  outOfRange(): void {
    this.state.outOfRange++;
  }

  private key(record: Record<string, unknown>): string {
    const values: unknown[] = [];
    for (const f of this.fields) if (!this.ignore.includes(f)) values.push(record[f]);
    return createHash('sha1').update(JSON.stringify(values)).digest('base64');
  }

  /** A record about to be written, with its time (the ordering key). */
  written(record: Record<string, unknown>, time: string): void {
    const s = this.state;
    s.written++;
    for (const f of this.fields) {
      const v = record[f];
      if (v === null || v === undefined || v === '') s.empty[f] = (s.empty[f] ?? 0) + 1;
    }
    if (time !== this.tieTime) {
      this.tieTime = time;
      this.tieFirst = record;
      this.tieKeys = undefined;
      return;
    }
    if (!this.tieKeys) {
      this.tieKeys = new Set(this.tieFirst ? [this.key(this.tieFirst)] : []);
      this.tieFirst = undefined;
    }
    const key = this.key(record);
    if (this.tieKeys.has(key)) s.duplicates++;
    else if (this.tieKeys.size < MAX_TIED_KEYS) this.tieKeys.add(key);
  }

  snapshot(): ValidationState {
    const keys = this.tieKeys ? [...this.tieKeys] : this.tieFirst ? [this.key(this.tieFirst)] : [];
    return {
      ...structuredClone(this.state),
      ...(this.tieTime !== undefined ? { tie: { time: this.tieTime, keys } } : {}),
    };
  }
}

/** The contract's ExportValidation from the data types' states (field names prefixed when there are two). */
export function validationReport(states: Record<string, ValidationState>): ExportValidation {
  const entries = Object.entries(states);
  const prefix = entries.length > 1;
  const out: ExportValidation = {
    rows: 0,
    nullRates: {},
    duplicates: 0,
    rejectedRows: 0,
    rejected: {},
    outOfRange: 0,
  };
  for (const [type, s] of entries) {
    out.rows += s.rows;
    out.duplicates += s.duplicates;
    out.outOfRange += s.outOfRange;
    for (const [reason, n] of Object.entries(s.rejected)) {
      out.rejected[reason] = (out.rejected[reason] ?? 0) + n;
      out.rejectedRows += n;
    }
    for (const [field, n] of Object.entries(s.empty))
      out.nullRates[prefix ? `${type}.${field}` : field] =
        s.written === 0 ? 0 : Math.round((n / s.written) * 1e6) / 1e6;
  }
  return out;
}
