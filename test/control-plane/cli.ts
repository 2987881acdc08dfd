// `npm run cluster:up`: the test control plane for a developer's shell. Starts it, prints the
// kubeconfig to use, and stops every process on Ctrl-C. EDGEWARDEN_REAL_NODE=1 adds the real
// node (kubelet, containerd, kube-proxy, CoreDNS, local-path claims; needs root and the image
// from `bash scripts/image/build.sh`) instead of kwok's fake nodes, as in the end-to-end suites.
import { startControlPlane } from './controlPlane.js';

const realNode = process.env.EDGEWARDEN_REAL_NODE === '1';
const image = process.env.EDGEWARDEN_E2E_IMAGE ?? 'edgewarden:ci';
const plane = await startControlPlane({
  nodes: Number(process.env.EDGEWARDEN_FAKE_NODES ?? (realNode ? '0' : '1')),
  ...(realNode ? { realNode: { images: [image] } } : {}),
  keep: process.env.EDGEWARDEN_KEEP_CLUSTER === '1',
});
console.log(`control plane up at ${plane.server}

  export KUBECONFIG=${plane.kubeconfig}
  alias kubectl=${plane.tools.kubectl}
${
  plane.node
    ? `  alias crictl=${plane.node.crictl}

pods run on the real node ${plane.node.name} (image ${image}); they reach this machine at
${plane.node.address}; claims are folders under ${plane.node.claims}
`
    : ''
}
logs in ${plane.dir}/logs; Ctrl-C stops everything.`);
process.once('exit', () => plane.killSync());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void plane.stop().then(() => process.exit(0));
  });
}
