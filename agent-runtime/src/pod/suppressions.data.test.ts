// spec.rules.suppressions in a real `edgewarden agent` process against a real PostgreSQL: a
// brute force is found; a suppression for its rule, device and source is written into the
// agent's configuration file (as the kubelet updates the mounted ConfigMap) and applies from
// the next cycle, with no restart: the repeat is neither stored nor bumped, and is counted;
// another source on the same device is still found. A bad suppression is refused by its field
// and the suppression in force goes on.
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';

import {
  modelAgentSetup,
  startModelAgent,
  type ModelAgentProcess,
  type ModelAgentSetup,
} from '../../../test/fixtures/modelAgentProcess.js';
import { adminClient, createLogTable } from '../../../test/services/postgres.js';
import { until } from '../../../test/fixtures/until.js';
import { authAgentYaml } from '../../../test/fixtures/agentManifest.js';

let setup: ModelAgentSetup;
let admin: pg.Client;
let config: string;

const RULE = 'auth.dropbear-brute-force';

const manifest = (rules = ''): string => authAgentYaml(rules);

/** As the kubelet updates a mounted ConfigMap: the new file appears whole, never half-written. */
async function writeAtomically(file: string, text: string): Promise<void> {
  await writeFile(`${file}.new`, text);
  await rename(`${file}.new`, file);
}

beforeAll(async () => {
  setup = await modelAgentSetup('edgewarden-suppressions-');
  config = path.join(setup.dir, 'agent.yaml');
  await writeAtomically(config, manifest());
  admin = await adminClient(setup.server);
  await createLogTable(admin);
});

afterAll(async () => {
  await admin?.end().catch(() => undefined);
  await setup?.remove();
});

/** dropbear svr-authpasswd.c: "Bad password attempt for '%s' from %s". */
async function failures(n: number, from: string, device = 'gw-home'): Promise<void> {
  for (let i = 0; i < n; i++)
    await admin.query(
      `INSERT INTO log_entries (device_id, timestamp, log_level, process_name, message) VALUES ($1, now(), 'warning', 'dropbear', $2)`,
      [device, `Bad password attempt for 'root' from ${from}:${40000 + i}`],
    );
}

interface Stored {
  id: number;
  rule?: string;
  device: string;
  description: string;
  occurrences: number;
  captures: Record<string, string> | null;
}

interface Status {
  linesAnalyzed: number;
  rules: { reloads: number; error?: string; suppressions?: { active: number; expired: number } };
}

function api(agent: ModelAgentProcess) {
  const json = async <T>(p: string): Promise<T> => (await (await fetch(agent.url(p))).json()) as T;
  return {
    status: () => json<Status>('/status'),
    bruteForce: async () =>
      (await json<Stored[]>('/anomalies')).filter((a) => a.rule === RULE && a.device === 'gw-home'),
    metrics: async () => (await fetch(agent.url('/metrics'))).text(),
  };
}

const SUPPRESSED =
  /^edgewarden_anomalies_suppressed_total\{agent="auth",rule="auth\.dropbear-brute-force"\} (\d+)$/m;

test('a suppression for rule, device and source stops that repeat from the next cycle, counted; another source is still found', async () => {
  const agent = await startModelAgent(setup, {
    EDGEWARDEN_RULES_DIR: path.join(setup.dir, 'rules'),
  });
  const { status, bruteForce, metrics } = api(agent);
  const analysed = (n: number) =>
    until(`${n} lines analysed`, async () =>
      (await status()).linesAnalyzed >= n ? true : undefined,
    );
  try {
    await until('ready', async () =>
      (await fetch(agent.url('/readyz'))).status === 200 ? true : undefined,
    );
    expect((await metrics()).match(SUPPRESSED)).toBeNull(); // no suppression, no series

    await failures(5, '203.0.113.7');
    const [found] = await until('the brute force to be found', async () => {
      const list = await bruteForce();
      return list.length > 0 ? list : undefined;
    });
    expect(found!.description).toContain('from 203.0.113.7');
    const before = (await status()).rules.reloads;

    // What `kubectl edgewarden false-positive` proposes: this rule, this device, this source.
    await writeAtomically(
      config,
      manifest(`  rules:
    suppressions:
      - rule: ${RULE}
        device: gw-home
        source: 203.0.113.7
        expires: '${new Date(Date.now() + 3_600_000).toISOString()}'
        reason: our own scanner
      - rule: ${RULE}
        device: gw-home
        source: 203.0.113.0/24
        expires: '2020-01-01T00:00:00Z'
`),
    );
    const loaded = await until('the suppression to be loaded', async () => {
      const s = await status();
      return s.rules.reloads > before ? s : undefined;
    });
    expect(loaded.rules.error).toBeUndefined();
    expect(loaded.rules.suppressions).toEqual({ active: 1, expired: 1 });
    expect((await metrics()).match(SUPPRESSED)?.[1]).toBe('0'); // the series starts at 0

    // The repeat, in a cycle of its own: not stored, not bumped, counted.
    const lines = (await status()).linesAnalyzed;
    await failures(5, '203.0.113.7');
    await analysed(lines + 5);
    await until('the repeat to be counted as suppressed', async () =>
      Number((await metrics()).match(SUPPRESSED)?.[1]) >= 1 ? true : undefined,
    );
    expect(await bruteForce()).toEqual([found]);

    // Another source on the same device is still found (the same anomaly's row, by device and type).
    await failures(5, '198.51.100.9');
    const [again] = await until('the other source to be found', async () => {
      const list = await bruteForce();
      return list[0]?.description.includes('198.51.100.9') ? list : undefined;
    });
    expect(again!.id).toBe(found!.id);
    expect(again!.occurrences).toBe(found!.occurrences + 1);
    expect(again!.captures).toEqual({ source: '198.51.100.9' }); // the rule's groupBy

    // A suppression that does not compile is refused by its field; the one in force goes on.
    await writeAtomically(
      config,
      manifest(`  rules:
    suppressions:
      - { rule: ${RULE}, source: 203.0.113.300, expires: '2030-01-01T00:00:00Z' }
`),
    );
    const refused = await until(
      'the bad suppression to be refused',
      async () => (await status()).rules.error,
    );
    expect(refused).toBe(
      'suppression: spec.rules.suppressions[0].source: "203.0.113.300" is not an address or a CIDR network',
    );
    const counted = Number((await metrics()).match(SUPPRESSED)?.[1]);
    await failures(5, '203.0.113.7');
    await until('the suppression in force to count the next repeat', async () =>
      Number((await metrics()).match(SUPPRESSED)?.[1]) > counted ? true : undefined,
    );
    expect((await bruteForce())[0]!.occurrences).toBe(again!.occurrences);
    expect(agent.proc.exitCode).toBeNull(); // the same process throughout: no restart
  } finally {
    await agent.stop();
  }
  expect(agent.proc.exitCode).toBe(0);
}, 180_000); // six cycles of 10 s, each waited for
