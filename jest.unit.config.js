// Unit tests: no servers. Files named *.test.ts, except the data-path tests (*.data.test.ts,
// jest.data.config.js) and the suites under test/integration, test/image and test/e2e. The worked examples
// the docs quote (examples/) are tested here too; they are never built into dist/ or the image.
import base from './jest.base.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'unit',
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: [
    ...base.testPathIgnorePatterns,
    '\\.data\\.test\\.ts$',
    '<rootDir>/test/integration/',
    '<rootDir>/test/image/',
    '<rootDir>/test/e2e/',
  ],
};
