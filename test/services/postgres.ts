// A real PostgreSQL server for the data-path tests: Debian's postgresql package, a fresh
// cluster in a temporary folder, on a free loopback port, with TLS (a CA and a server
// certificate for 127.0.0.1 and localhost, so sslmode verify-full can be tested for real).
// PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { appendFile, chmod, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

import { createCa, issueCertificate } from './certs.js';
import { freePort } from './net.js';

const run = promisify(execFile);
export const SUPERUSER_PASSWORD = 'edgewarden-test-superuser';

export interface PostgresServer {
  host: string;
  port: number;
  /** Superuser (password SUPERUSER_PASSWORD): for setting up test tables only. */
  superuser: string;
  /** PEM of the CA that signed the server certificate. */
  ca: string;
  dir: string;
  /** Stops the server (fast shutdown); start() brings it back on the same port and data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and deletes its folder. */
  remove(): Promise<void>;
}

async function binDir(): Promise<string> {
  for (const dir of ['/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin']) {
    if (
      await readFile(path.join(dir, 'postgres')).then(
        () => true,
        () => false,
      )
    )
      return dir;
  }
  throw new Error(
    "PostgreSQL server binaries not found: install Debian's postgresql package (bash .ci/run does)",
  );
}

async function ids(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
    run('id', ['-u', 'postgres']),
    run('id', ['-g', 'postgres']),
  ]);
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * `addresses`: more addresses to listen on besides 127.0.0.1 (the test node's address, for
 * its pods); the certificate names them too, and password logins over TLS are allowed from them.
 */
export async function startPostgres(addresses: string[] = []): Promise<PostgresServer> {
  const bin = await binDir();
  const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-pg-'));
  const data = path.join(dir, 'data');
  const owner = await ids();
  const asOwner = (command: string, args: string[]): [string, string[]] =>
    owner
      ? [
          'setpriv',
          [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--clear-groups', command, ...args],
        ]
      : [command, args];
  if (owner) await chown(dir, owner.uid, owner.gid);

  // TLS material, readable by the server only.
  await createCa(dir, 'edgewarden-test-pg-ca');
  await issueCertificate(
    dir,
    'server',
    '/CN=localhost',
    `subjectAltName=${['127.0.0.1', ...addresses].map((a) => `IP:${a}`).join(',')},DNS:localhost`,
  );
  await chmod(path.join(dir, 'server.key'), 0o600);
  if (owner)
    for (const f of ['server.key', 'server.crt', 'ca.crt'])
      await chown(path.join(dir, f), owner.uid, owner.gid);

  // Passwords are checked over TCP (scram-sha-256), as on a real server; the socket is trusted.
  await writeFile(path.join(dir, 'pwfile'), `${SUPERUSER_PASSWORD}\n`);
  if (owner) await chown(path.join(dir, 'pwfile'), owner.uid, owner.gid);
  const [initdb, initArgs] = asOwner(path.join(bin, 'initdb'), [
    ...['-D', data, '-U', 'postgres', `--pwfile=${dir}/pwfile`],
    ...['--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync'],
  ]);
  await run(initdb, initArgs);
  if (addresses.length > 0)
    await appendFile(
      path.join(data, 'pg_hba.conf'),
      // Clients on the other addresses are pods: their own addresses are the cluster's pod
      // network (or, behind NAT, a node's), whatever it is. TLS and a password, from anywhere,
      // as a collector open to a cluster would be configured.
      'hostssl all all 0.0.0.0/0 scram-sha-256\n',
    );
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const [postgres, args] = asOwner(path.join(bin, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-h',
      ['127.0.0.1', ...addresses].join(','),
      '-k',
      dir,
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${dir}/server.crt`,
      '-c',
      `ssl_key_file=${dir}/server.key`,
      '-c',
      'max_connections=50',
      '-c',
      'shared_buffers=16MB',
    ]);
    child = spawn(postgres, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`postgres exited: ${log}`);
      const ready = await run(path.join(bin, 'pg_isready'), [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
      ]).then(
        () => true,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`postgres did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT'); // fast shutdown
    await exited;
  };

  await start();
  return {
    host: '127.0.0.1',
    port,
    superuser: 'postgres',
    ca: await readFile(path.join(dir, 'ca.crt'), 'utf8'),
    dir,
    start,
    stop,
    remove: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The read-only role the tests' agents and exporters log in as. */
export const READER = { user: 'reader', password: 'reader-secret' } as const;

/** A superuser client of the server; its errors after the server stops are ignored. */
export async function adminClient(server: PostgresServer): Promise<pg.Client> {
  const admin = new pg.Client({
    host: server.host,
    port: server.port,
    user: 'postgres',
    password: SUPERUSER_PASSWORD,
    database: 'postgres',
  });
  admin.on('error', () => undefined);
  await admin.connect();
  return admin;
}

/**
 * The collector's table (edgewarden's `log_entries`, empty) and a role that may only read it
 * (READER, unless another name and password are given).
 */
export async function createLogTable(
  admin: pg.Client,
  role: { user: string; password: string } = READER,
): Promise<void> {
  await admin.query(`CREATE ROLE ${role.user} LOGIN PASSWORD '${role.password}'`);
  await admin.query(`CREATE TABLE log_entries (id bigserial PRIMARY KEY, device_id text,
    timestamp timestamptz NOT NULL, log_level text, process_name text, message text)`);
  await admin.query(`GRANT SELECT ON log_entries TO ${role.user}`);
}
