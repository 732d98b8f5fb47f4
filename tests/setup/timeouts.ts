/**
 * Per-tier default test timeouts. Jest reads `testTimeout` only from the global config, not from a
 * project, so the tier (the folder under tests/) picks its default here.
 */
const TIMEOUT_MS: Record<string, number> = {
  unit: 5_000,
  infra: 30_000,
  integration: 120_000,
  // Real containers: the whole stack starts in beforeAll.
  airgap: 600_000,
  // pulumi up of the whole stack in beforeAll; ApiV2Down needs its 2 min `for`.
  e2e: 600_000,
  // Each test waits for a pulumi up (rollouts wait for every replica's healthcheck) or a soak.
  'e2e-faults': 600_000,
};
const tier = /[\\/]tests[\\/]([^\\/]+)[\\/]/.exec(expect.getState().testPath ?? '')?.[1] ?? '';
jest.setTimeout(TIMEOUT_MS[tier] ?? 5_000);
