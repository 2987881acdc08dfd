// `edgewarden export`, an ExportJob's pod: reads the plan, exports logs (PostgreSQL) and
// anomalies (the agent pods' GET /anomalies) of [from, to) into files on the destination
// volume, batch by batch, with a checkpoint after every batch; serves its progress; writes
// a manifest at the end and its last progress as the termination message.
//
// A batch: rows read, each shaped (or rejected, or out of range), validated and encoded into
// the current file; the file flushed and synced; the checkpoint written (atomically); files
// finished in the batch renamed to their names; progress updated. Killed anywhere, the next
// run cuts the partial file back to the checkpoint and goes on after its key: every row ends
// up in the files exactly once.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { loadConnection } from '../pod/config.js';
import {
  exportDefaults,
  exportEnv,
  exportExit,
  type ExportFile,
  type ExportProgress,
} from '../contract/export.js';
import { ensureWritableFolder, UnwritableFolderError } from '../files/writableFolder.js';
import { anomalyCursor } from '../http/anomalyQuery.js';
import { AddressHasher } from './addresses.js';
import { AnomalyReader } from './anomalyReader.js';
import {
  readCheckpoint,
  removeCheckpoint,
  writeAtomically,
  writeCheckpoint,
  type AnomaliesState,
  type Checkpoint,
  type LogKey,
} from './checkpoint.js';
import { FileSeries, ResumeError, type SeriesState } from './files.js';
import { encoderFor } from './formats.js';
import { keyAfter, LogReader } from './logReader.js';
import { ExportFailure, readPlan, settingsOf, specSummary, type ExportSettings } from './plan.js';
import { ProgressServer } from './progressServer.js';
import { AnomalyShaper, LogShaper, type Shaped } from './records.js';
import {
  emptyValidation,
  validationReport,
  Validator,
  type ValidationState,
} from './validation.js';

type Env = Readonly<Record<string, string | undefined>>;

/** Overrides the termination message's path (tests; Kubernetes uses the default). */
export const TERMINATION_MESSAGE_ENV = 'EDGEWARDEN_TERMINATION_MESSAGE';
/** Kubernetes keeps at most this much of a termination message. */
export const MAX_TERMINATION_MESSAGE = 4096;

/** Data and checkpoint are forced to disk at most this often (and at every file's end). */
const SYNC_INTERVAL_MS = 1000;

export const manifestName = (name: string): string => `${name}.manifest.json`;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The files an export of this name writes (data files, partials, the manifest). */
export function exportFilePattern(name: string): RegExp {
  const n = escapeRe(name);
  return new RegExp(
    `^(?:\\.?${n}-(?:logs|anomalies)-\\d{4,}\\.(?:json|jsonl|csv)(?:\\.gz)?(?:\\.partial)?|\\.?${n}\\.manifest\\.json(?:\\.tmp)?)$`,
  );
}

/** Removes an export's files (not those of other exports in the same folder). */
export async function removeExportFiles(dir: string, name: string): Promise<string[]> {
  const pattern = exportFilePattern(name);
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw error;
  }
  for (const entry of entries)
    if (pattern.test(entry)) {
      await unlink(path.join(dir, entry));
      removed.push(entry);
    }
  return removed;
}

/** The progress as a termination message: at most 4 KiB, files dropped from the end first. */
export function terminationMessage(progress: ExportProgress): string {
  const p: ExportProgress = { ...progress, files: [...progress.files] };
  let text = JSON.stringify(p);
  while (Buffer.byteLength(text) > MAX_TERMINATION_MESSAGE && p.files.length > 0) {
    const drop = Math.max(1, Math.ceil(p.files.length / 8));
    p.files.splice(p.files.length - drop, drop);
    p.filesOmitted = (progress.filesOmitted ?? 0) + progress.files.length - p.files.length;
    text = JSON.stringify(p);
  }
  // Shrink step by step, adding back what fits.
  while (Buffer.byteLength(text) > MAX_TERMINATION_MESSAGE && p.error) {
    p.error = {
      reason: p.error.reason,
      message: `${p.error.message.slice(0, p.error.message.length / 2)}…`,
    };
    text = JSON.stringify(p);
  }
  if (Buffer.byteLength(text) > MAX_TERMINATION_MESSAGE && p.validation) {
    p.validation = { ...p.validation, nullRates: {} };
    text = JSON.stringify(p);
  }
  return text;
}

