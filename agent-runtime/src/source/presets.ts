// Where router logs live in PostgreSQL, by collector: the table and the columns each reads.
// A preset is a starting point; the AnalysisAgent's table and columns override it.

export interface ColumnMap {
  id?: string;
  timestamp: string;
  host?: string;
  program?: string;
  /** Process id, when the collector stores it apart from the tag. */
  pid?: string;
  level?: string;
  facility?: string;
  message: string;
}

export interface Preset {
  table: string;
  columns: ColumnMap;
  /** The program column holds a whole syslog tag ("dnsmasq[728]:"), not the bare name. */
  programIsTag: boolean;
}

export const presets = {
  /** edgewarden's collector table (the design's log_entries). */
  log_entries: {
    table: 'log_entries',
    columns: {
      id: 'id',
      timestamp: 'timestamp',
      host: 'device_id',
      program: 'process_name',
      level: 'log_level',
      message: 'message',
    },
    programIsTag: false,
  },
  /**
   * rsyslog's ompgsql. Its SQL (Debian's rsyslog-pgsql, rsyslog's createDB.sql) and its default
   * INSERT name the table and columns unquoted, so PostgreSQL stores them in lower case.
   */
  SystemEvents: {
    table: 'systemevents',
    columns: {
      id: 'id',
      timestamp: 'receivedat',
      host: 'fromhost',
      program: 'syslogtag',
      level: 'priority',
      facility: 'facility',
      message: 'message',
    },
    programIsTag: true,
  },
  /** syslog-ng's sql() destination with its default columns (no id: read by time). */
  messages: {
    table: 'messages',
    columns: {
      timestamp: 'date',
      host: 'host',
      program: 'program',
      pid: 'pid',
      level: 'level',
      facility: 'facility',
      message: 'message',
    },
    programIsTag: false,
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof presets | 'custom';

/** The preset, with the spec's table and column overrides laid over it. */
export function resolveMapping(
  preset: PresetName,
  table?: string,
  columns: Partial<ColumnMap> = {},
): Preset {
  if (preset === 'custom') {
    if (!table || !columns.timestamp || !columns.message)
      throw new Error('preset custom needs a table and the timestamp and message columns');
    return {
      table,
      columns: { ...columns, timestamp: columns.timestamp, message: columns.message },
      programIsTag: false,
    };
  }
  const base: Preset = presets[preset];
  return {
    table: table ?? base.table,
    columns: { ...base.columns, ...columns },
    programIsTag: base.programIsTag,
  };
}
