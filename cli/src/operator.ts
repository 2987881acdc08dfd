// `edgewarden operator`: runs the operator (the operator Deployment's entrypoint), with
// in-cluster configuration or a kubeconfig.
import { parseArgs } from 'node:util';

import { parseDuration } from '../../api/src/duration.js';
import type { Command } from './command.js';

const usage = `Usage: edgewarden operator [options]

Runs the edgewarden operator: turns AnalysisAgents into agent pods and keeps their status,
and rolls ModelDeployments out to them.

Options:
  --kubeconfig FILE            kubeconfig to use (default: in-cluster, else the first file
                               of $KUBECONFIG, else ~/.kube/config)
  --namespace NS[,NS...]       watch only these namespaces; repeatable (default: all)
  --agent-image IMAGE          image of the agent pods (default: $EDGEWARDEN_AGENT_IMAGE,
                               else ghcr.io/edgewarden/edgewarden:<version>)
  --image-pull-policy POLICY   Always, IfNotPresent or Never (default IfNotPresent)
  --metrics-port N             /metrics (and probes) port (default 8080; 0 picks one)
  --health-port N              /healthz and /readyz port (default 8081; 0 picks one)
  --bind-address ADDR          address to serve on (default 0.0.0.0)
  --leader-elect               run leader election on a Lease (for more than one replica)
  --leader-election-namespace NS  namespace of the Lease (default: $POD_NAMESPACE, else default)
  --lease-duration DURATION    how long a lease lasts unrenewed (default 15s)
  --control-key-namespace NS   namespace of the Secret edgewarden-control-key, from which the
                               tokens for model delivery to agents are derived; made on first
                               start (default: $POD_NAMESPACE, else default)
  --workers N                  reconciles at once per controller (default 2)
  --poll DURATION              how often agents' /status is read while they run (default 30s)
  --v N                        log verbosity (default 0)`;

async function run(args: string[]): Promise<number> {
  const fail = (message: string): number => {
    console.error(`edgewarden operator: ${message}\n\n${usage}`);
    return 2;
  };
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        kubeconfig: { type: 'string' },
        namespace: { type: 'string', multiple: true },
        'agent-image': { type: 'string' },
        'image-pull-policy': { type: 'string', default: 'IfNotPresent' },
        'metrics-port': { type: 'string', default: '8080' },
        'health-port': { type: 'string', default: '8081' },
        'bind-address': { type: 'string', default: '0.0.0.0' },
        'leader-elect': { type: 'boolean', default: false },
        'leader-election-namespace': { type: 'string' },
        'lease-duration': { type: 'string', default: '15s' },
        'control-key-namespace': { type: 'string' },
        workers: { type: 'string', default: '2' },
        poll: { type: 'string', default: '30s' },
        v: { type: 'string', default: '0' },
      },
    }));
  } catch (error) {
    return fail((error as Error).message);
  }
  const port = (name: string, text: string): number | string => {
    const n = Number(text);
    return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : `--${name}: not a port: ${text}`;
  };
  const metricsPort = port('metrics-port', values['metrics-port']);
  if (typeof metricsPort === 'string') return fail(metricsPort);
  const healthPort = port('health-port', values['health-port']);
  if (typeof healthPort === 'string') return fail(healthPort);
  const policy = values['image-pull-policy'];
  if (policy !== 'Always' && policy !== 'IfNotPresent' && policy !== 'Never')
    return fail('--image-pull-policy: must be Always, IfNotPresent or Never');
  const lease = parseDuration(values['lease-duration']);
  if (lease === undefined || lease < 2000) return fail('--lease-duration: at least 2s');
  const poll = parseDuration(values.poll);
  if (poll === undefined || poll < 1000) return fail('--poll: at least 1s');
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) return fail('--workers: 1 to 64');
  const namespaces = (values.namespace ?? []).flatMap((n) => n.split(',')).map((n) => n.trim());
  const badNamespace = namespaces.find((n) => !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n));
  if (badNamespace !== undefined)
    return fail(`--namespace: not a namespace name: "${badNamespace}"`);
  const verbosity = Number(values.v);
  if (!Number.isInteger(verbosity) || verbosity < 0) return fail('--v: a level of 0 or more');
  const { version } = await import('./version.js');
  const { runOperator } = await import('../../operator/src/main/operator.js');
  let running;
  try {
    running = await runOperator({
      kubeconfig: values.kubeconfig,
      namespaces,
      metricsPort,
      healthPort,
      bindAddress: values['bind-address'],
      leaderElect: values['leader-elect'],
      leaderElectionNamespace:
        values['leader-election-namespace'] ?? process.env.POD_NAMESPACE ?? 'default',
      operatorNamespace: values['control-key-namespace'] ?? process.env.POD_NAMESPACE ?? 'default',
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
      },
    });
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

export const operatorCommand: Command = { usage, run };