const log = (line: string): void => console.log(`edgewarden export: ${line}`);

export class Exporter {
  private progress: ExportProgress;
  private stopping = false;
  private readonly series: FileSeries[] = [];
  private readonly validators = new Map<string, Validator>();
  private closers: (() => Promise<void>)[] = [];

  constructor(private readonly env: Env = process.env) {
    this.progress = {
      state: 'starting',
      recordsDone: 0,
      bytes: 0,
      files: [],
      startedAt: new Date().toISOString(),
    };
  }

  /** SIGTERM: finish the current batch, checkpoint, and stop (exit 1: the Job resumes it). */
  stop(): void {
    this.stopping = true;
  }

  current(): ExportProgress {
    return this.progress;
  }

  async run(): Promise<number> {
    let server: ProgressServer | undefined;
    let code: number = exportExit.ok;
    try {
      const portText = this.env[exportEnv.port];
      const port =
        portText === undefined || portText === '' ? exportDefaults.port : Number(portText);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new ExportFailure(
          'InvalidEnvironment',
          `${exportEnv.port}: not a port: ${portText}`,
          exportExit.badSpec,
        );
      server = await ProgressServer.listen(port, () => this.progress);
      log(`serving on port ${server.port()}`);
      const plan = await readPlan(this.env[exportEnv.plan] ?? exportDefaults.plan);
      const settings = settingsOf(plan);
      const dir = this.env[exportEnv.dir] ?? exportDefaults.volume;
      await ensureWritableFolder(dir, {
        what: "the export's files, manifest and checkpoint",
        setting: exportEnv.dir,
      });
      await this.export(settings, dir);
      this.progress = { ...this.progress, state: 'succeeded' };
    } catch (error) {
      const failure = asFailure(error);
      code = failure.exitCode;
      this.progress = {
        ...this.progress,
        state: 'failed',
        error: { reason: failure.reason, message: failure.message },
      };
      console.error(`edgewarden export: failed: ${failure.reason}: ${failure.message}`);
    } finally {
      for (const close of this.closers) await close().catch(() => undefined);
      await this.writeTerminationMessage();
      await server?.close();
    }
    return code;
  }

  private async writeTerminationMessage(): Promise<void> {
    const configured = this.env[TERMINATION_MESSAGE_ENV];
    const file = configured || exportDefaults.terminationMessage;
    // Outside a pod there is no termination log to write (and /dev is no place to make one).
    if (!configured && !existsSync(file)) return;
    try {
      await writeFile(file, terminationMessage(this.progress));
    } catch (error) {
      console.error(`edgewarden export: cannot write ${file}: ${(error as Error).message}`);
    }
  }

  private async export(s: ExportSettings, dir: string): Promise<void> {
    let cp: Checkpoint | undefined;
    try {
      cp = await readCheckpoint(dir, s.uid);
    } catch (error) {
      log(`checkpoint unreadable, starting afresh: ${(error as Error).message}`);
    }
    if (cp && cp.plan !== s.digest) {
      log('checkpoint is of another plan, starting afresh');
      cp = undefined;
    }
    if (cp?.complete) {
      // Already done (the pod ended before reporting): report it again.
      this.refresh(s, cp);
      this.progress.manifest = cp.manifest;
      log(`already complete: ${this.progress.recordsDone} records, manifest ${cp.manifest}`);
      return;
    }
    if (cp) {
      try {
        await this.exportFrom(s, dir, cp, true);
        return;
      } catch (error) {
        if (!(error instanceof ResumeError)) throw error;
        log(`cannot resume (${error.message}); starting afresh`);
        for (const series of this.series) await series.abandon();
        this.series.length = 0;
        this.validators.clear();
      }
    }
    const removed = await removeExportFiles(dir, s.name);
    if (removed.length > 0)
      log(`removed ${removed.length} files of an earlier export named ${s.name}`);
    await removeCheckpoint(dir, s.uid);
    await this.exportFrom(
      s,
      dir,
      {
        version: 1,
        uid: s.uid,
        plan: s.digest,
        startedAt: this.progress.startedAt!,
        resumes: 0,
      },
      false,
    );
  }

