// One run of an export from a checkpoint (new or resumed): the files opened first, the window
// counted, then each data type's records written batch by batch by one loop, a checkpoint
// about once a second, and the manifest at the end.
//
// A batch: rows read, each shaped (or rejected, or out of range), validated and encoded into
// the current file's buffer. Past FLUSH_BYTES of buffered text, or when a file ended in the
// batch, the buffer is written to the file (flush points depend only on the data, so gzip
// members and thus the bytes of the files are the same however often the run checkpoints or
// is resumed). At a flush point, once CHECKPOINT_INTERVAL_MS has passed (or a file ended, or
// a SIGTERM asks to stop): the checkpoint written (atomically), files finished since the last
// one renamed to their names, progress updated. Killed anywhere, the next run cuts the
// partial file back to the last checkpoint and goes on after its key: every row ends up in
// the files exactly once.
import { randomBytes } from 'node:crypto';

import { exportEnv, type ExportProgress } from '../contract/export.js';
import { AddressHasher } from './addresses.js';
import { writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { componentLog } from '../log.js';
import { writeManifest } from './manifest.js';
import { openOutput, writeRecord, type Output } from './output.js';
import { ExportFailure, type ExportSettings } from './plan.js';
import { progressOfCheckpoint, progressOfOutputs } from './progress.js';
import { recordSources, type RecordSource } from './recordSources.js';

const log = componentLog('export', 'stdout');

type Env = Readonly<Record<string, string | undefined>>;

/** Data and checkpoint are forced to disk at most this often (and at every file's end). */
const SYNC_INTERVAL_MS = 1000;
/**
 * A checkpoint at most this often (and at every file's end): one per batch (a temporary file,
 * a write and a rename every 1000 rows) took a tenth of an export's time. A kill loses at most
 * this much work, which the next run does again.
 */
const CHECKPOINT_INTERVAL_MS = 1000;
/** Text buffered (before compression) before it is written to the file: bounded memory. */
export const FLUSH_BYTES = 256 << 10;

export interface RunContext {
  settings: ExportSettings;
  dir: string;
  env: Env;
  /** The served progress: read and replaced as the run goes. */
  live: { progress: ExportProgress };
  /** True once a SIGTERM asks the run to stop after its batch. */
  stopping: () => boolean;
  /** What to close or abandon when the program ends, however it ends. */
  closers: (() => Promise<void>)[];
}

export class ExportRun {
  private readonly outputs: Output[] = [];
  private synced = Date.now();
  private checkpointed = Date.now();

  constructor(
    private readonly c: RunContext,
    private readonly cp: Checkpoint,
    private readonly resumed: boolean,
  ) {}

  async run(): Promise<void> {
    const { settings: s, dir, env, closers } = this.c;
    const hasher = s.hashAddresses ? new AddressHasher(this.hashKey(env)) : undefined;
    if (this.resumed) {
      this.cp.resumes++;
      this.set(progressOfCheckpoint(this.progress, this.cp));
      this.progress.resumedAt = this.progress.recordsDone;
      log.info(`resuming after ${this.progress.recordsDone} records (resume ${this.cp.resumes})`);
    }
    const sources = recordSources(s, this.cp, hasher, env);
    // The files first: a checkpoint that does not match them (ResumeError) means starting afresh.
    for (const source of sources) {
      const output = await openOutput(s, dir, source.type, source.fields, this.cp[source.type]);
      this.outputs.push(output);
      closers.push(() => output.series.abandon());
    }
    for (const source of sources) closers.push(() => source.close());
    await this.count(sources);
    for (const [i, source] of sources.entries()) await this.exportRecords(source, this.outputs[i]!);
    await this.finish();
  }

  /** After a ResumeError: the files this run opened are given up, for a run afresh. */
  async abandon(): Promise<void> {
    for (const { series } of this.outputs) await series.abandon();
  }

  private get progress(): ExportProgress {
    return this.c.live.progress;
  }

  private set(progress: ExportProgress): void {
    this.c.live.progress = progress;
  }

  /** The Secret's key, else a random one kept in the checkpoint so a resumed run hashes alike. */
  private hashKey(env: Env): Buffer {
    const secret = env[exportEnv.hashKey];
    if (secret) return Buffer.from(secret, 'utf8');
    this.cp.hashKey ??= randomBytes(32).toString('base64');
    return Buffer.from(this.cp.hashKey, 'base64');
  }

  private async count(sources: RecordSource[]): Promise<void> {
    this.set({ ...this.progress, state: 'counting' });
    let total = 0;
    for (const source of sources) total += await source.count();
    this.cp.recordsTotal = total;
    this.set({ ...this.progress, state: 'running', recordsTotal: total });
    const { settings: s } = this.c;
    log.info(
      `exporting ${s.dataTypes.join(' and ')} of [${s.from.iso}, ${s.to.iso}): ${total} records${this.resumed ? '' : ' to read'}`,
    );
  }

  /** The one loop: each batch into the files, then its checkpoint; the files closed at the end. */
  private async exportRecords(source: RecordSource, out: Output): Promise<void> {
    const { settings: s } = this.c;
    for await (const batch of source.batches()) {
      for (const shaped of batch) {
        const wait = writeRecord(s, out, shaped);
        if (wait) await wait;
      }
      // A flush point only where the data says so (see the top of this file).
      if (out.series.buffered() < FLUSH_BYTES && !out.series.unpublished()) continue;
      await out.series.flush(false);
      if (!this.checkpointDue(out)) continue;
      source.reached(this.cp, out, false);
      await this.save();
    }
    await out.series.close();
    source.reached(this.cp, out, true);
    await this.save();
  }

  /** At a flush point: whether to checkpoint there. */
  private checkpointDue(out: Output): boolean {
    return (
      out.series.unpublished() ||
      this.c.stopping() ||
      Date.now() - this.checkpointed >= CHECKPOINT_INTERVAL_MS
    );
  }

  /** After a flush: the checkpoint, the finished files' renames, the progress. */
  private async save(): Promise<void> {
    this.checkpointed = Date.now();
    const sync = Date.now() - this.synced >= SYNC_INTERVAL_MS;
    if (sync) {
      for (const { series } of this.outputs) await series.flush(true);
      this.synced = Date.now();
    }
    await writeCheckpoint(this.c.dir, this.cp, sync);
    for (const { series } of this.outputs) await series.publish();
    this.set(progressOfOutputs(this.progress, this.outputs));
    if (this.c.stopping())
      throw new ExportFailure(
        'Terminated',
        `stopped by a signal after ${this.progress.recordsDone} records; a new run resumes from the checkpoint`,
      );
  }

  private async finish(): Promise<void> {
    const { settings: s, dir } = this.c;
    const { manifest, files } = await writeManifest(dir, s, this.cp, this.progress.validation);
    this.cp.complete = true;
    this.cp.manifest = manifest;
    delete this.cp.hashKey; // no longer needed, and not worth keeping beside the files
    await writeCheckpoint(dir, this.cp, true);
    this.set({ ...this.progress, manifest });
    log.info(
      `done: ${this.progress.recordsDone} records in ${files} files, ${this.progress.bytes} bytes; manifest ${manifest}`,
    );
  }
}
