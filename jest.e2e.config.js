// End-to-end tests: the product as a user runs it, against the real control plane
// (test/control-plane/) that the global setup starts once for the run and the teardown stops,
// with real PostgreSQL and Prometheus servers started by the suites. One suite at a time: they
// share one API server, agent pods run by the local kubelet share this machine's port 8080,
// and the machine has two cores.
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
