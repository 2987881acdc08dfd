// `kubectl edgewarden ack|resolve|false-positive ID`: the anomaly's new status (with --note and
// the user's name) through the pod's POST /anomalies/:id/status with the triager token; for a
// false positive, then a suppression of what it matched written into the AnalysisAgent
// (--no-suppress: only marked; --dry-run: nothing changed, the patch printed).
import { podAnomaly, setAnomalyStatus } from './agentApi.js';
import { formatAnomalyId } from './anomalyId.js';
import { anomalyTarget } from './anomalyTarget.js';
import { anomalyItem } from './anomalyRows.js';
import { userName } from './cluster.js';
import { CommandError, type CommandRun, type RunContext } from './context.js';
import { documentText } from './output.js';
import { proposeSuppression, type Suppression } from './suppression.js';
import { applySuppression } from './suppressionApply.js';
import { parseSpan } from './time.js';
import type { WireAnomaly } from './wire.js';

const NEW_STATUS = {
  ack: 'acknowledged',
  resolve: 'resolved',
  'false-positive': 'false_positive',
} as const;

const DEFAULT_EXPIRES = '30d';
const NOTE_LIMIT = 1024;

export function triageCommand(command: keyof typeof NEW_STATUS): CommandRun {
  return async (c) => {
    const status = NEW_STATUS[command];
    const note = c.flags.note;
    if (note !== undefined && note.length > NOTE_LIMIT)
      throw new CommandError(`--note: at most ${NOTE_LIMIT} characters`);
    const expiresMs = parseSpan(c.flags.expires ?? DEFAULT_EXPIRES);
    if (expiresMs === undefined)
      throw new CommandError(`--expires: "${c.flags.expires}" is not a span (7d, 30d)`);
    const { id, agent, target } = await anomalyTarget(c, 'triager');
    const by = await userName(c.client);
    const name = formatAnomalyId(id.pod, id.id);
    let anomaly: WireAnomaly;
    if (c.flags.dryRun) {
      anomaly = await podAnomaly(c.client, target, id.id);
      c.io.out(`anomaly ${name} would be marked ${status} (dry run)`);
    } else {
      anomaly = await setAnomalyStatus(c.client, target, id.id, {
        status,
        ...(note ? { note } : {}),
        by,
      });
      const format = c.flags.output;
      if (format === 'json' || format === 'yaml')
        c.io.out(
          documentText(
            anomalyItem({ namespace: c.namespace, analysisAgent: agent, pod: id.pod, anomaly }),
            format,
          ),
        );
      else c.io.out(`anomaly ${name} ${status.replace('_', ' ')}`);
    }
    if (command !== 'false-positive' || c.flags.noSuppress) return 0;
    return suppress(c, agent, anomaly, { expiresMs, by, note });
  };
}

/** The suppression a false positive proposes, written (or, --dry-run, printed). */
async function suppress(
  c: RunContext,
  agent: string,
  anomaly: WireAnomaly,
  o: { expiresMs: number; by: string; note?: string },
): Promise<number> {
  const now = c.now();
  const proposal = proposeSuppression(anomaly, {
    now,
    expiresMs: o.expiresMs,
    note: o.note,
    user: o.by,
  });
  if (!proposal.ok) {
    c.io.err(`no suppression proposed: ${proposal.reason}`);
    return 0;
  }
  const result = await applySuppression(c.client, c.namespace, agent, proposal.suppression, {
    dryRun: c.flags.dryRun,
    now,
  });
  const where = `analysisagent.edgewarden.io/${agent}`;
  if (result.kind === 'present')
    c.io.out(
      `${where}: a suppression of the same scope is there already (until ${result.existing.expires}); unchanged`,
    );
  else if (result.kind === 'dry-run') {
    c.io.out(`${where} would be patched (application/json-patch+json, dry run):`);
    c.io.out(JSON.stringify(result.patch, null, 2));
  } else c.io.out(`${where} patched: suppression of ${scopeOf(proposal.suppression)}`);
  return 0;
}

/** The scope a suppression covers, as the user reads it: rule, device, source, user, expiry. */
function scopeOf(s: Suppression): string {
  return [
    `rule ${s.rule}`,
    ...(s.device ? [`on ${s.device}`] : []),
    ...(s.source ? [`from ${s.source}`] : []),
    ...(s.user ? [`for user ${s.user}`] : []),
    `until ${s.expires}`,
  ].join(' ');
}
