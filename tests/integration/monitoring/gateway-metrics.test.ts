/**
 * The mtail program on real traffic: a real nginx writes its metrics log file (the nginx renderer's
 * `metricsAccessLog` section) and a real mtail running the rendered program tails it. The counters
 * and histogram mtail serves must match the requests made, status by status: under a few hundred
 * requests, and across the file being emptied in place (the README's remedy for its growth) with
 * mtail started before nginx creates it (a start order the Docker deployment allows).
 *
 * nginx here is a minimal server (`return` per location) built with the nginx serializer: this test
 * proves the log format / mtail contract; the full gateway is covered by the local-stack test.
 */
import { mkdir, readFile, rm, stat, truncate } from 'node:fs/promises';
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
  httpGet,
  poll,
  put,
  run,
  startProcess,
  tempDir,
} from './helpers';
import { runPool } from '../gateway/helpers';

jest.setTimeout(90_000);

const settings = resolveGatewayMetricsSettings();

interface Rig {
  nginxBase: string;
  metricsUrl: string;
  logPath: string;
  stop(): Promise<void>;
}

/** Starts a minimal nginx writing its metrics log file and mtail tailing it, in `order`. */
async function startRig(order: 'nginx-first' | 'mtail-first'): Promise<Rig> {
  const { dir, cleanup } = await tempDir(`sg-mtail-${order}`);
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs.reverse()) {
      await p.stop();
    }
    await cleanup();
  };
  try {
    const nginxPort = await freeTcpPort();
    const mtailPort = await freeTcpPort();
    const logPath = path.join(dir, 'logs', 'metrics.log');
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
          ...metricsAccessLog(resolveNginxSettings({ accessLog: null, metricsLog: { path: logPath } })),
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
    await mkdir(path.dirname(logPath));
    expect((await run('nginx', ['-t', ...args])).code).toBe(0);
    // `nginx -t` creates the log; start without it, like a fresh volume.
    await rm(logPath);
    const nginxBase = `http://127.0.0.1:${nginxPort}`;
    // Readiness probes hit /docs, a route of its own, so they never add to the counts asserted below.
    const startNginx = async () =>
      procs.push(await startProcess('nginx', args, () => answers200(`${nginxBase}/docs`)));

    const progs = path.join(dir, 'progs');
    await put(progs, 'gateway.mtail', renderMtailProgram(settings));
    const metricsUrl = `http://127.0.0.1:${mtailPort}/metrics`;
    const startMtail = async () =>
      procs.push(
        await startProcess(
          'mtail',
          mtailArgs({ progsDir: progs, httpAddress: '127.0.0.1', httpPort: mtailPort, logPath }),
          () => answers200(metricsUrl),
        ),
      );
    if (order === 'nginx-first') {
      await startNginx();
      await startMtail();
    } else {
      await startMtail();
      await startNginx();
      // mtail finds the file nginx created at its next poll and reads on from its end: traffic
      // before that is not counted. Ready once a probe line is counted.
      await poll(
        'mtail to tail the file nginx created',
        async () => {
          await httpGet(`${nginxBase}/docs`);
          return /gateway_http_requests_total\{route="\/docs",status="200"\} [1-9]/.test(
            (await httpGet(metricsUrl)).body,
          );
        },
        30_000,
      );
    }
    return { nginxBase, metricsUrl, logPath, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function sample(metrics: string, name: string, labels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Sends the planned requests (path, expected status, count), `concurrency` at a time. */
async function traffic(base: string, plan: [string, number, number][], concurrency: number): Promise<void> {
  for (const [url, status, count] of plan) {
    const statuses = await runPool(count, concurrency, async () => (await httpGet(`${base}${url}`)).status);
    expect(new Set(statuses)).toEqual(new Set([status]));
  }
}

async function expectCounts(
  rig: Rig,
  predict429: number,
  boom502: number,
  health200: number,
  other200: number,
) {
  const metrics = await poll(
    'mtail to count every request',
    async () => {
      const text = (await httpGet(rig.metricsUrl)).body;
      return sample(text, 'gateway_http_requests_total', 'route="/predict",status="429"') === predict429 &&
        sample(text, 'gateway_http_requests_total', 'route="other",status="502"') === boom502 &&
        sample(text, 'gateway_http_requests_total', 'route="/health",status="200"') === health200 &&
        sample(text, 'gateway_http_requests_total', 'route="other",status="200"') === other200
        ? text
        : undefined;
    },
    45_000,
  );
  expect(metrics).not.toMatch(/gateway_http_requests_total\{route="\/some/);
  expect(metrics.split('\n').filter((l) => l.startsWith('gateway_') && l.includes('prog='))).toEqual([]);
  // Histogram: every request observed once, and every observation in a bucket (+Inf == count);
  // nginx answers `return` in 0 ms, so all of them land in the lowest bucket.
  for (const [route, count] of [
    ['/predict', predict429],
    ['/health', health200],
    ['other', boom502 + other200],
  ] as const) {
    expect(sample(metrics, 'gateway_http_request_duration_seconds_count', `route="${route}"`)).toBe(count);
    expect(
      sample(metrics, 'gateway_http_request_duration_seconds_bucket', `route="${route}",le="+Inf"`),
    ).toBe(count);
    expect(
      sample(metrics, 'gateway_http_request_duration_seconds_bucket', `route="${route}",le="0.005"`),
    ).toBe(count);
  }
}

test('counts a few hundred responses by route and status, 429s and 502s nginx answers itself included', async () => {
  const rig = await startRig('nginx-first');
  try {
    await traffic(
      rig.nginxBase,
      [
        ['/predict', 429, 150],
        ['/predict?text=hi', 429, 50],
        ['/boom', 502, 60],
        ['/health', 200, 40],
        ['/some/unknown/path', 200, 100],
      ],
      8,
    );
    await expectCounts(rig, 200, 60, 40, 100);
  } finally {
    await rig.stop();
  }
});

test('keeps counting when the file is emptied in place, with no restart and no hole in the file', async () => {
  const rig = await startRig('mtail-first');
  try {
    await traffic(
      rig.nginxBase,
      [
        ['/predict', 429, 60],
        ['/boom', 502, 20],
      ],
      4,
    );
    await expectCounts(rig, 60, 20, 0, 0);
    const before = (await stat(rig.logPath)).size;
    await truncate(rig.logPath, 0);
    // Fewer bytes after than before: mtail spots the truncation when the file is shorter than its offset.
    await traffic(
      rig.nginxBase,
      [
        ['/predict', 429, 10],
        ['/health', 200, 5],
      ],
      1,
    );
    await expectCounts(rig, 70, 20, 5, 0);
    // nginx appends (O_APPEND): the file restarts at offset 0 and holds only the new lines.
    const lines = (await readFile(rig.logPath, 'utf8')).split('\n').filter((l) => l !== '');
    expect(lines).toHaveLength(15);
    expect(lines.every((l) => l.startsWith('status='))).toBe(true);
    expect((await stat(rig.logPath)).size).toBeLessThan(before);
  } finally {
    await rig.stop();
  }
});
