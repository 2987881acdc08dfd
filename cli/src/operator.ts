// `edgewarden operator`: runs the operator (the operator Deployment's entrypoint), with
// in-cluster configuration or a kubeconfig.
import { parseDuration } from '../../api/src/duration.js';
import { parsePort, PortError } from '../../api/src/port.js';
import type { AgentNetworkPolicySettings } from '../../operator/src/domain/analysisAgent/networkPolicy.js';
import { parseAllowedSourceTables } from '../../operator/src/domain/sourceTables.js';
import { addressPolicy } from '../../agent-runtime/src/model/addressPolicy.js';
import type { OperatorOptions } from '../../operator/src/main/operator.js';
import { parseMatchLabels } from './matchLabels.js';
import { defineCommand, type Values } from './options.js';
import { version } from './version.js';

const options = {
  kubeconfig: {
    type: 'string',
    value: 'FILE',
    help: 'kubeconfig to use (default: in-cluster, else the first file of $KUBECONFIG, else ~/.kube/config)',
  },
  namespace: {
    type: 'string',
    value: 'NS[,NS...]',
    multiple: true,
    help: 'watch only these namespaces; repeatable (default: all)',
  },
  'agent-image': {
    type: 'string',
    value: 'IMAGE',
    help: 'image of the agent pods (default: $EDGEWARDEN_AGENT_IMAGE, else ghcr.io/edgewarden/edgewarden:<version>)',
  },
  'model-url-allow': {
    type: 'string',
    value: 'CIDR[,CIDR...]',
    multiple: true,
    help:
      'address ranges besides public ones that ModelDeployment http URLs may reach (after DNS, ' +
      'on every redirect): LAN model servers; repeatable (default: none, so loopback, link-local, ' +
      'private and CGNAT addresses are refused)',
  },
  'image-pull-policy': {
    type: 'string',
    value: 'POLICY',
    default: 'IfNotPresent',
    help: 'Always, IfNotPresent or Never',
  },
  'metrics-port': {
    type: 'string',
    value: 'N',
    default: '8080',
    help: '/metrics (and probes) port; 0 picks one',
  },
  'health-port': {
    type: 'string',
    value: 'N',
    default: '8081',
    help: '/healthz and /readyz port; 0 picks one',
  },
  'bind-address': {
    type: 'string',
    value: 'ADDR',
    default: '0.0.0.0',
    help: 'address to serve on',
  },
  'leader-elect': {
    type: 'boolean',
    help: 'run leader election on a Lease (for more than one replica)',
  },
  'leader-election-namespace': {
    type: 'string',
    value: 'NS',
    help: 'namespace of the Lease (default: $POD_NAMESPACE, else default)',
  },
  'lease-duration': {
    type: 'string',
    value: 'DURATION',
    default: '15s',
    help: 'how long a lease lasts unrenewed',
  },
  'control-key-namespace': {
    type: 'string',
    value: 'NS',
    help:
      'namespace of the Secret edgewarden-control-key, from which the tokens for model delivery to ' +
      'agents are derived; made on first start (default: $POD_NAMESPACE, else default)',
  },
  workers: { type: 'string', value: 'N', default: '2', help: 'reconciles at once per controller' },
  poll: {
    type: 'string',
    value: 'DURATION',
    default: '30s',
    help: "how often agents' /status is read while they run",
  },
  'agent-network-policy': {
    type: 'string',
    value: 'BOOL',
    default: 'true',
    help:
      "a NetworkPolicy for each AnalysisAgent: its pods' HTTP port only from the operator's pods, " +
      'the export pods of its namespace and the metrics scrapers; false where the network enforces ' +
      'no policies or the cluster brings its own',
  },
  'operator-pod-selector': {
    type: 'string',
    value: 'LABELS',
    default: 'app.kubernetes.io/name=edgewarden,app.kubernetes.io/component=operator',
    help: "labels of the operator's own pods (in $POD_NAMESPACE), which may reach the agents",
  },
  'metrics-scraper-namespace': {
    type: 'string',
    value: 'NS',
    default: 'monitoring',
    help: "namespace of the Prometheus that scrapes the agents' /metrics; empty: any namespace",
  },
  'metrics-scraper-selector': {
    type: 'string',
    value: 'LABELS',
    default: 'app.kubernetes.io/name=prometheus',
    help: "labels of the scraper's pods (kube-prometheus-stack's Prometheus has these); empty: any pod",
  },
  'api-proxy-cidr': {
    type: 'string',
    value: 'CIDR',
    multiple: true,
    help:
      "networks the API server's pod proxy reaches agents from (the control-plane nodes' " +
      'addresses), let through by the NetworkPolicy so kubectl edgewarden works on a cluster of ' +
      "several nodes; repeatable (default: none; the agent's own node always passes)",
  },
  'allowed-source-tables': {
    type: 'string',
    value: 'SCHEMA.TABLE[,...]',
    multiple: true,
    help:
      "tables beyond the presets' that AnalysisAgents (and ExportJobs through them) may read; " +
      'repeatable; a name without a schema is in public; system schemas are never allowed ' +
      '(default: none)',
  },
  'alertmanager-url': {
    type: 'string',
    value: 'URL',
    default: '',
    help:
      'Alertmanager (API v2) for AnalysisAgents whose spec.notifications.alertmanager names none, ' +
      'e.g. http://alertmanager-operated.monitoring:9093 (default: none)',
  },
  v: { type: 'string', value: 'N', default: '0', help: 'log verbosity' },
} as const;

