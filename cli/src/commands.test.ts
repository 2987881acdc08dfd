// `edgewarden parse` and `edgewarden analyze`, run as the real executable (built by `npm run test:unit`).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { logisticRegressionOnnx } from '../../test/fixtures/onnx.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sample = 'agent-runtime/data/openwrt/logread-sample.log';

function edgewarden(
  args: string[],
  stdin = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', ['bin/edgewarden.js', ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('parses every line of the real sample into one JSON object each', async () => {
  const { code, stdout, stderr } = await edgewarden([
    'parse',
    '--input',
    sample,
    '--host',
    'gw-home',
  ]);
  expect(code).toBe(0);
  const records = stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(records).toHaveLength(707);
  expect(records[73]).toEqual({
    timestamp: '2020-11-12T13:20:08.000Z',
    host: 'gw-home',
    facility: 'daemon',
    level: 'info',
    program: 'dnsmasq',
    pid: 728,
    message: 'started, version 2.80 cachesize 150',
  });
  expect(stderr).toBe('parsed 707 lines, 0 unreadable\n');
});

test('reads standard input; unreadable lines go to stderr with their number and are skipped', async () => {
  const input = [
    '<30>Nov 23 10:15:01 gw hostapd: wlan0: AP-ENABLED',
    'this is not syslog',
    '<86>2026-11-23T10:15:02+01:00 gw dropbear[9]: Exit before auth',
    '',
  ].join('\n');
  const { code, stdout, stderr } = await edgewarden(
    ['parse', '--reference-time', '2026-11-23T12:00:00Z'],
    input,
  );
  expect(code).toBe(0);
  expect(
    stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { program: string }).program),
  ).toEqual(['hostapd', 'dropbear']);
  expect(stderr).toBe(
    'line 2: unrecognised line: this is not syslog\nparsed 2 lines, 1 unreadable\n',
  );
});

