// k3s/ as a user takes it: the Pi 5 values through the real helm; the auto-deploy manifest
// checked by the API server against k3s's own HelmChart CRD (k3s/testdata, upstream's file) and
// installed as k3s's Helm controller installs it, into its restricted namespace, where the
// operator's pod must be admitted and land on the arm64 (Pi) node; the guide's resources
// accepted by the API server; and the collector: log_entries.sql run on a real PostgreSQL, the
// rows read back by the agents' own PostgresSource, and, where rsyslog and its PostgreSQL
// module are installed (apt-get install rsyslog rsyslog-pgsql), the real rsyslogd running
// k3s/collector/60-edgewarden.conf, fed OpenWrt lines over TCP and UDP, its rows analysed by
// the auth agent.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { parse, parseAllDocuments } from 'yaml';

import { AnalysisEngine } from '../../agent-runtime/src/agents/engine.js';
import type { Anomaly, ObservedLine } from '../../agent-runtime/src/agents/types.js';
import { ruledAgents } from '../../agent-runtime/src/rules/ruledAgents.js';
import { PostgresSource } from '../../agent-runtime/src/source/postgresSource.js';
import { resolveMapping } from '../../agent-runtime/src/source/presets.js';
import {
  chartVersion,
  K3S_MANIFEST,
  packageChart,
  PI5_VALUES,
  renderEmbeddedManifest,
  renderK3sManifest,
  staticChartUrl,
  TARGET_NAMESPACE,
} from '../../scripts/k3s-manifest.js';
import { freePort } from '../services/net.js';
import {
  adminClient,
  startPostgres,
  SUPERUSER_PASSWORD,
  type PostgresServer,
} from '../services/postgres.js';
import {
  createNamespace,
  eventually,
  helmRun,
  installCrds,
  kubectl,
  kubectlJson,
  kubectlRun,
  repoRoot,
} from './kube.js';

const run = promisify(execFile);
const chart = path.join(repoRoot, 'charts/edgewarden');
const KUBE = ['--kube-version', '1.34.4'];
const HELMCHART_CRD = path.join(repoRoot, 'k3s/testdata/helm.cattle.io_helmcharts.yaml');
const read = (file: string): Promise<string> => readFile(path.join(repoRoot, file), 'utf8');
/** rsyslogd, when it is installed with its PostgreSQL output module (rsyslog-pgsql). */
const rsyslogd = await rsyslogWithPgsql();

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}
const docsOf = (text: string): Doc[] =>
  parseAllDocuments(text)
    .map((d) => d.toJSON() as Doc | null)
    .filter((d): d is Doc => d !== null);
interface HelmChartSpec {
  chart?: string;
  chartContent?: string;
  targetNamespace: string;
  createNamespace: boolean;
  valuesContent: string;
}
const helmChartOf = (docs: Doc[]): HelmChartSpec =>
  docs.find((d) => d.kind === 'HelmChart')!.spec as unknown as HelmChartSpec;

async function helm(args: string[]): Promise<string> {
  const r = await helmRun(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'edgewarden-k3s-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('k3s/values-pi5.yaml', () => {
  test('passes helm lint --strict, and renders an operator for arm64 nodes, kept off servers', async () => {
    const values = path.join(repoRoot, PI5_VALUES);
    const lint = await helmRun(['lint', chart, '--strict', ...KUBE, '-f', values]);
    expect({ code: lint.code, out: lint.code ? lint.stdout + lint.stderr : '' }).toEqual({
      code: 0,
      out: '',
    });
    const docs = docsOf(
      await helm(['template', 'edgewarden', chart, '-n', TARGET_NAMESPACE, ...KUBE, '-f', values]),
    );
    type PodSpec = {
      nodeSelector: Record<string, string>;
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: unknown[] } };
      containers: { image: string; imagePullPolicy: string; args: string[] }[];
    };
    const pod = (docs.find((d) => d.kind === 'Deployment')!.spec as { template: { spec: PodSpec } })
      .template.spec;
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/arch': 'arm64' });
    expect(pod.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 50,
        preference: {
          matchExpressions: [
            { key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' },
          ],
        },
      },
    ]);
    const appVersion = (parse(await read('charts/edgewarden/Chart.yaml')) as { appVersion: string })
      .appVersion;
    const operator = pod.containers[0]!;
    // The tag an air-gapped node must have imported (k3s/README.md says which).
    expect(operator.image).toBe(`ghcr.io/edgewarden/edgewarden:${appVersion}`);
    expect(operator.imagePullPolicy).toBe('IfNotPresent');
    expect(operator.args).toEqual(
      expect.arrayContaining([
        `--agent-image=ghcr.io/edgewarden/edgewarden:${appVersion}`,
        '--image-pull-policy=IfNotPresent',
        '--poll=60s',
      ]),
    );
  });
});

