/** Three test tiers (see README "Tests"): run one with `npx jest --selectProjects <name>`. */
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
  ],
};
const tier = (name, testTimeout) => ({
  displayName: name,
  testEnvironment: 'node',
  transform,
  testMatch: [`<rootDir>/tests/${name}/**/*.test.ts`],
  ...(testTimeout ? { testTimeout } : {}),
});

module.exports = {
  projects: [tier('unit'), tier('infra', 30_000), tier('integration', 120_000)],
};