  private refresh(s: ExportSettings, cp: Checkpoint): void {
    const states: Record<string, ReturnType<Validator['snapshot']>> = {};
    let files: ExportFile[] = [];
    let bytes = 0;
    for (const kind of ['logs', 'anomalies'] as const) {
      const part = cp[kind];
      if (!part) continue;
      states[kind] = part.validation;
      files = files.concat(part.series.files);
      bytes +=
        part.series.files.reduce((n, f) => n + f.bytes, 0) + (part.series.current?.bytes ?? 0);
    }
    this.progress = {
      ...this.progress,
      recordsDone: Object.values(states).reduce((n, v) => n + v.written, 0),
      ...(cp.recordsTotal !== undefined ? { recordsTotal: cp.recordsTotal } : {}),
      bytes,
      files,
      validation: validationReport(states),
    };
  }

  /** Progress from the live series and validators (after a batch's checkpoint and renames). */
  private update(): void {
    const states: Record<string, ReturnType<Validator['snapshot']>> = {};
    for (const [type, v] of this.validators) states[type] = v.snapshot();
    this.progress = {
      ...this.progress,
      recordsDone: Object.values(states).reduce((n, v) => n + v.written, 0),
      bytes: this.series.reduce((n, f) => n + f.bytes(), 0),
      files: this.series.flatMap((f) => f.files()),
      validation: validationReport(states),
    };
  }

