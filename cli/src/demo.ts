// `edgewarden demo`: the main job on a laptop, on embedded defaults and real router logs.
import { homedir } from 'node:os';

import {
  chooseDemoStorage,
  defaultDemoFolder,
  type DemoStorage,
} from '../../agent-runtime/src/demo/demoStorage.js';
import { runDemo, type DemoResult } from '../../agent-runtime/src/demo/runDemo.js';
import { UnwritableFolderError } from '../../agent-runtime/src/files/writableFolder.js';
import { serveDemo } from '../../agent-runtime/src/demo/serveDemo.js';
import { parsePort, PortError } from '../../api/src/port.js';
import { defineCommand, type Fail, type Values } from './options.js';
import { anomalyTable } from './table.js';

const options = {
  'data-dir': {
    type: 'string',
    value: 'DIR',
    help:
      'where the log (routers.log) and the SQLite store (anomalies.db) are written, replaced each ' +
      'run; it must be writable. Default $XDG_DATA_HOME/edgewarden/demo or ' +
      '~/.local/share/edgewarden/demo; when that cannot be written (a read-only file system, as ' +
      'in the image), the demo writes nothing and keeps its store in memory, and says so',
  },
  seed: { type: 'string', value: 'N', default: '1', help: 'seed of the attack generator' },
  serve: {
    type: 'boolean',
    help: 'then keep serving the results on 127.0.0.1 (/anomalies, /status, /metrics, /healthz, /readyz) until Ctrl-C',
  },
  port: {
    type: 'string',
    value: 'N',
    default: '8080',
    help: 'port for --serve; 0 picks a free one',
  },
} as const;

async function run(
  values: Values<typeof options>,
  _positionals: string[],
  fail: Fail,
): Promise<number> {
  const port = parsePort(values.port, { option: '--port', allowZero: true });
  if (port instanceof PortError) return fail(port.message);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) return fail('--seed: must be a whole number');
  let storage: DemoStorage;
  try {
    storage = await chooseDemoStorage(
      values['data-dir'],
      defaultDemoFolder(process.env, knownHome()),
    );
  } catch (error) {
    if (!(error instanceof UnwritableFolderError)) throw error;
    console.error(`edgewarden demo: --data-dir: ${error.message}`);
    return 2;
  }
  const r = await runDemo(storage, seed);
  try {
    return await report(r, values.serve, port);
  } finally {
    r.store.close();
  }
}

/** The home folder, or undefined when none is known (os.homedir() throws without HOME or a passwd entry). */
function knownHome(): string | undefined {
  try {
    return homedir() || undefined;
  } catch {
    return undefined;
  }
}

/** Where the log and the store are, or that they are in memory only, and how to keep them. */
export function whereTheDataLives(r: Pick<DemoResult, 'storage' | 'logFile' | 'databaseFile'>): {
  where: string;
  next: string;
} {
  if (r.storage.kind === 'folder' && r.logFile && r.databaseFile)
    return {
      where: `  logs       ${r.logFile}
  anomalies  ${r.databaseFile}   (SQLite: sqlite3 ${r.databaseFile} 'SELECT * FROM anomalies')`,
      next: `edgewarden analyze --input ${r.logFile} --agent auth --format jsonl`,
    };
  const why = r.storage.kind === 'memory' ? r.storage.why : 'no folder was given';
  return {
    where: `  in memory only: nothing was written to disk, and the store is gone when the demo ends
  (${why}).
  The generated log, whose LINES the table names, was kept in memory too.
  --data-dir DIR writes routers.log and anomalies.db to DIR instead; with a read-only root
  file system, make DIR a writable mount (an emptyDir, docker run -v or --tmpfs).`,
    next: 'edgewarden demo --data-dir DIR, then edgewarden analyze --input DIR/routers.log --agent auth --format jsonl',
  };
}

async function report(r: DemoResult, serve: boolean, port: number): Promise<number> {
  const alerting = r.stored.filter((a) => a.severity >= 2);
  const { where, next } = whereTheDataLives(r);
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  console.log(`edgewarden demo
  ${r.backgroundLines} lines of real OpenWrt logs + ${r.injectedLines} lines of ${r.detections.length} injected attacks
  analysed by 6 agents in ${r.seconds.toFixed(2)} s: ${r.summary.anomalies} anomalies, ${r.stored.length} stored after de-duplication
  models     ${
    Object.entries(r.models)
      .map(([agent, version]) => `${agent} ${version}`)
      .join(', ') || 'none (rules and baselines only)'
  } (models/, rebuilt by npm run models)

Stored anomalies of severity 2 and above (severity 1 entries are in the store too):
${anomalyTable(alerting)}

Injected attacks:
${r.detections
  .map(({ scenario, anomaly }) =>
    anomaly
      ? `  found   ${scenario.padEnd(30)} ${`${anomaly.agent}/${anomaly.type}`.padEnd(28)} severity ${anomaly.severity}`
      : `  MISSED  ${scenario}`,
  )
  .join('\n')}
  precision ${pct(r.report.precision)}, recall ${pct(r.report.recall)} at severity 3 and above (real PSK mismatches in the background count as real)

Where the data lives:
${where}

Next: ${next}`);
  const status = r.report.missed.length === 0 ? 0 : 1;
  if (!serve) return status;
  const server = await serveDemo(r, port);
  console.log(
    `\nServing on http://127.0.0.1:${server.port}: /anomalies?minSeverity=high, /status, /metrics (Ctrl-C stops)`,
  );
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve());
  });
  await server.close();
  return status;
}

export const demoCommand = defineCommand({
  name: 'demo',
  synopsis: ['edgewarden demo [--data-dir DIR] [--seed N] [--serve [--port N]]'],
  about: `Takes 707 lines of real OpenWrt router logs, injects seven realistic attacks (SSH brute force,
Wi-Fi wrong-password burst, deauthentication flood, DHCP starvation, port scan, WAN flapping,
DNS tunnelling), analyses everything with every built-in agent into an embedded SQLite store,
and prints what was found. No database server, cluster or network needed.`,
  options,
  run,
});
