/**
 * Passive health checks and retries on a real nginx: kill -9 of a v1 replica under steady load
 * (below the rate limit) costs clients nothing, and a restarted replica gets traffic again.
 */
import type { LocalStack, ReplicaHandle } from '../../../deployments/local/stack';
import { pollUntil } from '../../../deployments/local/readiness';
import { type Prediction, keepAliveAgent, predict, runPool, startTestStack, tally } from './helpers';

// The project-level testTimeout is not applied by jest 30; real processes need more than 5 s.
jest.setTimeout(60_000);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ nginx: { rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

const v1 = () => stack.replicas.filter((r) => r.variant === 'v1');

test('kill -9 of one v1 replica under steady load: zero failed requests', async () => {
  const victim: ReplicaHandle = v1()[1]!;
  const agent = keepAliveAgent(stack, 4);
  const TOTAL = 400;
  const KILL_AT = 100;
  let killedAt = -1;
  try {
    const outcomes = await runPool(TOTAL, 4, async (i) => {
      if (i === KILL_AT) {
        victim.process.kill('SIGKILL');
        killedAt = i;
      }
      const response = await predict(stack, `steady ${i}`, { agent });
      return {
        i,
        status: response.status,
        replica: response.status === 200 ? response.json<Prediction>().replica : '',
      };
    });
    await victim.process.exited();
    expect(killedAt).toBe(KILL_AT);
    const failed = outcomes.filter((o) => o.status !== 200);
    expect(failed).toEqual([]);
    // Requests sent after the kill (and after the ones in flight at that moment) never reach the victim.
    const afterKill = outcomes.filter((o) => o.i >= KILL_AT + 4);
    expect(afterKill.some((o) => o.replica === victim.id)).toBe(false);
    // The survivors took the load.
    expect(Object.keys(tally(afterKill.map((o) => o.replica))).sort()).toEqual(
      v1()
        .filter((r) => r.id !== victim.id)
        .map((r) => r.id)
        .sort(),
    );
  } finally {
    agent.destroy();
  }
});

test('a restarted replica receives traffic again', async () => {
  const victim = v1()[1]!;
  if (victim.process.running()) {
    victim.process.kill('SIGKILL');
    await victim.process.exited();
  }
  await victim.process.restart();
  const seen = await pollUntil(
    async () => {
      const replicas = await runPool(
        6,
        3,
        async (i) => (await predict(stack, `back? ${i}`)).json<Prediction>().replica,
      );
      return replicas.includes(victim.id) ? replicas : undefined;
    },
    { what: `${victim.id} to answer through the gateway again`, timeoutMs: 20_000, intervalMs: 500 },
  );
  expect(seen).toContain(victim.id);
});
