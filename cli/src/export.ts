// `edgewarden export`: an ExportJob's pod. Everything comes from the plan file and the
// environment named in the export contract (agent-runtime/src/contract/export.ts).
import { agentEnv } from '../../agent-runtime/src/contract/index.js';
import { exportDefaults, exportEnv } from '../../agent-runtime/src/contract/export.js';
import {
  cleanExport,
  Exporter,
  TERMINATION_MESSAGE_ENV,
} from '../../agent-runtime/src/exporter/runExport.js';
import { defineCommand, type Values } from './options.js';

const configuration = `Exit codes: 0 done; 1 failed, worth retrying (resumes); 3 the plan cannot work (an unknown
table or column, an empty time range): no retry helps.

Configuration:
  ${exportEnv.plan.padEnd(31)} the export plan, JSON (default ${exportDefaults.plan})
  ${exportEnv.dir.padEnd(31)} folder for the files, created if missing (default ${exportDefaults.volume})
  ${exportEnv.port.padEnd(31)} HTTP port (default ${exportDefaults.port}; 0 picks one)
  ${exportEnv.hashKey.padEnd(31)} key for transform.hashAddresses (default: random, per export)
  ${agentEnv.pgUrl.padEnd(31)} postgresql://user:password@host:5432/database
                                  (or PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD)
  ${agentEnv.pgCaFile.padEnd(31)} CA certificate (PEM) for sslMode verify-ca / verify-full
  ${TERMINATION_MESSAGE_ENV.padEnd(31)} where the last progress goes (default ${exportDefaults.terminationMessage}, when it exists)
A secret setting (the hash key, the PostgreSQL ones) may instead name a file: <NAME>_FILE=/path
(e.g. ${exportEnv.hashKey}_FILE), as an export pod is given them; the file wins.`;

const options = {
  clean: {
    type: 'boolean',
    help: "remove the export's files, manifest and checkpoint instead (the ExportJob's TTL)",
  },
} as const;

async function run(values: Values<typeof options>): Promise<number> {
  if (values.clean) return cleanExport();
  const exporter = new Exporter();
  const stop = (): void => {
    console.log('edgewarden export: stopping after the current batch');
    exporter.stop();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    const code = await exporter.run();
    const failure = exporter.current().error;
    if (failure) console.error(`edgewarden export: failed: ${failure.reason}: ${failure.message}`);
    return code;
  } finally {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  }
}

export const exportCommand = defineCommand({
  name: 'export',
  synopsis: ['edgewarden export [--clean]'],
  about: `Runs one export (an ExportJob's Job): the logs of the plan's window from PostgreSQL, read as
the referenced AnalysisAgent reads them, and the anomalies of its agent pods (GET /anomalies),
written as JSON, JSON lines or CSV (gzip optional) into files of at most maxFileSize, then a
manifest (<name>.manifest.json) with each file's records, bytes and SHA-256. It checkpoints
after every batch: run again after a crash or SIGTERM, it resumes after the last complete
batch, and every row ends up in the files exactly once. It serves GET /progress and /healthz.`,
  options,
  more: configuration,
  run,
});
