// Hot reload of a model directory: watched for changes (fs.watch, with a poll as fallback and
// as insurance: watches miss events on some volumes), a changed model is loaded beside the one
// serving and swapped in atomically; one that fails to load is refused, the old one keeps
// serving, and status() says why.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { servedModelDir } from './install.js';
import { loadModel } from './loadModel.js';
import { ModelError, type ModelFailureReason } from './manifest.js';
import type { LoadedModel } from './model.js';

export interface ModelStatus {
  version?: string;
  sha256?: string;
  features?: string[];
  threshold?: number;
  loadedAt?: string;
  lastFailure?: { reason: ModelFailureReason; message: string; time: string };
}

export interface WatcherOptions {
  /** How often the directory is checked even without a watch event (default 10 s). */
  pollMs?: number;
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  /** Called after every load attempt, with the status after it. */
  onChange?(status: ModelStatus): void;
}

export class ModelWatcher {
  private model: LoadedModel | undefined;
  private state: ModelStatus = {};
  private fingerprint = '';
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private checking: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly options: WatcherOptions = {},
  ) {}

  /** Loads what is there now (a failure is recorded, not thrown) and starts watching. */
  async start(): Promise<void> {
    await this.check();
    if (this.options.watch ?? true) {
      try {
        this.watcher = watch(this.dir, () => {
          clearTimeout(this.debounce);
          // Files change in several steps (model, then manifest): act once they settle.
          this.debounce = setTimeout(() => void this.check(), 200);
        });
        this.watcher.on('error', () => this.watcher?.close());
      } catch {
        this.watcher = undefined; // the poll below still sees changes
      }
    }
    this.timer = setInterval(() => void this.check(), this.options.pollMs ?? 10_000);
    this.timer.unref();
  }

  current(): LoadedModel | undefined {
    return this.model;
  }

  status(): ModelStatus {
    return { ...this.state };
  }

  /** Checks the directory now; resolves after any load it started. */
  check(): Promise<void> {
    this.checking = this.checking.then(() => this.reloadIfChanged());
    return this.checking;
  }

  /**
   * Serves a model already loaded from the folder's current files (installModel made it
   * current): no second load, and the next check sees nothing new.
   */
  adopt(model: LoadedModel): Promise<void> {
    this.checking = this.checking.then(async () => {
      this.fingerprint = await this.fingerprintOf();
      await this.swap(model);
      this.options.onChange?.(this.status());
    });
    return this.checking;
  }

  /** Serves no model any more (uninstallModel removed the current link). */
  unload(): Promise<void> {
    this.checking = this.checking.then(async () => {
      this.fingerprint = await this.fingerprintOf();
      const previous = this.model;
      this.model = undefined;
      this.state = {};
      await previous?.retire();
      this.options.onChange?.(this.status());
    });
    return this.checking;
  }

  /** Records a refused offer as the last failure (the model serving stays). */
  refused(error: ModelError): void {
    this.recordFailure(error);
    this.options.onChange?.(this.status());
  }

  private recordFailure(error: unknown): void {
    const failure =
      error instanceof ModelError
        ? { reason: error.reason, message: error.message }
        : { reason: 'InvalidModel' as const, message: (error as Error).message };
    this.state = { ...this.state, lastFailure: { ...failure, time: new Date().toISOString() } };
  }

  private async swap(next: LoadedModel): Promise<void> {
    const previous = this.model;
    this.model = next; // the swap: a cycle holding the old model finishes with it
    this.state = {
      version: next.manifest.version,
      sha256: next.manifest.sha256,
      features: next.manifest.features,
      threshold: next.manifest.threshold,
      loadedAt: new Date().toISOString(),
      lastFailure: undefined,
    };
    if (previous !== next) await previous?.retire();
  }

  private async reloadIfChanged(): Promise<void> {
    const fingerprint = await this.fingerprintOf();
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    try {
      await this.swap(await loadModel(await servedModelDir(this.dir)));
    } catch (error) {
      this.recordFailure(error);
    }
    this.options.onChange?.(this.status());
  }

  /** What the files are now: where `current` points, the manifest's text, the model file's size and time. */
  private async fingerprintOf(): Promise<string> {
    const dir = await servedModelDir(this.dir);
    const [manifest, model] = await Promise.all([
      readFile(path.join(dir, 'manifest.json'), 'utf8').catch(() => 'missing'),
      stat(path.join(dir, 'model.onnx')).then(
        (s) => `${s.size}:${s.mtimeMs}:${s.ino}`,
        () => 'missing',
      ),
    ]);
    return `${dir}\0${manifest}\0${model}`;
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    await this.checking;
    await this.model?.retire();
    this.model = undefined;
  }
}
