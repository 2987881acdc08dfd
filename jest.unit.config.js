// Unit tests: pure logic only, no servers. Files named *.test.ts outside test/integration.
import base from './jest.base.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'unit',
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: [
    ...base.testPathIgnorePatterns,
    '<rootDir>/test/integration/',
    '<rootDir>/test/e2e/',
  ],
};
