// `edgewarden agent`: an agent pod's entrypoint. Configuration comes from the file and the
// environment named in the agent contract (agent-runtime/src/contract).
import { AgentRunner } from '../../agent-runtime/src/pod/agentRunner.js';
import { ConfigError, loadConfig } from '../../agent-runtime/src/pod/config.js';
import { agentDefaults, agentEnv } from '../../agent-runtime/src/contract/index.js';
import { defineCommand } from './options.js';

const configuration = `Configuration (checked at start; a bad value stops it with a message naming the key):
  ${agentEnv.config.padEnd(22)} an AnalysisAgent manifest (default ${agentDefaults.config})
  ${agentEnv.pgUrl.padEnd(22)} postgresql://user:password@host:5432/database
                         (or PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD)
  ${agentEnv.pgCaFile.padEnd(22)} CA certificate (PEM) for sslMode verify-ca / verify-full
  ${agentEnv.redisUrl.padEnd(22)} Redis URL, optional
  ${agentEnv.dataDir.padEnd(22)} folder of the SQLite store (default ${agentDefaults.dataDir})
  ${agentEnv.modelDir.padEnd(22)} model folder, hot-reloaded (default ${agentDefaults.modelDir})
  ${agentEnv.port.padEnd(22)} HTTP port (default ${agentDefaults.port})
  ${agentEnv.pod.padEnd(22)} the pod's name, for status keys
  ${agentEnv.readTokenSha256}
                         hex SHA-256 of the read token (GET /status, /anomalies)
  ${agentEnv.controlTokenSha256}
                         hex SHA-256 of the control token (every route)
  ${agentEnv.apiAuth}    none: /status, /anomalies, /metrics open (an agent run by hand);
                         default token: with no digest above they refuse every request
  ${agentEnv.metricsAuth}
                         token: /metrics needs the read or the control token (default open)
A token goes as Authorization: Bearer <token> or X-Edgewarden-Token: <token> (docs/security.md).
A secret setting (the PostgreSQL ones, Redis, Slack, webhook, SMTP) may instead name a file:
<NAME>_FILE=/path (e.g. ${agentEnv.pgUrl}_FILE), as an agent pod is given them; the file wins.`;

async function run(): Promise<number> {
  let runner: AgentRunner;
  try {
    const config = await loadConfig();
    runner = await AgentRunner.start(config);
    console.log(
      `edgewarden agent ${config.name} (${config.spec.agent}) serving on port ${runner.port()}`,
    );
  } catch (error) {
    console.error(
      `edgewarden agent: ${error instanceof ConfigError ? 'configuration: ' : ''}${(error as Error).message}`,
    );
    return 2;
  }
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
  });
  console.log('edgewarden agent: stopping');
  await runner.stop();
  return 0;
}

export const agentCommand = defineCommand({
  name: 'agent',
  synopsis: ['edgewarden agent'],
  about: `Runs one analysis agent: every interval it reads new log lines from PostgreSQL, analyses
them, and stores anomalies in its SQLite store; it serves /healthz, /readyz, /metrics,
/status and /anomalies over HTTP (/status and /anomalies with a token, see below). SIGTERM lets a running cycle finish, then exits.
It takes no arguments: its configuration is by environment.`,
  options: {},
  more: configuration,
  run,
});
