// Data-path tests (*.data.test.ts): against real servers the tests start themselves, Debian's
// PostgreSQL (and Redis), on free loopback ports. Run one file at a time: two cores.
import base from './jest.base.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'data',
  testMatch: ['**/*.data.test.ts'],
  maxWorkers: 1,
  testTimeout: 60000,
};
