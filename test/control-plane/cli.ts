// `npm run cluster:up`: the test control plane for a developer's shell. Starts it, prints the
// kubeconfig to use, and stops every process on Ctrl-C.
import { startControlPlane } from './controlPlane.js';

const nodes = Number(process.env.EDGEWARDEN_FAKE_NODES ?? '1');
const plane = await startControlPlane({ nodes, keep: process.env.EDGEWARDEN_KEEP_CLUSTER === '1' });
console.log(`control plane up at ${plane.server}

  export KUBECONFIG=${plane.kubeconfig}
  alias kubectl=${plane.tools.kubectl}

logs in ${plane.dir}/logs; Ctrl-C stops everything.`);
process.once('exit', () => plane.killSync());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void plane.stop().then(() => process.exit(0));
  });
}
