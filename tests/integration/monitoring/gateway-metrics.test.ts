/**
 * The mtail program on real traffic: a real nginx sends its metrics log over syslog (the nginx
 * renderer's `metricsAccessLog` section) to a real mtail running the rendered program, and the
 * counters and histogram mtail serves match the requests made, status by status.
 *
 * nginx here is a minimal server (`return` per location) built with the nginx serializer: this test
 * proves the log format / mtail contract; the full gateway is covered by the local-stack test.
 */
import path from 'node:path';
import { mtailArgs, renderMtailProgram } from '../../../deployments/gateway-metrics/program';
import { resolveGatewayMetricsSettings } from '../../../deployments/gateway-metrics/settings';
import { block, directive, quote, toNginx } from '../../../deployments/nginx/directives';
import { metricsAccessLog } from '../../../deployments/nginx/sections';
import { resolveNginxSettings } from '../../../deployments/nginx/settings';
import {
  type Proc,
  answers200,
  freeTcpPort,
  freeUdpPort,
  httpGet,
  poll,
  put,
  run,
  startProcess,
  tempDir,
} from './helpers';

jest.setTimeout(60_000);

const settings = resolveGatewayMetricsSettings();
let cleanup: () => Promise<void>;
let dir: string;
const procs: Proc[] = [];
let nginxPort: number;
let mtailPort: number;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('sg-mtail'));
  const syslogPort = await freeUdpPort();
  nginxPort = await freeTcpPort();
  mtailPort = await freeTcpPort();
  const progs = path.join(dir, 'progs');
  await put(progs, 'gateway.mtail', renderMtailProgram(settings));
  procs.push(
    await startProcess(
      'mtail',
      mtailArgs({
        progsDir: progs,
        httpAddress: '127.0.0.1',
        httpPort: mtailPort,
        syslogListen: `127.0.0.1:${syslogPort}`,
      }),
      () => answers200(`http://127.0.0.1:${mtailPort}/metrics`),
    ),
  );

  const nginxSettings = resolveNginxSettings({
    accessLog: null,
    metricsLog: { syslogServer: `127.0.0.1:${syslogPort}`, tag: settings.syslogTag },
  });
  const location = (match: string[], status: number) =>
    block('location', match, [directive('return', String(status))]);
  const conf = toNginx([
    directive('daemon', 'off'),
    directive('pid', quote(path.join(dir, 'nginx.pid'))),
    directive('worker_processes', '1'),
    block('events', [], []),
    block(
      'http',
      [],
      [
        ...metricsAccessLog(nginxSettings),
        block(
          'server',
          [],
          [
            directive('listen', `127.0.0.1:${nginxPort}`),
            location(['=', '/predict'], 429),
            location(['=', '/boom'], 502),
            location(['/'], 200),
          ],
        ),
      ],
    ),
  ]);
  const confPath = await put(dir, 'nginx.conf', conf);
  const args = ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', confPath];
  const check = await run('nginx', ['-t', ...args]);
  expect(check.code).toBe(0);
  procs.push(await startProcess('nginx', args, () => answers200(`http://127.0.0.1:${nginxPort}/`)));
}, 60_000);

afterAll(async () => {
  for (const p of procs.reverse()) {
    await p.stop();
  }
  await cleanup();
});

function sample(metrics: string, name: string, labels: string): number | undefined {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('counts gateway responses by route and status, including the 429s and 502s nginx answers itself', async () => {
  const base = `http://127.0.0.1:${nginxPort}`;
  const plan: [string, number, number][] = [
    ['/predict', 429, 7],
    ['/predict?text=hi', 429, 2],
    ['/boom', 502, 3],
    ['/health', 200, 4],
    ['/some/unknown/path', 200, 5],
  ];
  for (const [url, status, count] of plan) {
    for (let i = 0; i < count; i++) {
      expect((await httpGet(`${base}${url}`)).status).toBe(status);
    }
  }
  // The readiness probe's GET / adds one or more "other" 200s before the planned traffic.
  const metrics = await poll(
    'mtail to count every planned request',
    async () => {
      const text = (await httpGet(`http://127.0.0.1:${mtailPort}/metrics`)).body;
      return sample(text, 'gateway_http_requests_total', 'route="other",status="502"') === 3 &&
        sample(text, 'gateway_http_requests_total', 'route="/predict",status="429"') === 9 &&
        sample(text, 'gateway_http_requests_total', 'route="/health",status="200"') === 4 &&
        (sample(text, 'gateway_http_requests_total', 'route="other",status="200"') ?? 0) >= 6
        ? text
        : undefined;
    },
    20_000,
  );
  const other200 = sample(metrics, 'gateway_http_requests_total', 'route="other",status="200"') ?? 0;
  expect(other200).toBeGreaterThanOrEqual(6);
  expect(metrics).not.toMatch(/gateway_http_requests_total\{route="\/some/);
  expect(metrics.split('\n').filter((l) => l.startsWith('gateway_') && l.includes('prog='))).toEqual([]);

  // Histogram: every request observed once, and every observation in a bucket (+Inf == count).
  for (const [route, count] of [
    ['/predict', 9],
    ['/health', 4],
    ['other', 3 + other200],
  ] as const) {
    expect(sample(metrics, 'gateway_http_request_duration_seconds_count', `route="${route}"`)).toBe(count);
    expect(
      sample(metrics, 'gateway_http_request_duration_seconds_bucket', `route="${route}",le="+Inf"`),
    ).toBe(count);
    // nginx answers `return` in 0 ms: all of them in the lowest bucket.
    expect(
      sample(metrics, 'gateway_http_request_duration_seconds_bucket', `route="${route}",le="0.005"`),
    ).toBe(count);
  }
}, 60_000);
