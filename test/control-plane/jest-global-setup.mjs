// jest global setup for the integration suites: one real control plane for the whole run. Its
// kubeconfig and tool paths reach the test workers through the environment. jest loads this
// file with Node's own loader, so it runs the compiled launcher (`npm run build` first).
import { startControlPlane } from '../../dist/test/control-plane/controlPlane.js';

export default async function globalSetup() {
  const started = Date.now();
  const plane = await startControlPlane({ keep: process.env.EDGEWARDEN_KEEP_CLUSTER === '1' });
  globalThis.edgewardenControlPlane = plane;
  // If jest dies without running the teardown, do not leave servers behind.
  process.once('exit', () => plane.killSync());
  process.env.KUBECONFIG = plane.kubeconfig;
  process.env.EDGEWARDEN_KUBECTL = plane.tools.kubectl;
  process.env.EDGEWARDEN_HELM = plane.tools.helm;
  console.log(
    `\ncontrol plane up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${plane.server} (${plane.dir})`,
  );
}
