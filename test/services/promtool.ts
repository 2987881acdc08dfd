// promtool, from the Prometheus that test/control-plane/build-binaries.sh builds from the Go
// module proxy (the same version the end-to-end suites run as the server).
import { locateTools } from '../control-plane/controlPlane.js';

export async function promtool(): Promise<string> {
  return (await locateTools(['promtool'])).promtool;
}
