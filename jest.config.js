/** Three test tiers (see README "Tests"): run one with `npx jest --selectProjects <name>`. */
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
  projects: [tier('unit'), tier('infra'), tier('integration')],
};