test('bad options are usage errors naming the option', async () => {
  expect(await edgewarden(['parse', '--input', '/nonexistent.log'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--input: cannot read /nonexistent.log') as string,
  });
  expect(await edgewarden(['parse', '--timezone', 'Mars/Olympus'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--timezone: unknown time zone') as string,
  });
  expect(await edgewarden(['parse', '--reference-time', 'yesterday'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining('--reference-time') as string,
  });
  expect(await edgewarden(['parse', '--frobnicate'])).toMatchObject({
    code: 2,
    stderr: expect.stringContaining("Unknown option '--frobnicate'") as string,
  });
});

describe('edgewarden analyze', () => {
  test('prints the anomalies of the real sample as JSON lines, with a summary on stderr', async () => {
    const { code, stdout, stderr } = await edgewarden([
      'analyze',
      '--input',
      sample,
      '--format',
      'jsonl',
      '--host',
      'gw-home',
    ]);
    expect(code).toBe(0);
    const anomalies = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { agent: string; type: string; device: string });
    expect(anomalies.map((a) => `${a.agent}/${a.type}`).sort()).toEqual([
      'system/reboot',
      // The sample's five first error-level message types (odhcp6c, hostapd twice, uhttpd,
      // passwd), each news once, at severity 2 or less.
      ...Array<string>(5).fill('template/new_error_message'),
      'wifi/psk_mismatch',
      'wifi/psk_mismatch_burst',
    ]);
    expect(anomalies.every((a) => a.device === 'gw-home')).toBe(true);
    expect(stderr).toMatch(
      /^analyzed 707 lines \(0 unreadable\) in [\d.]+ s: 8 anomalies in \d+ agent windows\n$/,
    );
  });

  test('one agent, a table, and a severity floor', async () => {
    const { code, stdout } = await edgewarden([
      'analyze',
      '--input',
      sample,
      '--agent',
      'wifi',
      '--min-severity',
      '3',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(
      /^WINDOW \(UTC\)\s+AGENT\s+DEVICE\s+SEVERITY\s+TYPE\s+DESCRIPTION\s+LINES\n/,
    );
    expect(stdout).toContain('psk_mismatch_burst');
    expect(stdout).not.toContain('reboot');
  });

  test('bad options are usage errors naming the option', async () => {
    expect(await edgewarden(['analyze'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--input is required') as string,
    });
    expect(await edgewarden(['analyze', '--input', sample, '--agent', 'ntp'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--agent: unknown agent "ntp"') as string,
    });
    expect(
      await edgewarden(['analyze', '--input', sample, '--interval', '5 minutes']),
    ).toMatchObject({ code: 2, stderr: expect.stringContaining('--interval') as string });
    expect(await edgewarden(['analyze', '--input', sample, '--min-severity', '9'])).toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--min-severity') as string,
    });
  });
});

describe('edgewarden analyze --model', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-cli-model-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  async function writeModel(sha256?: string): Promise<void> {
    const bytes = logisticRegressionOnnx([1], -3); // psk_mismatches: 4 or more scores above 0.7
    await writeFile(path.join(dir, 'model.onnx'), bytes);
    await writeFile(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        version: 'w1',
        agent: 'wifi',
        features: ['psk_mismatches'],
        threshold: 0.7,
        sha256: sha256 ?? createHash('sha256').update(bytes).digest('hex'),
      }),
    );
  }

  test("scores the agent's windows with the model", async () => {
    await writeModel();
    const { code, stdout } = await edgewarden([
      'analyze',
      '--input',
      sample,
      '--agent',
      'wifi',
      '--model',
      dir,
      '--format',
      'jsonl',
    ]);
    expect(code).toBe(0);
    const scored = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; features: Record<string, number> })
      .filter((a) => a.type === 'model_score');
    expect(scored.map((a) => a.features)).toEqual([{ psk_mismatches: 6 }]);
  });

  test('a broken model is refused with its reason', async () => {
    await writeModel('0'.repeat(64));
    const { code, stderr } = await edgewarden(['analyze', '--input', sample, '--model', dir]);
    expect(code).toBe(2);
    expect(stderr).toContain(`--model ${dir}: refused:`);
    expect(stderr).toContain("does not match the manifest's");
  });

  test('a model for an agent the run does not include is an error', async () => {
    await writeModel();
    const { code, stderr } = await edgewarden([
      'analyze',
      '--input',
      sample,
      '--agent',
      'dns',
      '--model',
      dir,
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain('serves agent wifi, which this run does not include');
  });
});

describe('edgewarden train and features', () => {
  test('bad options are usage errors naming the option', async () => {
    const cases: [string[], string][] = [
      [['train', '--input', sample, '--out', '/tmp/x'], '--agent is required'],
      [['train', '--agent', 'wifi', '--out', '/tmp/x'], '--input is required'],
      [['train', '--agent', 'wifi', '--input', sample], '--out is required'],
      [
        ['train', '--agent', 'nope', '--input', sample, '--out', '/tmp/x'],
        '--agent: unknown agent "nope"',
      ],
      [
        [
          'train',
          '--agent',
          'wifi',
          '--input',
          sample,
          '--out',
          '/tmp/x',
          '--contamination',
          '0.7',
        ],
        '--contamination',
      ],
      [
        ['train', '--agent', 'wifi', '--input', sample, '--out', '/tmp/x', '--trees', '1.5'],
        '--trees',
      ],
      [['features', '--agent', 'wifi', '--input', sample, '--interval', 'soon'], '--interval'],
    ];
    for (const [args, message] of cases)
      expect(await edgewarden(args)).toMatchObject({
        code: 2,
        stderr: expect.stringContaining(message) as string,
      });
    expect(
      await edgewarden([
        'train',
        '--agent',
        'wifi',
        '--input',
        '/nonexistent.log',
        '--out',
        '/tmp/x',
      ]),
    ).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('cannot read /nonexistent.log') as string,
    });
  });

  test('features prints one CSV row per window, with the agent’s feature names', async () => {
    const { code, stdout } = await edgewarden([
      'features',
      '--agent',
      'dns',
      '--input',
      sample,
      '--interval',
      '1m',
    ]);
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trim().split('\n');
    expect(header!.split(',').slice(0, 3)).toEqual(['device', 'window_start', 'lines']);
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(row.split(',')).toHaveLength(header!.split(',').length);
  });

  test('analyze --model baseline serves the shipped models', async () => {
    const { code, stderr } = await edgewarden([
      'analyze',
      '--input',
      sample,
      '--model',
      'baseline',
      '--format',
      'jsonl',
    ]);
    expect(code).toBe(0);
    expect(stderr).toContain('models wifi-baseline-1, dns-baseline-1, system-baseline-1');
  });
});

