// The image tests: the image Docker's BuildKit built from the Dockerfile (scripts/image/
// build.sh, which `npm test` runs first), run by Docker under the restricted profile's
// constraints and read back with `docker export`. No cluster. See docs/image.md.
import base from './jest.base.config.js';

/** @type {import('jest').Config} */
export default {
  ...base,
  displayName: 'image',
  testMatch: ['<rootDir>/test/image/**/*.test.ts'],
  maxWorkers: 1,
  testTimeout: 120000,
};
