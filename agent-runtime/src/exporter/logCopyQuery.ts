// The statements that read an export's logs, as SQL text: the count of the window, and the
// COPY (SELECT ...) TO STDOUT of its rows after a key. COPY takes no bind parameters, so every
// value (the times, a key, the program, device and level lists) is written in as a literal by
// node-postgres' escapeLiteral, lists as ARRAY[...]::text[]; identifiers are quoted. Pure:
// built once from the plan, the same text for the same plan and key.
import pg from 'pg';

import {
  programExpression,
  quoteIdentifier as q,
  tableIdentifier,
} from '../source/postgresSource.js';
import type { Preset } from '../source/presets.js';
import { LEVELS } from '../parse/priority.js';
import type { LogKey } from './checkpoint.js';
import type { Level } from './plan.js';

export interface LogWindow {
  mapping: Preset;
  from: string;
  to: string;
  programs?: readonly string[];
  devices?: readonly string[];
  levels?: readonly Level[];
}

const LEVEL_SPELLINGS: Record<string, string[]> = {
  emerg: ['emerg', 'emergency', 'panic'],
  err: ['err', 'error'],
  warning: ['warning', 'warn'],
  crit: ['crit', 'critical'],
};

/** A value as a SQL literal: quoted and escaped by node-postgres (E'...' with a backslash). */
export const sqlLiteral = (value: string): string => pg.escapeLiteral(value);
const textArray = (values: readonly string[]): string =>
  `ARRAY[${values.map(sqlLiteral).join(', ')}]::text[]`;

export class LogCopyQuery {
  /** The table as SQL; throws for a system schema (issue 20, M4) before anything is read. */
  readonly table: string;
  readonly hasId: boolean;
  private readonly select: string;
  private readonly where: string;
  private readonly order: string;

  constructor(private readonly window: LogWindow) {
    const { mapping } = window;
    const cols = mapping.columns;
    this.table = tableIdentifier(mapping.table);
    this.hasId = cols.id !== undefined;
    const text = (c: string | undefined): string => (c ? `${q(c)}::text` : 'NULL');
    this.select = [
      text(cols.timestamp),
      text(cols.id),
      text(cols.host),
      text(cols.program),
      text(cols.pid),
      text(cols.level),
      text(cols.facility),
      text(cols.message),
    ].join(', ');
    const ts = q(cols.timestamp);
    // Untyped literals, as untyped parameters were: PostgreSQL reads them as the column's type.
    const where = [`${ts} >= ${sqlLiteral(window.from)}`, `${ts} < ${sqlLiteral(window.to)}`];
    if (window.programs?.length)
      where.push(`${programExpression(mapping)} = ANY(${textArray(window.programs)})`);
    if (window.devices?.length)
      where.push(`${q(cols.host!)}::text = ANY(${textArray(window.devices)})`);
    if (window.levels?.length) {
      // Levels as the agent reads them: a name in any of its spellings, or a syslog severity number.
      const spellings = window.levels.flatMap((l) => [
        ...(LEVEL_SPELLINGS[l] ?? [l]),
        String(LEVELS.indexOf(l)),
      ]);
      where.push(`lower(btrim(${q(cols.level!)}::text)) = ANY(${textArray(spellings)})`);
    }
    this.where = where.join(' AND ');
    // Without an id, ties at one timestamp are ordered by every column: identical rows are
    // interchangeable, so skipping n of them on resume skips the right ones.
    this.order = this.hasId
      ? `${ts}, ${q(cols.id!)}`
      : [
          ts,
          ...[cols.host, cols.program, cols.pid, cols.level, cols.facility, cols.message]
            .filter((c): c is string => c !== undefined)
            .map((c) => `${q(c)}::text COLLATE "C"`),
        ].join(', ');
  }

  /** The rows of the whole window. */
  count(): string {
    return `SELECT count(*)::text AS n FROM ${this.table} WHERE ${this.where}`;
  }

  /**
   * The COPY of the window's rows after `key`: with an id, (ts, id) > key; without one, from
   * key.ts on (the caller passes over key.skip rows at that time).
   */
  copy(key: LogKey | undefined): string {
    const cols = this.window.mapping.columns;
    const ts = q(cols.timestamp);
    let after = '';
    if (key && this.hasId)
      after = ` AND (${ts}, ${q(cols.id!)}) > (${sqlLiteral(key.ts)}, ${sqlLiteral(key.id!)})`;
    else if (key) after = ` AND ${ts} >= ${sqlLiteral(key.ts)}`;
    return `COPY (SELECT ${this.select} FROM ${this.table} WHERE ${this.where}${after} ORDER BY ${this.order}) TO STDOUT`;
  }
}
