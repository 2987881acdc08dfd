// A real Redis server for the data-path and end-to-end tests (Debian's redis-server), on a
// free port of loopback (and of the addresses given), with no persistence. stop() and start() let a test take it away and bring it back.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';

import { freePort } from './net.js';

const run = promisify(execFile);

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * `password`: require it (requirepass), as a production Redis would. `addresses`: listen there
 * too (the test node's address, where its pods reach this machine); `url` names the first.
 */
export async function startRedis(
  password?: string,
  addresses: string[] = [],
): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        ...addresses,
        // Bound to named addresses only: Redis's protected mode (for servers that listen
        // everywhere without a password) would refuse the pods.
        '--protected-mode',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--loglevel',
        'warning',
        ...(password ? ['--requirepass', password] : []),
      ],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(
          "redis-server exited (is Debian's redis-server installed? bash .ci/run installs it)",
        );
      if (
        await run('redis-cli', [
          '-p',
          String(port),
          ...(password ? ['--no-auth-warning', '-a', password] : []),
          'ping',
        ]).then(
          (r) => r.stdout.trim() === 'PONG',
          () => false,
        )
      )
        return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return { url: `redis://${addresses[0] ?? '127.0.0.1'}:${port}/0`, port, stop, start };
}