const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * --alertmanager-url: empty (none), or an http(s) URL without credentials (it is put in pod
 * specs, which many may read: a URL with credentials belongs in the AnalysisAgent's urlSecretRef).
 */
function alertmanagerUrl(text: string): { url?: string } | string {
  if (text === '') return {};
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `--alertmanager-url: not a URL: "${text}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return '--alertmanager-url: an http or https URL';
  if (url.username || url.password)
    return "--alertmanager-url: no credentials in it (pod specs show it); use the AnalysisAgent's spec.notifications.alertmanager.urlSecretRef";
  return { url: text };
}

type Settings = Omit<OperatorOptions, 'log'>;

/** Who may reach the agents (unset: no NetworkPolicy), or what is wrong with the options. */
function networkPolicy(
  values: Values<typeof options>,
  podNamespace: string,
): AgentNetworkPolicySettings | undefined | string {
  const enabled = values['agent-network-policy'];
  if (enabled !== 'true' && enabled !== 'false') return '--agent-network-policy: true or false';
  if (enabled === 'false') return undefined;
  const operatorPodLabels = parseMatchLabels(values['operator-pod-selector']);
  if (typeof operatorPodLabels === 'string') return `--operator-pod-selector: ${operatorPodLabels}`;
  const scraperPodLabels = parseMatchLabels(values['metrics-scraper-selector']);
  if (typeof scraperPodLabels === 'string')
    return `--metrics-scraper-selector: ${scraperPodLabels}`;
  const scraperNamespace = values['metrics-scraper-namespace'];
  if (scraperNamespace !== '' && !NAMESPACE_NAME.test(scraperNamespace))
    return `--metrics-scraper-namespace: not a namespace name: "${scraperNamespace}"`;
  const proxy = addressPolicy(values['api-proxy-cidr'].join(','));
  if ('invalid' in proxy)
    return `--api-proxy-cidr: not an address or a CIDR range: "${proxy.invalid}"`;
  const apiServerCidrs = proxy.allow.map(([address, bits]) => `${address.toString()}/${bits}`);
  return {
    operatorNamespace: podNamespace,
    operatorPodLabels,
    ...(scraperNamespace === '' ? {} : { scraperNamespace }),
    scraperPodLabels,
    ...(apiServerCidrs.length > 0 && { apiServerCidrs }),
  };
}

/** The operator's settings from its options, or what is wrong with them. */
function settings(values: Values<typeof options>): Settings | string {
  const metricsPort = parsePort(values['metrics-port'], {
    option: '--metrics-port',
    allowZero: true,
  });
  if (metricsPort instanceof PortError) return metricsPort.message;
  const healthPort = parsePort(values['health-port'], { option: '--health-port', allowZero: true });
  if (healthPort instanceof PortError) return healthPort.message;
  const policy = values['image-pull-policy'];
  const modelUrlAllow = values['model-url-allow'].join(',');
  const allowPolicy = addressPolicy(modelUrlAllow);
  if ('invalid' in allowPolicy)
    return `--model-url-allow: not an address or a CIDR range: "${allowPolicy.invalid}"`;
  if (policy !== 'Always' && policy !== 'IfNotPresent' && policy !== 'Never')
    return '--image-pull-policy: must be Always, IfNotPresent or Never';
  const lease = parseDuration(values['lease-duration']);
  if (lease === undefined || lease < 2000) return '--lease-duration: at least 2s';
  const poll = parseDuration(values.poll);
  if (poll === undefined || poll < 1000) return '--poll: at least 1s';
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) return '--workers: 1 to 64';
  const namespaces = values.namespace.flatMap((n) => n.split(',')).map((n) => n.trim());
  const badNamespace = namespaces.find((n) => !NAMESPACE_NAME.test(n));
  if (badNamespace !== undefined) return `--namespace: not a namespace name: "${badNamespace}"`;
  const verbosity = Number(values.v);
  if (!Number.isInteger(verbosity) || verbosity < 0) return '--v: a level of 0 or more';
  const allowedSourceTables = parseAllowedSourceTables(
    values['allowed-source-tables'].flatMap((t) => t.split(',')),
  );
  if (typeof allowedSourceTables === 'string') return allowedSourceTables;
  const podNamespace = process.env.POD_NAMESPACE ?? 'default';
  const agentNetworkPolicy = networkPolicy(values, podNamespace);
  if (typeof agentNetworkPolicy === 'string') return agentNetworkPolicy;
  const alertmanager = alertmanagerUrl(values['alertmanager-url']);
  if (typeof alertmanager === 'string') return alertmanager;
  return {
    kubeconfig: values.kubeconfig,
    namespaces,
    metricsPort,
    healthPort,
    bindAddress: values['bind-address'],
    leaderElect: values['leader-elect'],
    leaderElectionNamespace: values['leader-election-namespace'] ?? podNamespace,
    operatorNamespace: values['control-key-namespace'] ?? podNamespace,
    leaseDurationMs: lease,
    workers,
    pollMs: poll,
    verbosity,
    settings: {
      agentImage:
        values['agent-image'] ??
        process.env.EDGEWARDEN_AGENT_IMAGE ??
        `ghcr.io/edgewarden/edgewarden:${version()}`,
      imagePullPolicy: policy,
      ...(allowPolicy.allow.length > 0 && { modelUrlAllow }),
      allowedSourceTables,
      ...(agentNetworkPolicy && { networkPolicy: agentNetworkPolicy }),
      ...(alertmanager.url && { alertmanagerUrl: alertmanager.url }),
    },
  };
}

/** Runs until SIGTERM or SIGINT (exit 0), or until it loses the leader lease (exit 1). */
async function serve(operatorOptions: Settings): Promise<number> {
  const { runOperator } = await import('../../operator/src/main/operator.js');
  let running;
  try {
    running = await runOperator(operatorOptions);
  } catch (error) {
    console.error(`edgewarden operator: cannot start: ${(error as Error).message}`);
    return 1;
  }
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const why = await Promise.race([signalled, running.stopped]);
  await running.stop();
  return why === 'lost the leader lease' ? 1 : 0;
}

export const operatorCommand = defineCommand({
  name: 'operator',
  synopsis: ['edgewarden operator [options]'],
  about: `Runs the edgewarden operator: turns AnalysisAgents into agent pods and keeps their status,
and rolls ModelDeployments out to them.`,
  options,
  async run(values, _positionals, fail) {
    const operatorOptions = settings(values);
    return typeof operatorOptions === 'string' ? fail(operatorOptions) : serve(operatorOptions);
  },
});
