// Integration tests: against the real control plane (test/control-plane/), which the global
// setup starts once for the run and the teardown stops. Suites run one at a time: they share
// one API server and the machine has two cores.
import base from './jest.base.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'integration',
  testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
  globalSetup: '<rootDir>/test/control-plane/jest-global-setup.mjs',
  globalTeardown: '<rootDir>/test/control-plane/jest-global-teardown.mjs',
  maxWorkers: 1,
  testTimeout: 120000,
};
