/**
 * Test tiers (see README "Tests"): run one with `npx jest --selectProjects <name>`. `npm test` runs unit,
 * infra and integration; `airgap` needs a Docker engine and the images of `npm run airgap:images`
 * (`npm run test:airgap`).
 */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const tier = (name) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/tests/${name}/**/*.test.ts`],
  // Tier-specific default timeout: see tests/setup/timeouts.ts.
  setupFilesAfterEnv: ['<rootDir>/tests/setup/timeouts.ts'],
});

module.exports = {
  projects: [
    tier('unit'),
    tier('infra'),
    tier('integration'),
    tier('airgap'),
    tier('e2e'),
    tier('e2e-faults'),
  ],
};
