// `edgewarden export`, an ExportJob's pod: reads the plan, exports logs (PostgreSQL) and
// anomalies (the agent pods' GET /anomalies) of [from, to) into files on the destination
// volume, batch by batch, with a checkpoint about once a second (exportRun.ts); serves its
// progress; writes a manifest at the end and its last progress as the termination message.
// This file is the program around a run: its environment, the checkpoint it starts from (go on,
// report a complete export again, or start afresh), and how it ends.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

import { exportDefaults, exportEnv, exportExit, type ExportProgress } from '../contract/export.js';
import { withSecretFiles } from '../files/secretFiles.js';
import { ensureWritableFolder, UnwritableFolderError } from '../files/writableFolder.js';
import { readCheckpoint, removeCheckpoint, type Checkpoint } from './checkpoint.js';
import { removeExportFiles } from './exportFileNames.js';
import { componentLog } from '../log.js';
import { ExportRun } from './exportRun.js';
import { ResumeError } from './files.js';
import { exportPlace, progressPort } from './options.js';
import { ExportFailure, readPlan, settingsOf, type ExportSettings } from './plan.js';
import { progressOfCheckpoint, startingProgress, terminationMessage } from './progress.js';
import { ProgressServer } from './progressServer.js';

const log = componentLog('export', 'stdout');

type Env = Readonly<Record<string, string | undefined>>;

/** Overrides the termination message's path (tests; Kubernetes uses the default). */
export const TERMINATION_MESSAGE_ENV = 'EDGEWARDEN_TERMINATION_MESSAGE';

export class Exporter {
  private readonly live: { progress: ExportProgress } = { progress: startingProgress() };
  private stopping = false;
  private closers: (() => Promise<void>)[] = [];

  constructor(private env: Env = process.env) {}

  /**
   * SIGTERM: go on to the next flush point (at most FLUSH_BYTES further), checkpoint there,
   * and stop (exit 1: the Job resumes it).
   */
  stop(): void {
    this.stopping = true;
  }

  current(): ExportProgress {
    return this.live.progress;
  }

  /** The exit code; on failure, `current().error` says why (the CLI prints it). */
  async run(): Promise<number> {
    let server: ProgressServer | undefined;
    let code: number = exportExit.ok;
    try {
      server = await ProgressServer.listen(progressPort(this.env), () => this.live.progress);
      // Secrets the pod was given as files (`<VARIABLE>_FILE`), read once (issue 20, Lows).
      this.env = await withSecretFiles(this.env).catch((error: Error) => {
        throw new ExportFailure('InvalidEnvironment', error.message, exportExit.badSpec);
      });
      log.info(`serving on port ${server.port()}`);
      const place = exportPlace(this.env);
      const settings = settingsOf(await readPlan(place.planFile));
      await ensureWritableFolder(place.dir, {
        what: "the export's files, manifest and checkpoint",
        setting: exportEnv.dir,
      });
      await this.export(settings, place.dir);
      this.live.progress = { ...this.live.progress, state: 'succeeded' };
    } catch (error) {
      const failure = asFailure(error);
      code = failure.exitCode;
      this.live.progress = {
        ...this.live.progress,
        state: 'failed',
        error: { reason: failure.reason, message: failure.message },
      };
      log.error('export failed', failure, { reason: failure.reason });
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
      await writeFile(file, terminationMessage(this.live.progress));
    } catch (error) {
      log.error('cannot write the termination message', error, { file });
    }
  }

  /** From the checkpoint when it is of this plan: go on, or report it done; else afresh. */
  private async export(s: ExportSettings, dir: string): Promise<void> {
    const cp = await this.checkpointOf(s, dir);
    if (cp?.complete) {
      // Already done (the pod ended before reporting): report it again.
      this.live.progress = {
        ...progressOfCheckpoint(this.live.progress, cp),
        manifest: cp.manifest,
      };
      log.info(
        `already complete: ${this.live.progress.recordsDone} records, manifest ${cp.manifest}`,
      );
      return;
    }
    if (cp) {
      const run = this.runFrom(s, dir, cp, true);
      try {
        await run.run();
        return;
      } catch (error) {
        if (!(error instanceof ResumeError)) throw error;
        log.info(`cannot resume (${error.message}); starting afresh`);
        await run.abandon();
      }
    }
    const removed = await removeExportFiles(dir, s.name);
    if (removed.length > 0)
      log.info(`removed ${removed.length} files of an earlier export named ${s.name}`);
    await removeCheckpoint(dir, s.uid);
    const fresh: Checkpoint = {
      version: 1,
      uid: s.uid,
      plan: s.digest,
      startedAt: this.live.progress.startedAt!,
      resumes: 0,
    };
    await this.runFrom(s, dir, fresh, false).run();
  }

  /** The checkpoint to go on from: none when unreadable or of another plan. */
  private async checkpointOf(s: ExportSettings, dir: string): Promise<Checkpoint | undefined> {
    let cp: Checkpoint | undefined;
    try {
      cp = await readCheckpoint(dir, s.uid);
    } catch (error) {
      log.info(`checkpoint unreadable, starting afresh: ${(error as Error).message}`);
    }
    if (cp && cp.plan !== s.digest) {
      log.info('checkpoint is of another plan, starting afresh');
      return undefined;
    }
    return cp;
  }

  private runFrom(s: ExportSettings, dir: string, cp: Checkpoint, resumed: boolean): ExportRun {
    const context = {
      settings: s,
      dir,
      env: this.env,
      live: this.live,
      stopping: () => this.stopping,
      closers: this.closers,
    };
    return new ExportRun(context, cp, resumed);
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
    const { planFile, dir } = exportPlace(env);
    const settings = settingsOf(await readPlan(planFile));
    const removed = await removeExportFiles(dir, settings.name);
    await removeCheckpoint(dir, settings.uid);
    log.info(`removed ${removed.length} files of ${settings.name} and its checkpoint from ${dir}`);
    return exportExit.ok;
  } catch (error) {
    const failure = asFailure(error);
    log.error('export --clean failed', failure, { reason: failure.reason });
    return failure.exitCode;
  }
}
