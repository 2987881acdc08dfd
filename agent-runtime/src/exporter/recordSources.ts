// The two sources of an export's records behind one shape, so that one loop writes both: the
// logs (PostgreSQL, through COPY (SELECT ...) TO STDOUT, logReader.ts) and the anomalies (each
// agent pod's GET /anomalies, by keyset cursor). Each counts what the window holds, hands out
// batches of shaped records, and puts the place it reached into the checkpoint: a resumed run
// goes on after the last batch a checkpoint recorded.
import { exportExit } from '../contract/export.js';
import { anomalyCursor } from '../http/anomalyQuery.js';
import { loadConnection } from '../pod/config.js';
import type { StoredAnomaly } from '../store/anomalyStore.js';
import type { AddressHasher } from './addresses.js';
import { AnomalyReader } from './anomalyReader.js';
import type { AnomaliesState, Checkpoint, LogKey, LogsState } from './checkpoint.js';
import { keyAfter, LogReader } from './logReader.js';
import type { Output } from './output.js';
import { ExportFailure, type DataType, type ExportSettings } from './plan.js';
import { AnomalyShaper, LogShaper, type Shaped } from './records.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface RecordSource {
  readonly type: DataType;
  readonly fields: string[];
  /**
   * The rows of the whole window (also when resuming), as rows read: counted at the source, or
   * the rows the checkpoint read when it has this data type done.
   */
  count(): Promise<number>;
  /** The batches left, each of shaped records; the place moves past a batch as it is handed out. */
  batches(): AsyncGenerator<Iterable<Shaped>>;
  /** This data type's part of the checkpoint: its files and checks as they are, the place reached. */
  reached(cp: Checkpoint, out: Output, done: boolean): void;
  close(): Promise<void>;
}

/** The sources of the plan's data types, logs first, each where the checkpoint left it. */
export function recordSources(
  s: ExportSettings,
  cp: Checkpoint,
  hasher: AddressHasher | undefined,
  env: Env,
): RecordSource[] {
  return [
    ...(s.dataTypes.includes('logs') ? [new LogRecords(s, cp.logs, hasher, env)] : []),
    ...(s.dataTypes.includes('anomalies') ? [new AnomalyRecords(s, cp.anomalies, hasher)] : []),
  ];
}

export class LogRecords implements RecordSource {
  readonly type = 'logs';
  readonly fields: string[];
  private readonly shaper: LogShaper;
  private reader: LogReader | undefined;
  private key: LogKey | undefined;

  constructor(
    private readonly s: ExportSettings,
    private readonly saved: LogsState | undefined,
    hasher: AddressHasher | undefined,
    private readonly env: Env,
  ) {
    this.shaper = new LogShaper(s.mapping!, s.timestamps, hasher);
    this.fields = this.shaper.fields;
    this.key = saved?.key;
  }

  /** The total comes with the cursor: one snapshot of the table. */
  async count(): Promise<number> {
    if (this.saved?.done) return this.saved.validation.rows;
    const { s } = this;
    const connection = await loadConnection(this.env, s.sslMode ?? 'verify-full').catch(
      (error: Error) => {
        throw new ExportFailure('InvalidEnvironment', error.message, exportExit.badSpec);
      },
    );
    this.reader = new LogReader({
      connection,
      mapping: s.mapping!,
      from: s.from.iso,
      to: s.to.iso,
      programs: s.filters.programs,
      devices: s.filters.devices,
      levels: s.filters.levels,
      batchSize: s.batchSize,
    });
    await this.reader.inspect();
    return this.reader.open(this.key);
  }

  async *batches(): AsyncGenerator<Iterable<Shaped>> {
    const reader = this.reader;
    if (!reader) return;
    const hasId = this.s.mapping!.columns.id !== undefined;
    let next = reader.next();
    for (;;) {
      const rows = await next;
      if (rows.length === 0) break;
      next = reader.next(); // the next batch is read while this one is written
      next.catch(() => undefined);
      this.key = keyAfter(rows, this.key, hasId);
      yield rows.map((row) => this.shaper.shape(row));
    }
    await reader.close();
  }

  reached(cp: Checkpoint, { series, validator }: Output, done: boolean): void {
    cp.logs = { series: series.snapshot(), validation: validator.snapshot(), key: this.key, done };
  }

  async close(): Promise<void> {
    await this.reader?.close();
  }
}

export class AnomalyRecords implements RecordSource {
  readonly type = 'anomalies';
  readonly fields: string[];
  private readonly shaper: AnomalyShaper;
  /** The agent pods to read: the plan's, less those of agent kinds the filters leave out. */
  private readonly pods: ExportSettings['anomalySources'];
  /** By pod: the cursor of the last anomaly written, and whether it is read to the end. */
  private readonly positions: AnomaliesState['sources'];

  constructor(
    private readonly s: ExportSettings,
    private readonly saved: AnomaliesState | undefined,
    hasher: AddressHasher | undefined,
  ) {
    this.shaper = new AnomalyShaper(hasher);
    this.fields = this.shaper.fields;
    this.pods = s.anomalySources.filter(
      (a) => !s.filters.agents || s.filters.agents.includes(a.kind),
    );
    this.positions = saved?.sources ?? {};
  }

  /** Counted by a pass over every pod's anomalies of the window. */
  async count(): Promise<number> {
    if (this.saved?.done) return this.saved.validation.rows;
    let total = 0;
    for (const pod of this.pods) {
      const reader = this.reader(pod, 10_000);
      let after: string | undefined;
      for (;;) {
        const page = await reader.page(after);
        if (page.length === 0) break;
        for (const a of page) if (this.selected(a)) total++;
        after = anomalyCursor(page[page.length - 1]!);
      }
    }
    return total;
  }

  async *batches(): AsyncGenerator<Iterable<Shaped>> {
    if (this.saved?.done) return;
    for (const pod of this.pods) {
      const position = (this.positions[pod.pod] ??= { done: false });
      const reader = this.reader(pod, this.s.batchSize);
      while (!position.done) {
        const page = await reader.page(position.after);
        if (page.length === 0) position.done = true;
        else position.after = anomalyCursor(page[page.length - 1]!);
        yield page.filter((a) => this.selected(a)).map((a) => this.shaper.shape(a, pod.agent));
      }
    }
  }

  reached(cp: Checkpoint, { series, validator }: Output, done: boolean): void {
    cp.anomalies = {
      series: series.snapshot(),
      validation: validator.snapshot(),
      sources: this.positions,
      done,
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private reader(pod: ExportSettings['anomalySources'][number], pageSize: number): AnomalyReader {
    const { s } = this;
    return new AnomalyReader(pod, {
      from: s.from.iso,
      to: s.to.iso,
      minSeverity: s.filters.minSeverity,
      pageSize,
    });
  }

  /** The filters that /anomalies cannot apply: devices and agent kinds. */
  private selected(a: StoredAnomaly): boolean {
    const { filters } = this.s;
    if (filters.devices && !filters.devices.includes(a.device)) return false;
    if (filters.agents && !filters.agents.includes(a.agent)) return false;
    return true;
  }
}
