/**
 * Replica faults on a real nginx with the default rate limit (10 r/s per address, burst 20): steady
 * load stays below it by pacing each client address at half the rate. gateway/failover.test.ts
 * covers a kill -9 under closed-loop load; these add the 15 s paced run, the restart deadline and v2 down.
 */
import { pollUntil } from '../../../deployments/local/readiness';
import type { LocalStack } from '../../../deployments/local/stack';
import { DEBUG_GROUP, EXPERIMENT_HEADER } from '../../../deployments/names';
import { type Prediction, predict, startTestStack } from '../gateway/helpers';
import { failures, restartStopped, steadyLoad } from './helpers';

const CLIENTS = ['127.0.0.21', '127.0.0.22', '127.0.0.23', '127.0.0.24'];
/** Requests per second per client address: half the default limit. */
const RATE = 5;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack();
  // The load must stay below the limit for "zero failed requests" to be about the fault alone.
  expect(RATE).toBeLessThan(stack.devJson.rateLimit.perSecond);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await restartStopped(stack);
}, 120_000);

const v1 = () => stack.replicas.filter((r) => r.variant === 'v1');

test('kill -9 of one v1 replica during 15 s of steady load below the rate limit: zero failed requests', async () => {
  const victim = v1()[0]!;
  let killedAt = Number.NaN;
  const outcomes = await steadyLoad(stack, {
    clients: CLIENTS,
    perClientRate: RATE,
    durationMs: 15_000,
    label: 'kill9',
    actions: [
      {
        atMs: 5_000,
        run: () => {
          killedAt = Date.now();
          victim.process.kill('SIGKILL');
        },
      },
    ],
  });
  expect(await victim.process.exited()).toEqual({ code: null, signal: 'SIGKILL' });
  expect(outcomes).toHaveLength(CLIENTS.length * RATE * 15);
  expect(failures(outcomes)).toEqual([]);
  // The victim was in rotation before the kill, and the survivors carried everything after it.
  const before = outcomes.filter((o) => o.sentAt < killedAt);
  const after = outcomes.filter((o) => o.sentAt > killedAt + 500);
  expect(before.some((o) => o.replica === victim.id)).toBe(true);
  expect(new Set(after.map((o) => o.replica))).toEqual(
    new Set(
      v1()
        .filter((r) => r.id !== victim.id)
        .map((r) => r.id),
    ),
  );
}, 90_000);

test('a killed v1 replica, once restarted and ready, receives traffic again within 10 s', async () => {
  const victim = v1()[0]!;
  victim.process.kill('SIGKILL');
  await victim.process.exited();
  // nginx notices the dead replica (it takes it out of rotation after max_fails).
  for (let i = 0; i < 6; i++) {
    expect(
      (await predict(stack, `while down ${i}`, { localAddress: CLIENTS[i % CLIENTS.length] })).status,
    ).toBe(200);
  }
  await victim.process.restart();
  const readyAt = Date.now();
  let sent = 0;
  // Steady load (4 addresses in turn, 5 r/s each) until the restarted replica answers one.
  const answeredAt = await pollUntil(
    async () => {
      const response = await predict(stack, `back yet? ${sent}`, {
        localAddress: CLIENTS[sent++ % CLIENTS.length],
      });
      expect(response.status).toBe(200);
      return response.json<Prediction>().replica === victim.id ? Date.now() : undefined;
    },
    {
      what: `${victim.id} to answer through the gateway`,
      timeoutMs: 10_000,
      intervalMs: 1000 / (RATE * CLIENTS.length),
    },
  );
  expect(answeredAt - readyAt).toBeLessThanOrEqual(10_000);
}, 120_000);

test('v2 down: debug requests get a JSON 502 within 1 s each, and v1 traffic is unaffected', async () => {
  const v2 = stack.replicas.find((r) => r.variant === 'v2')!;
  v2.process.kill('SIGKILL');
  await v2.process.exited();
  const [debug, plain] = await Promise.all([
    steadyLoad(stack, {
      clients: ['127.0.0.31'],
      perClientRate: RATE,
      durationMs: 4_000,
      headers: { [EXPERIMENT_HEADER]: DEBUG_GROUP },
      label: 'v2down-debug',
    }),
    steadyLoad(stack, {
      clients: ['127.0.0.32', '127.0.0.33'],
      perClientRate: RATE,
      durationMs: 4_000,
      label: 'v2down-v1',
    }),
  ]);
  expect(debug).toHaveLength(RATE * 4);
  for (const outcome of debug) {
    expect(outcome.error).toBeUndefined();
    expect([502, 503]).toContain(outcome.status);
    expect(outcome.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(outcome.body!)).toMatchObject({
      error: { code: expect.stringMatching(/^(bad_gateway|service_unavailable)$/), field: null },
    });
    expect(outcome.ms).toBeLessThan(1_000);
  }
  expect(failures(plain)).toEqual([]);
  expect(new Set(plain.map((o) => o.version))).toEqual(new Set(['v1']));

  // Back in service once restarted.
  await v2.process.restart();
  const version = await pollUntil(
    async () => {
      const response = await predict(stack, 'debug again', {
        localAddress: '127.0.0.31',
        headers: { [EXPERIMENT_HEADER]: DEBUG_GROUP },
      });
      return response.status === 200 ? response.json<Prediction>().version : undefined;
    },
    { what: 'api-v2 to answer debug requests again', timeoutMs: 15_000, intervalMs: 500 },
  );
  expect(version).toBe('v2');
}, 120_000);
