// A group of long-running processes started for a test cluster (the control plane's, or a
// node's): each logs straight to its own file, a wait fails early with the log's tail if one
// of them dies, and they stop in the reverse order of their start.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface Started {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export interface ProcessGroup {
  launch: (name: string, binary: string, args: string[]) => Started;
  /** Polls until `ready` holds, failing early (with the log's tail) if a process exits. */
  waitFor: (what: string, ready: () => Promise<boolean>, timeoutMs?: number) => Promise<void>;
  /** The last lines of a process's log. */
  tail: (name: string, lines?: number) => Promise<string>;
  /** SIGTERM each, newest first; SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>;
  /** SIGKILL every process at once, synchronously: for a process 'exit' handler. */
  killSync: () => void;
  /** The process ids of what is still running, by name. */
  pids: () => Record<string, number>;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function processGroup(logs: string): ProcessGroup {
  const started: Started[] = [];
  const tail = async (name: string, lines = 30): Promise<string> =>
    (await readFile(path.join(logs, `${name}.log`), 'utf8').catch(() => ''))
      .split('\n')
      .slice(-lines)
      .join('\n');
  return {
    launch(name, binary, args) {
      // The child writes its log straight to the file: no pipes through this process.
      const log = openSync(path.join(logs, `${name}.log`), 'a');
      const child = spawn(binary, args, { stdio: ['ignore', log, log] });
      closeSync(log);
      const exited = new Promise<number | null>((resolve) =>
        child.on('exit', (code) => resolve(code)),
      );
      const entry = { name, child, exited };
      started.push(entry);
      return entry;
    },
    async waitFor(what, ready, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const dead = started.find((s) => s.child.exitCode !== null);
        if (dead)
          throw new Error(
            `${dead.name} exited with ${dead.child.exitCode}:\n${await tail(dead.name)}`,
          );
        if (await ready().catch(() => false)) return;
        await sleep(250);
      }
      throw new Error(`timed out waiting for ${what}`);
    },
    tail,
    async stop(graceMs = 10_000) {
      for (const { child, exited } of [...started].reverse()) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        child.kill('SIGTERM');
        // The fallback timer is unref'd: once the process has exited it must not hold ours open.
        const done = await Promise.race([
          exited.then(() => true),
          new Promise<false>((r) => setTimeout(r, graceMs, false).unref()),
        ]);
        if (!done) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      started.length = 0;
    },
    killSync() {
      for (const { child } of started) if (child.exitCode === null) child.kill('SIGKILL');
    },
    pids() {
      return Object.fromEntries(
        started
          .filter((s) => s.child.exitCode === null && s.child.pid)
          .map((s) => [s.name, s.child.pid!]),
      );
    },
  };
}