describe('k3s/edgewarden-helmchart.yaml', () => {
  let crdInstalled = false;
  afterAll(async () => {
    if (crdInstalled)
      await kubectlRun(['delete', '-f', HELMCHART_CRD, '--ignore-not-found', '--wait=false']);
  });

  test('is what scripts/k3s-manifest.ts writes: a restricted Namespace and a HelmChart carrying values-pi5.yaml byte for byte', async () => {
    const text = await read(K3S_MANIFEST);
    expect(text).toBe(await renderK3sManifest(repoRoot));
    const docs = docsOf(text);
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'v1 Namespace',
      'helm.cattle.io/v1 HelmChart',
    ]);
    expect(docs[0]!.metadata).toEqual({
      name: TARGET_NAMESPACE,
      labels: {
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/warn': 'restricted',
      },
    });
    // k3s's Helm controller only watches kube-system.
    expect(docs[1]!.metadata).toEqual({ name: 'edgewarden', namespace: 'kube-system' });
    const spec = helmChartOf(docs);
    expect(spec.valuesContent).toBe(await read(PI5_VALUES));
    expect(spec).toMatchObject({ targetNamespace: TARGET_NAMESPACE, createNamespace: true });
  });

  test('names the file helm package makes of the chart as it is now', async () => {
    const spec = helmChartOf(docsOf(await read(K3S_MANIFEST)));
    const version = await chartVersion(repoRoot);
    expect(spec.chart).toBe(staticChartUrl(version));
    const tgz = await packageChart(process.env.EDGEWARDEN_HELM!, work, repoRoot);
    expect(path.basename(tgz)).toBe(path.basename(spec.chart!));
  });

  test("k3s's own HelmChart schema accepts it and the self-contained variant (strict field validation)", async () => {
    await kubectl([
      'apply',
      '--server-side',
      '--field-manager=edgewarden-tests',
      '-f',
      HELMCHART_CRD,
    ]);
    crdInstalled = true;
    await kubectl([
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/helmcharts.helm.cattle.io',
    ]);
    const embedded = await renderEmbeddedManifest(process.env.EDGEWARDEN_HELM!, repoRoot);
    await writeFile(path.join(work, 'embedded.yaml'), embedded);
    for (const file of [path.join(repoRoot, K3S_MANIFEST), path.join(work, 'embedded.yaml')]) {
      const r = await kubectlRun(['apply', '--dry-run=server', '--validate=strict', '-f', file]);
      expect({ file, code: r.code, stderr: r.stderr }).toEqual({ file, code: 0, stderr: '' });
      expect(r.stdout).toContain('helmchart.helm.cattle.io/edgewarden created (server dry run)');
    }
    // The check has teeth: a misspelt field is refused.
    const typo = embedded.replace('createNamespace: true', 'createNamespaces: true');
    const refused = await kubectlRun(
      ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
      typo,
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('unknown field "spec.createNamespaces"');
  });

  test("installed as k3s's Helm controller installs it: the operator pod is admitted under restricted and lands on the Pi", async () => {
    // A namespace of this name that another suite is still deleting would refuse the install.
    await eventually(
      `no namespace ${TARGET_NAMESPACE} left over`,
      async () =>
        (await kubectlRun(['get', 'namespace', TARGET_NAMESPACE])).code !== 0 ? true : undefined,
      120_000,
    );
    const docs = docsOf(await renderEmbeddedManifest(process.env.EDGEWARDEN_HELM!, repoRoot));
    const spec = helmChartOf(docs);
    const tgz = path.join(work, 'from-chartContent.tgz');
    const values = path.join(work, 'valuesContent.yaml');
    await writeFile(tgz, Buffer.from(spec.chartContent!, 'base64'));
    await writeFile(values, spec.valuesContent);
    const namespaceDoc = docs.find((d) => d.kind === 'Namespace')!;
    try {
      // The deploy controller applies the file's Namespace; the Helm job then runs helm with
      // the chart and valuesContent (--create-namespace finds it there).
      await kubectl(['apply', '-f', '-'], JSON.stringify(namespaceDoc));
      // Other suites may have created the CRDs already: take them over, as Helm may.
      await helm([
        'upgrade',
        '--install',
        'edgewarden',
        tgz,
        '--namespace',
        spec.targetNamespace,
        '--create-namespace',
        '--take-ownership',
        '-f',
        values,
      ]);
      type Pod = { metadata: { name: string }; spec: { nodeName?: string } };
      const pod = await eventually(
        'the operator pod, admitted and scheduled',
        async () => {
          const list = await kubectlJson<{ items: Pod[] }>([
            'get',
            'pods',
            '-n',
            TARGET_NAMESPACE,
            '-l',
            'app.kubernetes.io/component=operator',
          ]);
          return list.items.find((p) => p.spec.nodeName);
        },
        60_000,
      ).catch(async (error: Error) => {
        const events = await kubectlRun(['get', 'events', '-n', TARGET_NAMESPACE]);
        throw new Error(`${error.message}\n${events.stdout}`);
      });
      expect(pod.spec.nodeName).toBe('kwok-pi-0'); // the test cluster's arm64 "Pi 5"
      const node = await kubectlJson<{ metadata: { labels: Record<string, string> } }>([
        'get',
        'node',
        pod.spec.nodeName!,
      ]);
      expect(node.metadata.labels['kubernetes.io/arch']).toBe('arm64');
    } finally {
      await helmRun(['uninstall', 'edgewarden', '--namespace', TARGET_NAMESPACE, '--wait']);
      // Waits until it is gone, so the next suite can make it again.
      await kubectlRun([
        'delete',
        'namespace',
        TARGET_NAMESPACE,
        '--ignore-not-found',
        '--timeout=120s',
      ]);
    }
  });
});

