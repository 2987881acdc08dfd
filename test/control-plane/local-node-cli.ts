// The local node (localNode.ts) as a process of its own, launched by the control plane with
// `localNode: true`: its pods are its children, and SIGTERM stops them (as a kubelet that is
// shut down would, gracefully) before the node goes.
import { parseArgs } from 'node:util';

import { startLocalNode } from './localNode.js';
import { podNetworkPlan } from './podNetwork.js';

const { values } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    kubectl: { type: 'string' },
    dir: { type: 'string' },
    'api-server-port': { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    network: { type: 'string' },
  },
});
const required = ['kubeconfig', 'kubectl', 'dir', 'api-server-port', 'cert', 'key', 'network'];
for (const option of required as (keyof typeof values)[])
  if (!values[option]) throw new Error(`--${option} is required`);
// The test kit's kubectl reads these.
process.env.KUBECONFIG = values.kubeconfig;
process.env.EDGEWARDEN_KUBECTL = values.kubectl;

const log = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);
const node = await startLocalNode({
  dir: values.dir!,
  apiServerPort: Number(values['api-server-port']),
  certificates: { cert: values.cert!, key: values.key! },
  network: podNetworkPlan(Number(values.network)),
  log,
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: stopping the node's pods`);
    void node.stop().then(
      () => process.exit(0),
      (error: Error) => {
        log(`stop: ${error.message}`);
        process.exit(1);
      },
    );
  });
