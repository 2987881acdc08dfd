// A child process that runs agent cycles against PostgreSQL into a SQLite store, for the
// kill -9 test. Configured by environment; prints one JSON line per event:
//   {"event":"reading"}                 before every batch read (so a test can kill mid-cycle)
//   {"event":"cycle","lines":N,...}     after every committed cycle
// Each batch read is slowed by EW_BATCH_DELAY_MS, so a cycle lasts long enough to be killed in.
import { readFileSync } from 'node:fs';

import { AnalysisEngine } from '../../agent-runtime/src/agents/engine.js';
import { agentNames } from '../../agent-runtime/src/agents/registry.js';
import { ruledAgents } from '../../agent-runtime/src/rules/ruledAgents.js';
import { restoreEngine, runCycle } from '../../agent-runtime/src/pod/cycle.js';
import { WindowScorer } from '../../agent-runtime/src/model/windowScorer.js';
import { PostgresSource } from '../../agent-runtime/src/source/postgresSource.js';
import { resolveMapping } from '../../agent-runtime/src/source/presets.js';
import { AnomalyStore } from '../../agent-runtime/src/store/anomalyStore.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const source = new PostgresSource({
  connection: {
    host: env('EW_PG_HOST'),
    port: Number(env('EW_PG_PORT')),
    database: env('EW_PG_DATABASE'),
    user: env('EW_PG_USER'),
    password: env('EW_PG_PASSWORD'),
    sslMode: 'verify-full',
    ca: readFileSync(env('EW_PG_CA_FILE'), 'utf8'),
  },
  mapping: resolveMapping('log_entries'),
  batchSize: Number(env('EW_BATCH_SIZE')),
});
const read = source.read.bind(source);
const delay = Number(process.env.EW_BATCH_DELAY_MS ?? '0');
source.read = async (watermark) => {
  console.log(JSON.stringify({ event: 'reading', watermark }));
  await new Promise((r) => setTimeout(r, delay));
  return read(watermark);
};

const store = new AnomalyStore(env('EW_STORE'), {
  cooldownMs: 15 * 60_000,
  retentionMs: 365 * 86_400_000,
  maxRows: 100_000,
});
const scorer = new WindowScorer(() => ({}));
// The agents as pods run them: their code and the built-in rule packs.
const { agents } = await ruledAgents(agentNames, { windowMs: 300_000 });
const engine = new AnalysisEngine(agents, {
  windowMs: 300_000,
  onWindow: scorer.collect,
});
restoreEngine(engine, store, 'log_entries');
for (;;) {
  const result = await runCycle({
    source,
    store,
    engine,
    scorer,
    sourceKey: 'log_entries',
    startAt: 'beginning',
    maxLines: Number(env('EW_MAX_LINES')),
  });
  console.log(
    JSON.stringify({
      event: 'cycle',
      lines: result.lines,
      watermark: result.watermark,
      anomalies: result.anomalies.length,
    }),
  );
  if (result.lines === 0) break;
}
store.close();
await source.close();
