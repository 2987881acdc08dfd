// `kubectl edgewarden --help` and each command's `--help`, written once here.
import type { CommandName } from './args.js';

const CONNECTION = `Connection (as kubectl):
  --kubeconfig FILE     the kubeconfig (default: the first file of $KUBECONFIG, else ~/.kube/config)
  --context NAME        a context of the kubeconfig instead of its current one
  -n, --namespace NS    the namespace (default: the context's, else "default")`;

const OUTPUT = '  -o, --output FORMAT   table (default), wide, json or yaml';

const COMMAND_HELP: Record<CommandName, string> = {
  anomalies: `List the anomalies of every agent pod (the namespace's, or all with -A).

Usage: kubectl edgewarden anomalies [flags]

Flags:
  -A, --all-namespaces  every namespace
      --severity SEV    the least severity shown: info, low, medium, high, critical (or 1-5)
      --agent NAME      only this AnalysisAgent's
      --rule RULE       only this rule's
      --device DEVICE   only this device's
      --status LIST     comma list of open, acknowledged, resolved, false_positive, suppressed,
                        or all (default open,acknowledged)
      --since SPAN      only those of the last SPAN (1h, 7d)
  -w, --watch           poll and print what is new or changed, until interrupted
      --interval SPAN   the watch's poll interval (default 10s)
${OUTPUT}

${CONNECTION}`,
  anomaly: `Show one anomaly: evidence, remediation, status.

Usage: kubectl edgewarden anomaly ID [-n NAMESPACE] [-o json|yaml]

ID is <pod>:<id>, as the ID column of \`anomalies\` shows it (auth-agent-0:17).

${CONNECTION}`,
  ack: `Mark an anomaly acknowledged (someone is looking at it).

Usage: kubectl edgewarden ack ID [--note TEXT] [-n NAMESPACE]

${CONNECTION}`,
  resolve: `Mark an anomaly resolved.

Usage: kubectl edgewarden resolve ID [--note TEXT] [-n NAMESPACE]

${CONNECTION}`,
  'false-positive': `Mark an anomaly a false positive, and suppress what it matched: a suppression of its rule,
device and (when its rule grouped by them) source address and user is added to the
AnalysisAgent's spec.rules.suppressions until --expires.

Usage: kubectl edgewarden false-positive ID [--note TEXT] [flags]

Flags:
      --note TEXT       why (also the suppression's reason)
      --expires SPAN    how long the suppression holds (default 30d)
      --dry-run         change nothing: print the status change and the patch
      --no-suppress     only mark it; no suppression

${CONNECTION}`,
  agents: `List the AnalysisAgents: ready, lines analysed per second, open anomalies, model.

Usage: kubectl edgewarden agents [-A] [-o FORMAT]

${OUTPUT}

${CONNECTION}`,
  top: `The devices with most anomalies, per namespace.

Usage: kubectl edgewarden top devices [-A] [--since SPAN]

Flags:
  -A, --all-namespaces  every namespace
      --since SPAN      over the last SPAN (default 24h)
${OUTPUT}

${CONNECTION}`,
};

export const mainHelp = `kubectl edgewarden: read and triage the anomalies of edgewarden's agents.

Usage: kubectl edgewarden COMMAND [flags]

Commands:
  anomalies         list anomalies across agents and namespaces
  anomaly ID        one anomaly in detail
  ack ID            mark it acknowledged
  resolve ID        mark it resolved
  false-positive ID mark it a false positive and suppress what it matched
  agents            list the AnalysisAgents
  top devices       the devices with most anomalies

Run \`kubectl edgewarden COMMAND --help\` for a command's flags.`;

export const commandHelp = (name: CommandName | undefined): string =>
  name === undefined ? mainHelp : COMMAND_HELP[name];
