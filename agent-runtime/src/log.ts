// The agent runtime's log: the structured logger both programs share (api/src/log.ts), one per
// program, named by its `component` on every line (agent, export, trainer, ...), written to stderr.
// Built at module level so a library logs without being handed a logger: it imports only api/,
// so any file of the runtime can import it without a cycle.
import { jsonLogger, type Logger } from '../../api/src/log.js';

export type { Fields, Logger } from '../../api/src/log.js';

const root = jsonLogger();

/** The logger of one program or library of the agent runtime. */
export function componentLog(component: string): Logger {
  return root.with({ component });
}
