// `npm run cluster:up`: the test control plane for a developer's shell. Starts it, prints the
// kubeconfig to use, and stops every process on Ctrl-C. EDGEWARDEN_LOCAL_NODE=1 adds the local
// node (pods really run, as in the end-to-end suites; needs root) instead of kwok's nodes.
import { startControlPlane } from './controlPlane.js';

const localNode = process.env.EDGEWARDEN_LOCAL_NODE === '1';
const nodes = Number(process.env.EDGEWARDEN_FAKE_NODES ?? (localNode ? '0' : '1'));
const plane = await startControlPlane({
  nodes,
  localNode,
  keep: process.env.EDGEWARDEN_KEEP_CLUSTER === '1',
});
console.log(`control plane up at ${plane.server}

  export KUBECONFIG=${plane.kubeconfig}
  alias kubectl=${plane.tools.kubectl}

${
  plane.localNodeAddress
    ? `pods run on the local node; they reach this machine at ${plane.localNodeAddress}
`
    : ''
}logs in ${plane.dir}/logs; Ctrl-C stops everything.`);
process.once('exit', () => plane.killSync());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void plane.stop().then(() => process.exit(0));
  });
}
