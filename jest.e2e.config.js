// End-to-end tests: the product as a user runs it, against the real control plane
// (test/control-plane/) and its real node (test/node/: kubelet, containerd, the image built from
// our Dockerfile), which the global setup starts once for the run and the teardown stops, with
// real PostgreSQL and Prometheus servers started by the suites. One suite at a time: they share
// one API server and one node, and the machine has two cores.
import base from './jest.base.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  globalSetup: '<rootDir>/test/e2e/jest-global-setup.mjs',
  globalTeardown: '<rootDir>/test/control-plane/jest-global-teardown.mjs',
  maxWorkers: 1,
  testTimeout: 180000,
};