describe('k3s/README.md', () => {
  test('names the chart and image versions the chart has, and files that exist', async () => {
    const guide = await read('k3s/README.md');
    const chartYaml = parse(await read('charts/edgewarden/Chart.yaml')) as {
      version: string;
      appVersion: string;
    };
    const tgzs = [...guide.matchAll(/edgewarden-(\d+\.\d+\.\d+[^\s/`]*?)\.tgz/g)].map((m) => m[1]);
    expect(tgzs.length).toBeGreaterThan(0);
    expect(new Set(tgzs)).toEqual(new Set([chartYaml.version]));
    const images = [...guide.matchAll(/ghcr\.io\/edgewarden\/edgewarden:([^\s`'"]+)/g)].map(
      (m) => m[1],
    );
    expect(images.length).toBeGreaterThan(0);
    expect(new Set(images)).toEqual(new Set([chartYaml.appVersion]));
    const tars = [...guide.matchAll(/edgewarden-(\d+\.\d+\.\d+)-arm64\.tar/g)].map((m) => m[1]);
    expect(new Set(tars)).toEqual(new Set([chartYaml.appVersion]));
    const files = [...guide.matchAll(/\]\(((?:\.\.\/)?[\w./-]+)\)/g)]
      .map((m) => m[1]!)
      .filter((f) => !f.startsWith('http'));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files)
      await expect(readFile(path.join(repoRoot, 'k3s', f))).resolves.toBeInstanceOf(Buffer);
  });

  test('its resources are accepted by the API server, as written', async () => {
    await installCrds();
    const namespace = await createNamespace('k3s-guide');
    try {
      const guide = await read('k3s/README.md');
      const blocks = [...guide.matchAll(/```yaml\n([\s\S]*?)```/g)]
        .map((m) => m[1]!)
        .filter((b) => /^apiVersion: edgewarden\.io\//m.test(b));
      expect(blocks.length).toBeGreaterThanOrEqual(2);
      // The ModelDeployment serves the shipped baseline: its spec must be the baseline's own.
      const baseline = JSON.parse(await read('models/dns/manifest.json')) as {
        version: string;
        features: string[];
        threshold: number;
      };
      const deployment = blocks
        .map((b) => parse(b) as Doc)
        .find((d) => d.kind === 'ModelDeployment')!;
      expect(deployment.spec).toMatchObject({
        agent: 'dns',
        version: baseline.version,
        features: baseline.features,
        threshold: baseline.threshold,
        source: { configMap: { name: baseline.version, key: 'model.onnx' } },
      });
      for (const block of blocks) {
        const r = await kubectlRun(
          ['apply', '--dry-run=server', '--validate=strict', '-n', namespace, '-f', '-'],
          block,
        );
        expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
      }
    } finally {
      await kubectlRun(['delete', 'namespace', namespace, '--wait=false']);
    }
  });
});

describe('the collector (k3s/collector/)', () => {
  let server: PostgresServer;
  let admin: pg.Client;
  const WRITER = { user: 'rsyslog_writer', password: 'writer-secret' };
  const READER = { user: 'edgewarden_ro', password: 'reader-secret' };
  const client = (role: { user: string; password: string }): pg.Client =>
    new pg.Client({
      host: server.host,
      port: server.port,
      database: 'syslog',
      ...role,
      ssl: { ca: server.ca },
    });
  const source = (): PostgresSource =>
    new PostgresSource({
      connection: {
        host: server.host,
        port: server.port,
        database: 'syslog',
        ...READER,
        sslMode: 'verify-full',
        ca: server.ca,
      },
      mapping: resolveMapping('log_entries'),
      batchSize: 4,
      retries: 2,
      retryDelayMs: 50,
    });
  async function readAll(): Promise<ObservedLine[]> {
    const s = source();
    try {
      const lines: ObservedLine[] = [];
      for (let watermark = s.beginning(); ;) {
        const batch = await s.read(watermark);
        lines.push(...batch.lines);
        watermark = batch.watermark;
        if (batch.caughtUp) return lines;
      }
    } finally {
      await s.close();
    }
  }

  beforeAll(async () => {
    server = await startPostgres();
    const setup = await adminClient(server);
    await setup.query('CREATE DATABASE syslog');
    await setup.end();
    admin = new pg.Client({
      host: server.host,
      port: server.port,
      database: 'syslog',
      user: 'postgres',
      password: SUPERUSER_PASSWORD,
    });
    await admin.connect();
    // As the guide says: the file as it is, twice (it must be safe to run again), then passwords.
    const sql = await read('k3s/collector/log_entries.sql');
    await admin.query(sql);
    await admin.query(sql);
    for (const role of [WRITER, READER])
      await admin.query(`ALTER ROLE ${role.user} PASSWORD '${role.password}'`);
  });
  afterAll(async () => {
    await admin?.end();
    await server?.remove();
  });
  beforeEach(async () => {
    await admin.query('TRUNCATE log_entries RESTART IDENTITY');
  });

  test("log_entries.sql: the collector's role may only insert (with the template's columns), the agents' only read, and they read what was written", async () => {
    const conf = await read('k3s/collector/60-edgewarden.conf');
    const columns = /INSERT INTO log_entries \(([^)]*)\)/.exec(conf)?.[1]?.replace(/\\"/g, '"');
    expect(columns).toBe(
      'device_id, device_ip, "timestamp", log_level, process_name, message, raw_message',
    );
    const writer = client(WRITER);
    await writer.connect();
    try {
      await writer.query(
        `INSERT INTO log_entries (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)`,
        [
          ...['gw-home', '192.168.1.1', '2026-11-23T10:00:00.123456+01:00', 'info', 'dnsmasq'],
          ...[
            'query[A] example.net from 192.168.1.5',
            '<30>Nov 23 10:00:00 gw-home dnsmasq[728]: …',
          ],
          ...['ap-attic', '192.168.1.2', '2026-11-23T10:00:01+01:00', 'err', 'hostapd'],
          ...['wlan0: AP-STA-POSSIBLE-PSK-MISMATCH 11:22:33:44:55:66', '<27>…'],
        ],
      );
      await expect(writer.query('SELECT count(*) FROM log_entries')).rejects.toThrow(
        'permission denied',
      );
      await expect(writer.query('DELETE FROM log_entries')).rejects.toThrow('permission denied');
    } finally {
      await writer.end();
    }
    const reader = client(READER);
    await reader.connect();
    try {
      await expect(
        reader.query(`INSERT INTO log_entries ("timestamp", message) VALUES (now(), 'x')`),
      ).rejects.toThrow('permission denied');
    } finally {
      await reader.end();
    }
    const lines = await readAll();
    // toMatchObject on an array: the same length, each element matching.
    expect(lines).toMatchObject([
      {
        ref: '1',
        device: 'gw-home',
        record: {
          timestamp: '2026-11-23T09:00:00.123Z',
          host: 'gw-home',
          program: 'dnsmasq',
          level: 'info',
          message: 'query[A] example.net from 192.168.1.5',
        },
      },
      {
        ref: '2',
        device: 'ap-attic',
        record: { timestamp: '2026-11-23T09:00:01.000Z', program: 'hostapd', level: 'err' },
      },
    ]);
  });

  test('rsyslog with 60-edgewarden.conf: OpenWrt lines over TCP and UDP become rows; the auth agent finds the brute force in them', async () => {
    // Not skipped where it is missing: it fails, saying what to install.
    if (!rsyslogd)
      throw new Error(
        'rsyslogd with its PostgreSQL output module is not installed: apt-get install rsyslog rsyslog-pgsql (bash .ci/run does)',
      );
    const dir = path.join(work, 'rsyslog');
    await mkdir(path.join(dir, 'spool'), { recursive: true });
    const port = await freePort();
    const shipped = await read('k3s/collector/60-edgewarden.conf');
    // The only edits: the password, the server's port and the listening ports.
    expect(shipped).toContain('postgresql://rsyslog_writer:CHANGE-ME@127.0.0.1:5432/syslog');
    expect(shipped.match(/port="514"/g)).toHaveLength(2);
    await writeFile(
      path.join(dir, 'edgewarden.conf'),
      shipped
        .replace('CHANGE-ME@127.0.0.1:5432', `${WRITER.password}@127.0.0.1:${server.port}`)
        .replaceAll('port="514"', `port="${port}"`),
    );
    await writeFile(
      path.join(dir, 'rsyslog.conf'),
      `global(workDirectory="${dir}/spool")\ninclude(file="${dir}/edgewarden.conf")\n`,
    );
    let log = '';
    const daemon: ChildProcess = spawn(
      rsyslogd,
      ['-n', '-f', path.join(dir, 'rsyslog.conf'), '-i', path.join(dir, 'rsyslogd.pid')],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    daemon.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    daemon.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const started = Date.now();
      const brute = Array.from(
        { length: 6 },
        (_, i) =>
          `<86>Nov 24 06:04:0${i} gw-home dropbear[1234]: Bad password attempt for 'root' from 203.0.113.9:${40000 + i}`,
      );
      const injection = `<86>Nov 24 06:04:07 gw-home dropbear[1234]: Bad password attempt for 'x'); DROP TABLE log_entries; --\\' from 203.0.113.9:4711`;
      const tcpLines = [
        ...brute.map((l) => Buffer.from(l)),
        Buffer.from(injection),
        // Not UTF-8: PostgreSQL would refuse the line (and its whole batch) without mmutf8fix.
        Buffer.concat([
          Buffer.from('<27>Nov 24 06:04:08 gw-home hostapd: wlan0: bad '),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(' bytes and café'),
        ]),
        Buffer.from(
          '<4>Nov 24 06:04:09 gw-home kernel: [12345.678901] drop wan in: IN=eth1 SRC=203.0.113.7 DST=198.51.100.2 PROTO=TCP DPT=22',
        ),
      ];
      await eventually('rsyslogd listening', () => sendTcp(port, tcpLines), 30_000).catch(
        (error: Error) => {
          throw new Error(`${error.message}\n${log}`);
        },
      );
      await sendUdp(
        port,
        '<30>Nov 24 06:04:10 ap-attic dnsmasq-dhcp[900]: DHCPACK(br-lan) 192.168.1.77 aa:bb:cc:dd:ee:ff phone',
      );
      const expected = tcpLines.length + 1;
      await eventually(
        `${expected} rows in log_entries`,
        async () => {
          const { rows } = await admin.query<{ n: string }>(
            'SELECT count(*) AS n FROM log_entries',
          );
          return Number(rows[0]!.n) === expected ? true : undefined;
        },
        30_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\nrsyslogd: ${log}`);
      });
      const lines = await readAll();
      const byMessage = (start: string): ObservedLine =>
        lines.find((l) => l.record.message.startsWith(start))!;
      for (const l of lines) {
        // Received now: the routers' stamps have no year and no zone.
        expect(l.time).toBeGreaterThanOrEqual(started - 1000);
        expect(l.time).toBeLessThanOrEqual(Date.now());
        expect(l.record.message).not.toMatch(/^\s/);
      }
      expect(byMessage("Bad password attempt for 'x')").record).toMatchObject({
        host: 'gw-home',
        program: 'dropbear',
        level: 'info',
        message: injection.slice(injection.indexOf('Bad password')),
      });
      expect(byMessage('wlan0: bad').record).toMatchObject({
        program: 'hostapd',
        level: 'err',
        message: 'wlan0: bad ?? bytes and café',
      });
      expect(byMessage('[12345.678901] drop wan in').record).toMatchObject({
        program: 'kernel',
        level: 'warning',
      });
      expect(byMessage('DHCPACK(br-lan)')).toMatchObject({
        device: 'ap-attic',
        record: { program: 'dnsmasq-dhcp', level: 'info' },
      });
      const { rows } = await admin.query<{ device_ip: string; raw_message: string }>(
        "SELECT host(device_ip) AS device_ip, raw_message FROM log_entries WHERE process_name = 'dnsmasq-dhcp'",
      );
      expect(rows).toEqual([
        {
          device_ip: '127.0.0.1',
          raw_message:
            '<30>Nov 24 06:04:10 ap-attic dnsmasq-dhcp[900]: DHCPACK(br-lan) 192.168.1.77 aa:bb:cc:dd:ee:ff phone',
        },
      ]);

      // What the auth agent makes of the rows, read as an agent pod reads them (with its packs).
      const { agents } = await ruledAgents(['auth'], { windowMs: 86_400_000 });
      const engine = new AnalysisEngine(agents, { windowMs: 86_400_000 });
      const anomalies: Anomaly[] = [];
      for (const l of lines) anomalies.push(...engine.push(l));
      anomalies.push(...engine.flush());
      const bruteIds = lines
        .filter((l) =>
          /^Bad password attempt for 'root' from 203\.0\.113\.9:4000\d$/.test(l.record.message),
        )
        .map((l) => l.ref);
      expect(bruteIds).toHaveLength(6);
      // The injection attempt is a failed login too, from the same source: dropbear prints the
      // user name the client sent, quotes and all, and the rule counts it (it is one more try).
      const attemptIds = lines
        .filter((l) =>
          /^Bad password attempt for '.*' from 203\.0\.113\.9:\d+$/.test(l.record.message),
        )
        .map((l) => l.ref);
      expect(attemptIds).toHaveLength(7);
      expect(attemptIds).toEqual(expect.arrayContaining(bruteIds));
      expect(anomalies).toEqual([
        expect.objectContaining({
          agent: 'auth',
          device: 'gw-home',
          type: 'brute_force',
          rule: 'auth.dropbear-brute-force',
          features: { failures: 7 },
          evidence: attemptIds,
        }),
      ]);
    } finally {
      daemon.kill('SIGTERM');
    }
  });
});

/** rsyslogd's path if it is installed with its PostgreSQL output module, else undefined. */
async function rsyslogWithPgsql(): Promise<string | undefined> {
  for (const candidate of ['/usr/sbin/rsyslogd', 'rsyslogd']) {
    const dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-rsyslog-check-'));
    try {
      const conf = path.join(dir, 'check.conf');
      // An action, so that the check fails only for a missing module (no action fails too).
      await writeFile(
        conf,
        'module(load="ompgsql")\naction(type="ompgsql" conninfo="postgresql://check@127.0.0.1:1/check")\n',
      );
      await run(candidate, ['-N1', '-f', conf]);
      return candidate;
    } catch {
      // not this one
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return undefined;
}

/** Sends each line over one TCP connection, newline-terminated (OpenWrt's log_proto tcp). */
function sendTcp(port: number, lines: Buffer[]): Promise<true> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), () => resolve(true));
    });
    socket.on('error', reject);
  });
}

/** One datagram, one line (OpenWrt's log_proto udp, the default). */
async function sendUdp(port: number, line: string): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) =>
    socket.send(line, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
  socket.close();
}