  private async exportFrom(
    s: ExportSettings,
    dir: string,
    cp: Checkpoint,
    resumed: boolean,
  ): Promise<void> {
    let hasher: AddressHasher | undefined;
    if (s.hashAddresses) {
      const secret = this.env[exportEnv.hashKey];
      let key: Buffer;
      if (secret) key = Buffer.from(secret, 'utf8');
      else {
        cp.hashKey ??= randomBytes(32).toString('base64');
        key = Buffer.from(cp.hashKey, 'base64');
      }
      hasher = new AddressHasher(key);
    }
    if (resumed) {
      cp.resumes++;
      this.refresh(s, cp);
      this.progress.resumedAt = this.progress.recordsDone;
      log(`resuming after ${this.progress.recordsDone} records (resume ${cp.resumes})`);
    }
    let synced = Date.now();
    /** After a batch is flushed: the checkpoint, the finished files' renames, the progress. */
    const save = async (): Promise<void> => {
      const sync = Date.now() - synced >= SYNC_INTERVAL_MS;
      if (sync) {
        for (const series of this.series) await series.flush(true);
        synced = Date.now();
      }
      await writeCheckpoint(dir, cp, sync);
      for (const series of this.series) await series.publish();
      this.update();
      if (this.stopping)
        throw new ExportFailure(
          'Terminated',
          `stopped by a signal after ${this.progress.recordsDone} records; a new run resumes from the checkpoint`,
        );
    };

    // The files first: a checkpoint that does not match them (ResumeError) means starting afresh.
    const compress = s.compression === 'gzip';
    const open = async (
      type: 'logs' | 'anomalies',
      fields: string[],
      saved: { series: SeriesState; validation: ValidationState } | undefined,
    ): Promise<{ series: FileSeries; validator: Validator }> => {
      const encoder = encoderFor(s.format, fields);
      const prefix = `${s.name}-${type}`;
      const series = saved
        ? await FileSeries.resume(dir, prefix, encoder, compress, s.maxFileSize, saved.series)
        : FileSeries.create(dir, prefix, encoder, compress, s.maxFileSize);
      const validator = new Validator(fields, ['id'], saved?.validation ?? emptyValidation(fields));
      this.series.push(series);
      this.validators.set(type, validator);
      this.closers.push(() => series.abandon());
      return { series, validator };
    };
    const logShaper = s.dataTypes.includes('logs')
      ? new LogShaper(s.mapping!, s.timestamps, hasher)
      : undefined;
    const logOut = logShaper ? await open('logs', logShaper.fields, cp.logs) : undefined;
    const anomalyShaper = s.dataTypes.includes('anomalies') ? new AnomalyShaper(hasher) : undefined;
    const anomalyOut = anomalyShaper
      ? await open('anomalies', anomalyShaper.fields, cp.anomalies)
      : undefined;

    // Counting: the logs' total comes with the cursor (one snapshot), the anomalies' by a pass.
    this.progress = { ...this.progress, state: 'counting' };
    let logs: { reader: LogReader; total: number } | undefined;
    if (s.dataTypes.includes('logs') && !cp.logs?.done) {
      const connection = await loadConnection(this.env, s.sslMode ?? 'verify-full').catch(
        (error: Error) => {
          throw new ExportFailure('InvalidEnvironment', error.message, exportExit.badSpec);
        },
      );
      const reader = new LogReader({
        connection,
        mapping: s.mapping!,
        from: s.from.iso,
        to: s.to.iso,
        programs: s.filters.programs,
        devices: s.filters.devices,
        levels: s.filters.levels,
        batchSize: s.batchSize,
      });
      this.closers.push(() => reader.close());
      await reader.inspect();
      logs = { reader, total: await reader.open(cp.logs?.key) };
    }
    const sources = s.anomalySources.filter(
      (a) => !s.filters.agents || s.filters.agents.includes(a.kind),
    );
    let anomaliesTotal = 0;
    if (s.dataTypes.includes('anomalies') && !cp.anomalies?.done)
      for (const source of sources) anomaliesTotal += await this.countAnomalies(s, source);
    // Both count the whole window (also when resuming), as rows read.
    cp.recordsTotal =
      (logs ? logs.total : (cp.logs?.validation.rows ?? 0)) +
      (cp.anomalies?.done ? cp.anomalies.validation.rows : anomaliesTotal);
    this.progress = { ...this.progress, state: 'running', recordsTotal: cp.recordsTotal };
    log(
      `exporting ${s.dataTypes.join(' and ')} of [${s.from.iso}, ${s.to.iso}): ${cp.recordsTotal} records${resumed ? '' : ' to read'}`,
    );

    if (logShaper && logOut) {
      const { series, validator } = logOut;
      if (logs) {
        const hasId = s.mapping!.columns.id !== undefined;
        let key: LogKey | undefined = cp.logs?.key;
        let next = logs.reader.next();
        for (;;) {
          const rows = await next;
          if (rows.length === 0) break;
          next = logs.reader.next(); // the next batch is read while this one is written
          next.catch(() => undefined);
          for (const row of rows) {
            const wait = this.write(s, validator, series, logShaper.shape(row));
            if (wait) await wait;
          }
          key = keyAfter(rows, key, hasId);
          await series.flush(false);
          cp.logs = {
            series: series.snapshot(),
            validation: validator.snapshot(),
            key,
            done: false,
          };
          await save();
        }
        await logs.reader.close();
      }
      await series.close();
      cp.logs = {
        key: cp.logs?.key,
        series: series.snapshot(),
        validation: validator.snapshot(),
        done: true,
      };
      await save();
    }

    if (anomalyShaper && anomalyOut) {
      const { series, validator } = anomalyOut;
      const state: AnomaliesState = cp.anomalies ?? {
        series: series.snapshot(),
        validation: validator.snapshot(),
        sources: {},
        done: false,
      };
      if (!state.done) {
        for (const source of sources) {
          const position = (state.sources[source.pod] ??= { done: false });
          const reader = new AnomalyReader(source, {
            from: s.from.iso,
            to: s.to.iso,
            minSeverity: s.filters.minSeverity,
            pageSize: s.batchSize,
          });
          while (!position.done) {
            const page = await reader.page(position.after);
            if (page.length === 0) position.done = true;
            for (const a of page) {
              if (!this.selected(s, a)) continue;
              const wait = this.write(s, validator, series, anomalyShaper.shape(a, source.agent));
              if (wait) await wait;
            }
            if (page.length > 0) position.after = anomalyCursor(page[page.length - 1]!);
            await series.flush(false);
            cp.anomalies = {
              ...state,
              series: series.snapshot(),
              validation: validator.snapshot(),
            };
            await save();
          }
        }
      }
      await series.close();
      state.done = true;
      cp.anomalies = { ...state, series: series.snapshot(), validation: validator.snapshot() };
      await save();
    }

    const files = [
      ...(cp.logs?.series.files ?? []).map((f) => ({ dataType: 'logs', ...f })),
      ...(cp.anomalies?.series.files ?? []).map((f) => ({ dataType: 'anomalies', ...f })),
    ];
    const manifest = manifestName(s.name);
    await writeAtomically(
      path.join(dir, manifest),
      `${JSON.stringify(
        {
          apiVersion: 'edgewarden.io/v1alpha1',
          kind: 'ExportManifest',
          name: s.name,
          namespace: s.plan.namespace,
          uid: s.uid,
          from: s.from.iso,
          to: s.to.iso,
          startedAt: cp.startedAt,
          finishedAt: new Date().toISOString(),
          resumes: cp.resumes,
          records: {
            ...(cp.logs ? { logs: cp.logs.validation.written } : {}),
            ...(cp.anomalies ? { anomalies: cp.anomalies.validation.written } : {}),
          },
          recordsTotal: cp.recordsTotal,
          bytes: files.reduce((n, f) => n + f.bytes, 0),
          files,
          validation: this.progress.validation,
          spec: specSummary(s),
        },
        null,
        2,
      )}\n`,
    );
    cp.complete = true;
    cp.manifest = manifest;
    delete cp.hashKey; // no longer needed, and not worth keeping beside the files
    await writeCheckpoint(dir, cp, true);
    this.progress = { ...this.progress, manifest };
    log(
      `done: ${this.progress.recordsDone} records in ${files.length} files, ${this.progress.bytes} bytes; manifest ${manifest}`,
    );
  }

