// A series of export files for one data type: <name>-<dataType>-0001.<ext>[.gz], -0002, ...
// Each is written as a hidden partial file (.<file>.partial) and renamed to its name only once
// complete and recorded in a checkpoint, so a reader never sees half a file. A new file starts
// when the current one's size before compression would pass maxFileSize.
//
// Bytes reach the partial file once per batch (flush): with gzip, each flush is one complete
// gzip member (concatenated members are one valid gzip file), so the file can be cut back to
// any checkpointed length and continued. The SHA-256 is computed as bytes are written; after
// a resume, the kept prefix is read once to pick the digest up again.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream, writeSync } from 'node:fs';
import { open, readdir, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

import type { ExportFile } from '../contract/export.js';
import type { Encoder } from './formats.js';

const gzip = promisify(gzipCallback);

/** The file being written, as a checkpoint records it. */
export interface OpenFile {
  name: string;
  /** Bytes in the partial file (after compression) at the checkpoint. */
  bytes: number;
  /** Bytes before compression, head included (tail not yet). */
  uncompressed: number;
  records: number;
  /** SHA-256 of those `bytes`: a resume checks the file still holds them. */
  sha256?: string;
}

export interface SeriesState {
  nextIndex: number;
  current?: OpenFile;
  files: ExportFile[];
}

/** The files on disk do not match the checkpoint (a partial file lost or shorter). */
export class ResumeError extends Error {}

export const partialName = (name: string): string => `.${name}.partial`;

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot sync a directory; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

export const exists = (file: string): Promise<boolean> =>
  stat(file).then(
    () => true,
    () => false,
  );

export class FileSeries {
  private handle: FileHandle | undefined;
  private hash: Hash | undefined;
  private pending: string[] = [];
  /** Bytes added (before compression) since the last flush. */
  private pendingBytes = 0;
  private readonly tailBytes: number;
  /** Finished files whose rename waits for the checkpoint that records them. */
  private toRename: string[] = [];
  private readonly state: SeriesState;

  private constructor(
    private readonly dir: string,
    /** <name>-<dataType> */
    private readonly prefix: string,
    private readonly encoder: Encoder,
    private readonly compress: boolean,
    private readonly maxFileSize: number,
    state: SeriesState,
  ) {
    this.state = structuredClone(state);
    this.tailBytes = Buffer.byteLength(encoder.tail());
  }

  static create(
    dir: string,
    prefix: string,
    encoder: Encoder,
    compress: boolean,
    maxFileSize: number,
  ): FileSeries {
    return new FileSeries(dir, prefix, encoder, compress, maxFileSize, { nextIndex: 1, files: [] });
  }

  /**
   * Picks up a checkpointed series: finishes the renames it recorded, cuts the partial file
   * back to its checkpointed length (dropping what was written after), and re-reads that
   * prefix for the digest.
   */
  static async resume(
    dir: string,
    prefix: string,
    encoder: Encoder,
    compress: boolean,
    maxFileSize: number,
    state: SeriesState,
  ): Promise<FileSeries> {
    const series = new FileSeries(dir, prefix, encoder, compress, maxFileSize, state);
    for (const f of state.files) {
      if (await exists(path.join(dir, f.name))) continue;
      const partial = path.join(dir, partialName(f.name));
      if (!(await exists(partial))) throw new ResumeError(`${f.name}: the finished file is gone`);
      await rename(partial, path.join(dir, f.name));
    }
    const current = state.current;
    if (current) {
      const file = path.join(dir, partialName(current.name));
      // A power loss may keep a rename (to the final name) that the checkpoint on disk predates.
      if (!(await exists(file)) && (await exists(path.join(dir, current.name))))
        await rename(path.join(dir, current.name), file);
      const size = await stat(file).then(
        (s) => s.size,
        () => -1,
      );
      if (size < current.bytes)
        throw new ResumeError(
          `${partialName(current.name)}: ${size < 0 ? 'missing' : `${size} bytes`}, the checkpoint has ${current.bytes}`,
        );
      if (size > current.bytes) await truncate(file, current.bytes);
      const hash = createHash('sha256');
      if (current.bytes > 0)
        for await (const chunk of createReadStream(file, { end: current.bytes - 1 }))
          hash.update(chunk as Buffer);
      // After a power loss the file may hold other bytes than those checkpointed (the
      // checkpoint can reach the disk before the data it describes): never build on them.
      if (current.sha256 !== undefined && hash.copy().digest('hex') !== current.sha256)
        throw new ResumeError(
          `${partialName(current.name)}: its bytes differ from the checkpoint's`,
        );
      series.hash = hash;
      series.handle = await open(file, 'a');
    }
    await series.removeStrayPartials();
    return series;
  }

  /** Partial files of this series that no checkpoint refers to (a file begun after the last one). */
  private async removeStrayPartials(): Promise<void> {
    const keep = this.state.current ? partialName(this.state.current.name) : undefined;
    for (const entry of await readdir(this.dir)) {
      if (entry.startsWith(`.${this.prefix}-`) && entry.endsWith('.partial') && entry !== keep)
        await unlink(path.join(this.dir, entry)).catch(() => undefined);
    }
  }

  private fileName(index: number): string {
    return `${this.prefix}-${String(index).padStart(4, '0')}.${this.encoder.extension}${this.compress ? '.gz' : ''}`;
  }

  private async begin(): Promise<OpenFile> {
    const name = this.fileName(this.state.nextIndex++);
    this.handle = await open(path.join(this.dir, partialName(name)), 'w');
    this.hash = createHash('sha256');
    const head = this.encoder.head();
    this.pending.push(head);
    this.pendingBytes += Buffer.byteLength(head);
    const file: OpenFile = { name, bytes: 0, uncompressed: Buffer.byteLength(head), records: 0 };
    this.state.current = file;
    return file;
  }

  /**
   * Adds one record (to a new file when the current one would pass maxFileSize). Returns a
   * promise only when a file had to be begun or ended: most records cost no await.
   */
  add(value: Record<string, unknown>): Promise<void> | undefined {
    const file = this.state.current;
    if (!file) return this.begin().then(() => this.add(value));
    const text = this.encoder.record(value, file.records === 0);
    const size = Buffer.byteLength(text);
    if (file.records > 0 && file.uncompressed + size + this.tailBytes > this.maxFileSize)
      return this.close()
        .then(() => this.begin())
        .then(() => this.add(value));
    this.pending.push(text);
    this.pendingBytes += size;
    file.uncompressed += size;
    file.records++;
    return undefined;
  }

  /**
   * Writes what was added since the last flush (one gzip member); with `sync`, also to the
   * disk (fdatasync) before returning.
   */
  async flush(sync: boolean): Promise<void> {
    const file = this.state.current;
    if (!file) return;
    if (this.pending.length > 0) {
      let data = Buffer.from(this.pending.join(''));
      this.pending = [];
      this.pendingBytes = 0;
      if (this.compress) data = await gzip(data);
      // Synchronously: one batch's bytes, where a trip through the thread pool costs more.
      let offset = 0;
      while (offset < data.length)
        offset += writeSync(this.handle!.fd, data, offset, data.length - offset);
      this.hash!.update(data);
      file.bytes += data.length;
    }
    if (sync) await this.handle!.datasync();
  }

  /** Ends the current file: its tail, flushed, closed, recorded; renamed after the next checkpoint. */
  async close(): Promise<void> {
    const file = this.state.current;
    if (!file) return;
    const tail = this.encoder.tail();
    if (tail) this.pending.push(tail);
    file.uncompressed += this.tailBytes;
    await this.flush(true); // a finished file is on disk before a checkpoint names it
    await this.handle!.close();
    this.handle = undefined;
    this.state.files.push({
      name: file.name,
      records: file.records,
      bytes: file.bytes,
      sha256: this.hash!.digest('hex'),
    });
    this.toRename.push(file.name);
    this.state.current = undefined;
  }

  /** After the checkpoint that lists them: finished files take their names. */
  async publish(): Promise<void> {
    if (this.toRename.length === 0) return;
    for (const name of this.toRename)
      await rename(path.join(this.dir, partialName(name)), path.join(this.dir, name));
    this.toRename = [];
    await fsyncDir(this.dir);
  }

  /** Bytes added and not yet flushed (before compression): the run flushes past a threshold. */
  buffered(): number {
    return this.pendingBytes;
  }

  /** Whether files were finished since the last publish: their renames wait for a checkpoint. */
  unpublished(): boolean {
    return this.toRename.length > 0;
  }

  /** The state to checkpoint (call after flush), with the digest of the bytes flushed so far. */
  snapshot(): SeriesState {
    const file = this.state.current;
    // Digested here, once per checkpoint, rather than at every flush.
    if (file && this.hash) file.sha256 = this.hash.copy().digest('hex');
    return structuredClone(this.state);
  }

  files(): ExportFile[] {
    return this.state.files;
  }

  /** Bytes on disk: finished files and the flushed part of the current one. */
  bytes(): number {
    return this.state.files.reduce((n, f) => n + f.bytes, 0) + (this.state.current?.bytes ?? 0);
  }

  /** Drops the open handle without finishing (the run stops; the checkpoint keeps the place). */
  async abandon(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }
}