describe('edgewarden rules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'edgewarden-rules-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // dropbear svr-authpasswd.c: "Bad password attempt for '%s' from %s".
  const pack = (pattern: string, noMatch: string) => `pack: mine
rules:
  - id: mine.dropbear-failure
    agent: auth
    type: mine_failure
    description: failure from {source}
    match: [{ programs: [dropbear], pattern: "${pattern}" }]
    detect: { count: { threshold: 1, groupBy: [source] } }
    severity: 2
    remediation: look
    format: "dropbear svr-authpasswd.c: Bad password attempt for '%s' from %s"
    examples:
      match: ["<38>Nov 12 13:20:06 gw dropbear[9]: Bad password attempt for 'root' from 192.0.2.7:4000"]
      noMatch: ["${noMatch}"]
`;

  test('test: the built-in packs and a pack of yours; a failing example is named, exit 1', async () => {
    const good = path.join(dir, 'good.yaml');
    await writeFile(
      good,
      pack(
        "^Bad password attempt for '[^']*' from (?<source>[^:]+)",
        '<38>Nov 12 13:20:06 gw dropbear[9]: Child connection from 192.0.2.7:4000',
      ),
    );
    const ok = await edgewarden(['rules', 'test', good]);
    expect({ code: ok.code, stderr: ok.stderr }).toEqual({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^ok: \d+ rules, \d+ examples\n$/);

    const wrong = path.join(dir, 'wrong.yaml');
    await writeFile(
      wrong,
      pack(
        "^Bad password attempt for '[^']*' from (?<source>[^:]+)",
        "<38>Nov 12 13:20:06 gw dropbear[9]: Bad password attempt for 'admin' from 192.0.2.8:4000",
      ),
    );
    const failed = await edgewarden(['rules', 'test', wrong]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(
      'FAIL mine.dropbear-failure: matches, but is a noMatch example',
    );
    expect(failed.stdout).toMatch(/^1 failed: \d+ rules, \d+ examples$/m);
  });

  test('a pack that does not compile is refused, naming the rule and the field, exit 2', async () => {
    const broken = path.join(dir, 'broken.yaml');
    await writeFile(broken, pack('^Bad (?<source>[unclosed', 'x: y'));
    const r = await edgewarden(['rules', 'test', broken]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^edgewarden rules: refused: rule mine\.dropbear-failure \(.*broken\.yaml\): match\[0\]\.pattern: Invalid regular expression/,
    );
  });

  test('explain: which rules a line sets off, with the captures; list: every rule', async () => {
    const r = await edgewarden([
      'rules',
      'explain',
      '<38>Nov 12 13:20:06 web1 sshd[1234]: Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('parsed: program=sshd level=info host=web1');
    expect(r.stdout).toMatch(
      /^ {2}MATCH auth\.sshd-brute-force: .*source=203\.0\.113\.9.*; fires at 5 or more within 10m, by source$/m,
    );
    const unreadable = await edgewarden(['rules', 'explain', '']);
    expect(unreadable.code).not.toBe(0);
    const listed = await edgewarden(['rules', 'list', '--output', 'json']);
    const rules = JSON.parse(listed.stdout) as { id: string; agent: string }[];
    expect(rules.map((x) => x.agent)).toEqual(
      expect.arrayContaining(['wifi', 'dns', 'auth', 'firewall', 'system']),
    );
  });
});
