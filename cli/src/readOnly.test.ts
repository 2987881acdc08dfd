// Every command with nothing writable, as the image runs under readOnlyRootFilesystem (and
// `docker run --read-only`): the built executable, run as the image's user (uid 65532, with
// setpriv when the tests run as root), first with a home folder it may not write, then with
// the whole root file system read-only (a private mount namespace in which / is remounted
// read-only: /tmp, the checkout and the home folder with it). A command that needs no
// writable folder works; one that does names the folder, the setting and the mount it needs.
import { jest } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sample = 'agent-runtime/data/openwrt/logread-sample.log';
const asRoot = process.getuid?.() === 0;
const IMAGE_USER = 65532;
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

// Each run starts Node afresh (and the demo loads four models): seconds, not milliseconds.
jest.setTimeout(30_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `edgewarden <args>` from the checkout as the image's user (as root) or as this user,
 * with only `env` (and PATH); with `readOnlyRoot`, in a mount namespace whose / is read-only,
 * and with `volume`, a writable tmpfs mounted there at that (existing) folder, as a pod's
 * emptyDir or `docker run --tmpfs` would be.
 */
function edgewarden(
  args: string[],
  env: Record<string, string>,
  options: { readOnlyRoot?: boolean; volume?: string; stopWhenServing?: boolean } = {},
): Promise<Run> {
  const argv: string[] = [];
  if (options.readOnlyRoot) {
    const volume = options.volume ? `&& mount -t tmpfs -o mode=1777 tmpfs ${options.volume} ` : '';
    const mounts = `mount -o remount,bind,ro / ${volume}&& exec "$@"`;
    argv.push(
      'unshare',
      ...(asRoot ? [] : ['--user', '--map-root-user']),
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      mounts,
      'sh',
    );
  }
  if (asRoot) {
    if (!SETPRIV) throw new Error('setpriv is not installed (util-linux): run bash .ci/run');
    argv.push(
      SETPRIV,
      `--reuid=${IMAGE_USER}`,
      `--regid=${IMAGE_USER}`,
      '--clear-groups',
      '--no-new-privs',
      '--',
    );
  }
  argv.push(process.execPath, 'bin/edgewarden.js', ...args);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // A server (the agent): once it answers /healthz on the port it names, stopped as a pod is.
      const port = options.stopWhenServing ? /serving on port (\d+)/.exec(stdout)?.[1] : undefined;
      if (stopping || port === undefined) return;
      stopping = true;
      void fetch(`http://127.0.0.1:${port}/healthz`).finally(() => child.kill('SIGTERM'));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let dir: string;
/** A home folder the command's user may read but not write (0555, owned by root). */
let home: string;
/** Where the read-only runs mount their writable volume. */
let volume: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-read-only-'));
  await chmod(dir, 0o755);
  home = path.join(dir, 'home');
  await mkdir(home);
  await chmod(home, 0o555);
  volume = path.join(dir, 'volume');
  await mkdir(volume);
  // What the read-only runs read: an agent's configuration and an export's plan.
  await writeFile(
    path.join(dir, 'agent.yaml'),
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: dns }
spec:
  agent: dns
  source: { secretRef: { name: db } }
`,
  );
  // Paused: it starts, serves and stops without a cycle in flight (there is no database here).
  await writeFile(
    path.join(dir, 'paused-agent.yaml'),
    `apiVersion: edgewarden.io/v1alpha1
kind: AnalysisAgent
metadata: { name: dns }
spec:
  agent: dns
  paused: true
  source: { secretRef: { name: db } }
`,
  );
  await writeFile(
    path.join(dir, 'plan.json'),
    JSON.stringify({
      name: 'weekly',
      namespace: 'home',
      uid: 'u-1',
      from: '2026-11-23T00:00:00Z',
      to: '2026-11-24T00:00:00Z',
      spec: {
        dataTypes: ['logs'],
        source: { analysisAgentRef: { name: 'dns' } },
        timeRange: { last: '24h' },
        destination: { persistentVolumeClaim: { claimName: 'exports' }, path: 'weekly' },
      },
      logs: { source: { secretRef: { name: 'db' } } },
    }),
  );
});

afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('a home folder the user may not write', () => {
  test('demo analyses in memory, writes nothing, and says where the data is not', async () => {
    const r = await edgewarden(['demo'], { HOME: home });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('found   SSH brute force');
    expect(r.stdout).toContain(
      `Where the data lives:
  in memory only: nothing was written to disk, and the store is gone when the demo ends
  (the default folder ${home}/.local/share/edgewarden/demo cannot be written: permission denied to this user).`,
    );
    expect(r.stdout).toContain('--data-dir DIR writes routers.log and anomalies.db to DIR');
    expect(await readdir(home)).toEqual([]);
  });

  test('demo --data-dir that cannot be written stops, naming the folder and the way out', async () => {
    const r = await edgewarden(['demo', '--data-dir', path.join(home, 'demo')], { HOME: home });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `edgewarden demo: --data-dir: cannot write ${home}/demo (permission denied to this user), the folder for the demo's log (routers.log) and SQLite store (anomalies.db). Point --data-dir at a writable folder, or mount a writable volume at ${home}/demo`,
    );
  });

  test('demo --data-dir that can be written keeps the files there', async () => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    if (asRoot) await chown(data, IMAGE_USER, IMAGE_USER);
    const r = await edgewarden(['demo', '--data-dir', data], { HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  logs       ${data}/routers.log`);
    expect((await readdir(data)).sort()).toEqual(
      expect.arrayContaining(['anomalies.db', 'routers.log']),
    );
  });
});

test('a model loaded writes nothing to the home folder (onnxruntime telemetry is off)', async () => {
  const writable = path.join(dir, 'writable-home');
  await mkdir(writable);
  if (asRoot) await chown(writable, IMAGE_USER, IMAGE_USER);
  const r = await edgewarden(['analyze', '--input', sample, '--model', 'baseline'], {
    HOME: writable,
  });
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/^analyzed 707 lines .*; models wifi-baseline-1/);
  expect(await readdir(writable)).toEqual([]);
});

// Remounting / read-only needs a private mount namespace: as root (CI runs as root), or in a
// user namespace of one's own otherwise.
describe('a read-only root file system', () => {
  const readOnly = { readOnlyRoot: true };
  beforeAll(() => {
    // Fails here, saying why, where / cannot be remounted: no unshare, or no right to.
    execFileSync(
      'unshare',
      [
        ...(asRoot ? [] : ['--user', '--map-root-user']),
        '--mount',
        '--propagation',
        'private',
        '--',
        'mount',
        '-o',
        'remount,bind,ro',
        '/',
      ],
      { stdio: 'pipe' },
    );
  });

  test('demo runs in memory, with HOME=/ as a user with no home folder gets it', async () => {
    const r = await edgewarden(['demo'], { HOME: '/' }, readOnly);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '(the default folder /.local/share/edgewarden/demo cannot be written: the file system is read-only)',
    );
    expect(r.stdout).toMatch(/precision 100%, recall 100%/);
  });

  test('demo --data-dir on a writable mount writes there', async () => {
    const r = await edgewarden(
      ['demo', '--data-dir', `${volume}/demo`],
      { HOME: '/' },
      {
        readOnlyRoot: true,
        volume,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`  logs       ${volume}/demo/routers.log`);
  });

  test('demo --data-dir on the read-only root says so', async () => {
    const r = await edgewarden(['demo', '--data-dir', '/tmp/demo'], { HOME: '/' }, readOnly);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'cannot write /tmp/demo (the file system is read-only), the folder for the demo',
    );
  });

  test.each([
    ['analyze', ['analyze', '--input', sample, '--model', 'baseline', '--min-severity', '3']],
    ['parse', ['parse', '--input', sample]],
    ['features', ['features', '--agent', 'wifi', '--input', sample]],
    ['validate', ['validate', 'manifests/examples/analysisagent.yaml']],
    ['operator --help', ['operator', '--help']],
  ])('%s needs nothing writable', async (_name, args) => {
    const r = await edgewarden(args, { HOME: '/' }, readOnly);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  test('train names --out when it cannot write the model there', async () => {
    const r = await edgewarden(
      ['train', '--agent', 'wifi', '--input', sample, '--out', '/tmp/wifi-model'],
      { HOME: '/' },
      readOnly,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'edgewarden train: cannot write /tmp/wifi-model (the file system is read-only), the folder for the trained model (model.onnx, manifest.json). Point --out at a writable folder',
    );
  });

  test('agent names EDGEWARDEN_DATA_DIR and the volume its store needs', async () => {
    const r = await edgewarden(
      ['agent'],
      {
        HOME: '/',
        EDGEWARDEN_CONFIG: path.join(dir, 'agent.yaml'),
        EDGEWARDEN_PG_URL: 'postgresql://reader@127.0.0.1:1/syslog',
        EDGEWARDEN_HTTP_PORT: '0',
      },
      readOnly,
    );
    expect(r.code).toBe(2);
    // The contract's default folder. Should this machine have made one (a test node's pods),
    // it is not this user's: permission denied comes before the read-only mount.
    const why = existsSync('/var/lib/edgewarden')
      ? 'permission denied to this user'
      : 'the file system is read-only';
    expect(r.stderr).toBe(
      `edgewarden agent: cannot write /var/lib/edgewarden (${why}), the folder for the agent's SQLite anomaly store (anomalies.db). Point EDGEWARDEN_DATA_DIR at a writable folder, or mount a writable volume at /var/lib/edgewarden (in Kubernetes an emptyDir or a persistentVolumeClaim; with docker run, -v or --tmpfs)\n`,
    );
  });

  test('agent runs with its store on a writable mount', async () => {
    const r = await edgewarden(
      ['agent'],
      {
        HOME: '/',
        EDGEWARDEN_CONFIG: path.join(dir, 'paused-agent.yaml'),
        EDGEWARDEN_PG_URL: 'postgresql://reader@127.0.0.1:1/syslog',
        EDGEWARDEN_HTTP_PORT: '0',
        EDGEWARDEN_DATA_DIR: `${volume}/data`,
      },
      { readOnlyRoot: true, volume, stopWhenServing: true },
    );
    expect(r.stdout).toMatch(/^edgewarden agent dns \(dns\) serving on port \d+$/m);
    expect(r.stdout).toContain('edgewarden agent: stopping');
    expect(r.code).toBe(0);
  });

  test('export names EDGEWARDEN_EXPORT_DIR and the volume its files need', async () => {
    const r = await edgewarden(
      ['export'],
      {
        HOME: '/',
        EDGEWARDEN_EXPORT_PLAN: path.join(dir, 'plan.json'),
        // Not the default /export, which this machine may have (a test node's pods), nor its
        // /dev/termination-log.
        EDGEWARDEN_EXPORT_DIR: `${dir}/export`,
        EDGEWARDEN_TERMINATION_MESSAGE: '/dev/null',
        EDGEWARDEN_HTTP_PORT: '0',
      },
      readOnly,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `edgewarden export: failed: WriteFailed: cannot write ${dir}/export (the file system is read-only), the folder for the export's files, manifest and checkpoint. Point EDGEWARDEN_EXPORT_DIR at a writable folder, or mount a writable volume at ${dir}/export (in Kubernetes an emptyDir or a persistentVolumeClaim; with docker run, -v or --tmpfs)\n`,
    );
  });
});
