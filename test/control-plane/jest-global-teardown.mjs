// jest global teardown: stops every process the global setup started.
export default async function globalTeardown() {
  await globalThis.edgewardenControlPlane?.stop();
  globalThis.edgewardenControlPlane = undefined;
}
