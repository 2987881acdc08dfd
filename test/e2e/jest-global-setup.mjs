// jest global setup for the end-to-end suites. They are written against nothing but a
// kubeconfig, kubectl and helm (README.md beside this file), and run on one of two targets:
//  - local (the default): the test control plane (test/control-plane/) with one real node
//    (test/node/: kubelet, containerd, runc, the CNI bridge, kube-proxy, CoreDNS and
//    local-path claims) running the image `bash scripts/image/build.sh` built from our
//    Dockerfile (EDGEWARDEN_E2E_IMAGE, default edgewarden:ci), imported into its containerd;
//    the pods reach this machine at the node's address;
//  - a real cluster: EDGEWARDEN_E2E_KUBECONFIG names its kubeconfig, and
//    EDGEWARDEN_E2E_HOST_ADDRESS an address of this machine that its pods can reach (kind: the
//    gateway of docker's `kind` network). EDGEWARDEN_E2E_IMAGE (repository:tag) is the image
//    the chart installs; kubectl and helm come from the PATH unless EDGEWARDEN_KUBECTL /
//    EDGEWARDEN_HELM name them. test/e2e/kind/run.sh sets all of this up.
// jest loads this file with Node's own loader, so it runs the compiled launcher (`npm run build`).
import { startControlPlane } from '../../dist/test/control-plane/controlPlane.js';

export default async function globalSetup() {
  const external = process.env.EDGEWARDEN_E2E_KUBECONFIG;
  if (external) {
    if (!process.env.EDGEWARDEN_E2E_HOST_ADDRESS)
      throw new Error(
        "EDGEWARDEN_E2E_HOST_ADDRESS is not set: an address of this machine the cluster's pods can reach (test/e2e/README.md)",
      );
    process.env.KUBECONFIG = external;
    process.env.EDGEWARDEN_KUBECTL ??= 'kubectl';
    process.env.EDGEWARDEN_HELM ??= 'helm';
    process.env.EDGEWARDEN_E2E_TARGET = 'cluster';
    console.log(`\nend to end on the cluster of ${external}`);
    return;
  }
  const started = Date.now();
  // The image as containerd names it once imported (`docker save | ctr images import`, as on
  // an air-gapped Pi: k3s/README.md), which is how the chart is told to run it.
  const image = (process.env.EDGEWARDEN_E2E_IMAGE ??= 'docker.io/library/edgewarden:ci');
  const plane = await startControlPlane({
    realNode: { images: [image] },
    keep: process.env.EDGEWARDEN_KEEP_CLUSTER === '1',
  });
  globalThis.edgewardenControlPlane = plane;
  // If jest dies without running the teardown, do not leave servers behind.
  process.once('exit', () => plane.killSync());
  process.env.KUBECONFIG = plane.kubeconfig;
  process.env.EDGEWARDEN_KUBECTL = plane.tools.kubectl;
  process.env.EDGEWARDEN_HELM = plane.tools.helm;
  process.env.EDGEWARDEN_E2E_TARGET = 'local';
  process.env.EDGEWARDEN_E2E_HOST_ADDRESS = plane.node.address;
  process.env.EDGEWARDEN_E2E_CRICTL = plane.node.crictl;
  process.env.EDGEWARDEN_PROMETHEUS = plane.tools.prometheus;
  console.log(
    `\ncontrol plane and node ${plane.node.name} up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${plane.server} (${plane.dir}), running ${image}`,
  );
}