  /** The filters that /anomalies cannot apply: devices and agent kinds. */
  private selected(s: ExportSettings, a: { device: string; agent: string }): boolean {
    if (s.filters.devices && !s.filters.devices.includes(a.device)) return false;
    if (s.filters.agents && !s.filters.agents.includes(a.agent)) return false;
    return true;
  }

  private async countAnomalies(
    s: ExportSettings,
    source: ExportSettings['anomalySources'][number],
  ): Promise<number> {
    const reader = new AnomalyReader(source, {
      from: s.from.iso,
      to: s.to.iso,
      minSeverity: s.filters.minSeverity,
      pageSize: 10_000,
    });
    let n = 0;
    let after: string | undefined;
    for (;;) {
      const page = await reader.page(after);
      if (page.length === 0) return n;
      for (const a of page) if (this.selected(s, a)) n++;
      after = anomalyCursor(page[page.length - 1]!);
    }
  }

  /** One record through the checks into its file; a promise only when a file begins or ends. */
  private write(
    s: ExportSettings,
    validator: Validator,
    series: FileSeries,
    shaped: Shaped,
  ): Promise<void> | undefined {
    validator.row();
    if (!shaped.ok) return void validator.reject(shaped.reason);
    if (shaped.time < s.from.ms || shaped.time >= s.to.ms) return void validator.outOfRange();
    validator.written(shaped.record, shaped.timeKey);
    return series.add(shaped.record);
  }
}

function asFailure(error: unknown): ExportFailure {
  if (error instanceof ExportFailure) return error;
  if (error instanceof UnwritableFolderError)
    return new ExportFailure('WriteFailed', error.message);
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new ExportFailure('DiskFull', `the destination volume is full: ${message}`);
  if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')
    return new ExportFailure('WriteFailed', `cannot write the export folder: ${message}`);
  return new ExportFailure('Failed', message);
}

/** `edgewarden export --clean`: removes the export's files, manifest and checkpoint. */
export async function cleanExport(env: Env = process.env): Promise<number> {
  try {
    const settings = settingsOf(await readPlan(env[exportEnv.plan] ?? exportDefaults.plan));
    const dir = env[exportEnv.dir] ?? exportDefaults.volume;
    const removed = await removeExportFiles(dir, settings.name);
    await removeCheckpoint(dir, settings.uid);
    log(`removed ${removed.length} files of ${settings.name} and its checkpoint from ${dir}`);
    return exportExit.ok;
  } catch (error) {
    const failure = asFailure(error);
    console.error(`edgewarden export --clean: ${failure.reason}: ${failure.message}`);
    return failure.exitCode;
  }
}
