/**
 * Rate limiting on a real nginx: a stack with 1 request/s and a burst of 5 per client address, so
 * counts are deterministic (a whole burst completes well inside the 1 s it takes to earn a request).
 */
import type { LocalStack } from '../../../deployments/local/stack';
import type { HttpResponse } from '../../../deployments/local/http-client';
import { pollUntil } from '../../../deployments/local/readiness';
import { predict, startTestStack } from './helpers';

const RATE = 1;
const BURST = 5;
const BURST_SIZE = 20;

// The project-level testTimeout is not applied by jest 30; real processes need more than 5 s.
jest.setTimeout(60_000);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({
    v1Replicas: 1,
    nginx: { rateLimitPerSecond: RATE, rateLimitBurst: BURST, workerProcesses: 2 },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface Burst {
  responses: HttpResponse[];
  /** Requests the limiter may have earned back while the burst was in flight (slow machine). */
  earned: number;
}

/** Fires `count` concurrent predictions from `localAddress`. */
async function burst(localAddress: string, count: number, auth = stack.auth): Promise<Burst> {
  const started = Date.now();
  const responses = await Promise.all(
    Array.from({ length: count }, (_, i) => predict(stack, `burst ${i}`, { localAddress, auth })),
  );
  return { responses, earned: Math.ceil(((Date.now() - started) / 1000) * RATE) };
}

const statuses = ({ responses }: Burst) => responses.map((r) => r.status);

test('a burst from one address: 1 + burst served, the rest 429 with Retry-After and a JSON body', async () => {
  const { responses, earned } = await burst('127.0.0.3', BURST_SIZE);
  const served = responses.filter((r) => r.status === 200).length;
  const limited = responses.filter((r) => r.status === 429);
  expect(served + limited.length).toBe(BURST_SIZE);
  expect(served).toBeGreaterThanOrEqual(1 + BURST);
  expect(served).toBeLessThanOrEqual(1 + BURST + earned);
  for (const response of limited) {
    expect(response.headers['retry-after']).toBe('1');
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ error: { code: 'rate_limited', field: null } });
  }
});

test('a second client address is not limited by the first one', async () => {
  const first = await burst('127.0.0.1', BURST_SIZE);
  expect(statuses(first)).toContain(429);
  const second = await burst('127.0.0.2', 1 + BURST);
  expect(statuses(second)).toEqual(Array(1 + BURST).fill(200));
  // Control: the first address is still limited (it cannot have earned 1 + BURST requests back).
  const again = await burst('127.0.0.1', 1 + BURST);
  expect(statuses(again)).toContain(429);
});

test('requests with wrong credentials are limited too (password guessing is rate limited)', async () => {
  const wrong = { user: stack.auth.user, password: 'guess-guess-guess-guess' };
  const result = await burst('127.0.0.4', BURST_SIZE, wrong);
  const counts = statuses(result);
  expect(counts.filter((s) => s === 401).length).toBeGreaterThanOrEqual(1 + BURST);
  expect(counts.filter((s) => s === 429).length).toBeGreaterThanOrEqual(
    BURST_SIZE - 1 - BURST - result.earned,
  );
  expect(counts.every((s) => s === 401 || s === 429)).toBe(true);
});

test('an address recovers once the rate has paid back its burst', async () => {
  const limited = await burst('127.0.0.5', BURST_SIZE);
  expect(statuses(limited)).toContain(429);
  const started = Date.now();
  // Polled at half the rate so polling itself never keeps the address over the limit.
  await pollUntil(
    async () => (await predict(stack, 'ok now?', { localAddress: '127.0.0.5' })).status === 200,
    {
      what: 'a 200 after the burst',
      timeoutMs: 10_000,
      intervalMs: 2_000 / RATE,
    },
  );
  expect(Date.now() - started).toBeLessThan(10_000);
});
