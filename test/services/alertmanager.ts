// A real Prometheus Alertmanager for the data tests (Debian's prometheus-alertmanager, 0.25),
// started as a process on a free loopback port with its own config file and a data folder in
// a temporary directory, with gossip off (an empty --cluster.listen-address), stopped by its
// pid. stop() and start() let a test take it away and bring it back on the same port; its
// alerts live in memory only, so a restarted one has none (as after a real restart).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

import { freePort } from './net.js';

const BINARY = process.env.EDGEWARDEN_ALERTMANAGER ?? '/usr/bin/prometheus-alertmanager';

/** Routes everything to a receiver that sends nowhere: the tests read the API, not notifications. */
const CONFIG = {
  route: { receiver: 'nowhere', group_by: ['alertname'], group_wait: '1h' },
  receivers: [{ name: 'nowhere' }],
};

export interface AlertmanagerServer {
  url: string;
  port: number;
  log(): string;
  /** Stops the process (SIGTERM, waiting for its exit); its data folder stays for start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  close(): Promise<void>;
}

export async function startAlertmanager(): Promise<AlertmanagerServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-alertmanager-'));
  const configFile = path.join(dir, 'alertmanager.yml');
  await writeFile(configFile, stringify(CONFIG));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let log = '';
  const start = async (): Promise<void> => {
    const proc = spawn(
      BINARY,
      [
        `--config.file=${configFile}`,
        `--storage.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // No gossip: a single instance, and no second port to find free.
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const collect = (d: Buffer): void => void (log = (log + d.toString()).slice(-20_000));
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (proc.exitCode !== null)
        throw new Error(
          `prometheus-alertmanager exited at start (is Debian's prometheus-alertmanager installed? bash .ci/run installs it):\n${log}`,
        );
      const ready = await fetch(`${url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`prometheus-alertmanager did not become ready:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    port,
    log: () => log,
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
