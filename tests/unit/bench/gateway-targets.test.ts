/** The gateway benchmark's verdicts: which runs each target reads, and the auth cost from alternating pairs. */
import { type AuthRound, type RunResult, checkTargets } from '../../../bench/gateway';

const run = (target: RunResult['target'], connections: number, rps: number, p50Ms = 1): RunResult => ({
  target,
  connections,
  seconds: 10,
  requests: rps * 10,
  rps,
  p50Ms,
  p90Ms: p50Ms,
  p99Ms: p50Ms,
  maxMs: p50Ms,
  errors: 0,
  non2xx: 0,
  load1: 0,
});

const RUNS = [
  run('direct', 1, 5000, 0.2),
  run('gateway', 1, 2500, 0.4),
  run('gateway-noauth', 1, 2600, 0.38),
  run('direct', 64, 16000),
  run('gateway', 64, 8000),
  run('gateway-noauth', 64, 10000),
];

const pair = (order: AuthRound['order'], on: number, off: number): AuthRound => ({
  order,
  withAuthRps: on,
  withoutAuthRps: off,
  costPercent: ((off - on) / off) * 100,
});

const byName = (checks: ReturnType<typeof checkTargets>, prefix: string) =>
  checks.find((c) => c.name.startsWith(prefix))!;

test('p50 overhead at the lowest concurrency, throughput at the highest', () => {
  const checks = checkTargets(RUNS);
  expect(byName(checks, 'gateway p50 overhead')).toMatchObject({ measured: 0.2, pass: true });
  expect(byName(checks, '3-replica gateway throughput')).toMatchObject({ measured: 8000, pass: true });
});

test('without pairs, the auth cost is the single pair of runs at the highest concurrency', () => {
  expect(byName(checkTargets(RUNS), 'cost of basic auth')).toMatchObject({ measured: 20, pass: false });
});

test('with alternating pairs, the auth cost is their median, and the range is named', () => {
  const rounds = [pair('on-off', 9000, 10000), pair('off-on', 9600, 10000), pair('on-off', 7000, 10000)];
  const cost = byName(checkTargets(RUNS, rounds), 'cost of basic auth');
  expect(cost).toMatchObject({ measured: 10, pass: true });
  expect(cost.name).toContain('median of 3 alternating pairs, range 4 to 30 %');
  const worse = [pair('on-off', 8000, 10000), pair('off-on', 8400, 10000)];
  expect(byName(checkTargets(RUNS, worse), 'cost of basic auth')).toMatchObject({
    measured: 18,
    pass: false,
  });
});
