// The exporter's log: the runtime's one structured logger (api/src/log.ts), JSON lines with
// component "export", on stdout. Stderr is left to the run's last word when it fails, one plain
// line `edgewarden export: failed: <reason>: <message>` that the CLI prints and its tests read
// whole (cli/src/readOnly.test.ts); the progress lines went to stdout before the logger too.
import { jsonLogger } from '../../../api/src/log.js';

export const exportLog = jsonLogger({
  base: { component: 'export' },
  write: (line) => void process.stdout.write(`${line}\n`),
});
