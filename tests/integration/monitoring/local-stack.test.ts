/**
 * Monitoring on the real local stack (API replicas, nginx, mtail, nginx exporter, Prometheus,
 * Alertmanager) after real traffic with 200s, 400s, 401s and 429s: every target is up, every
 * dashboard panel's query returns data from the real Prometheus, and stopping the v2 replica makes
 * ApiV2Down fire in Prometheus and reach Alertmanager (with TargetDown for it inhibited).
 *
 * Grafana itself is not run (no Debian package): its dashboards are verified through their queries.
 */
import {
  DASHBOARDS,
  buildDashboard,
  expandGrafanaVariables,
  panelQueries,
} from '../../../deployments/grafana/dashboards';
import { httpRequest } from '../../../deployments/local/http-client';
import { type LocalStack, startLocalStack } from '../../../deployments/local/stack';
import {
  type LocalMonitoring,
  MONITORING_COMPONENT,
  localMonitoring,
} from '../../../deployments/monitoring/local';
import { API_ROUTES, DEBUG_GROUP, EXPERIMENT_HEADER } from '../../../deployments/names';
import { ALERTS } from '../../../deployments/prometheus/rules';
import { httpsBase, predict, runPool } from '../gateway/helpers';
import { poll, tempDir } from './helpers';

jest.setTimeout(240_000);

let monitoring: LocalMonitoring;
let stack: LocalStack;
let cleanup: (() => Promise<void>) | undefined;
let prometheus: string;
let alertmanager: string;

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(expr: string): Promise<Sample[]> {
  const response = await fetch(`${prometheus}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(5_000),
  });
  const body = (await response.json()) as {
    status: string;
    error?: string;
    data: { resultType: string; result: Sample[] };
  };
  if (body.status !== 'success') {
    throw new Error(`query failed: ${body.error ?? response.status}: ${expr}`);
  }
  return body.data.result;
}

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('sg-monitoring-stack'));
  monitoring = await localMonitoring({
    dir,
    scrapeInterval: '1s',
    alerts: { targetDownFor: '2s', apiV1ReplicaDownFor: '2s', apiV2DownFor: '2s' },
    alertmanager: { groupWait: '1s', groupInterval: '1s' },
  });
  stack = await startLocalStack({
    dir,
    readyTimeoutMs: 90_000,
    nginx: { ...monitoring.nginx, rateLimitPerSecond: 20, rateLimitBurst: 10 },
    components: [monitoring.component],
  });
  const component = stack.components[MONITORING_COMPONENT];
  if (component === undefined || 'skipped' in component) {
    throw new Error(`monitoring did not start: ${component === undefined ? 'absent' : component.skipped}`);
  }
  prometheus = component.urls.prometheus!;
  alertmanager = component.urls.alertmanager!;

  // Counters must have a sample from before the traffic, or rate() sees no increase.
  const targets = monitoring.settings()!.prometheus.targets.api.length + 4;
  await poll('a first scrape of every target', async () => (await query('up')).length === targets, 60_000);

  // Traffic: a burst (200s then 429s), the debug group (v2), missing credentials (401), invalid input (422).
  const burst = await runPool(60, 12, () => predict(stack, 'I love this!'));
  const statuses = new Set(burst.map((r) => r.status));
  expect([...statuses].sort()).toEqual([200, 429]);
  const v2 = await runPool(4, 1, () =>
    predict(stack, 'What a day', {
      headers: { [EXPERIMENT_HEADER]: DEBUG_GROUP },
      localAddress: '127.0.0.3',
    }),
  );
  expect(v2.map((r) => r.status)).toEqual([200, 200, 200, 200]);
  const unauthorized = await runPool(3, 1, () =>
    httpRequest({
      url: `${httpsBase(stack)}${API_ROUTES.predict}`,
      method: 'POST',
      body: { sentence: 'x' },
      ca: stack.tls.caCertPem,
      localAddress: '127.0.0.4',
    }),
  );
  expect(unauthorized.map((r) => r.status)).toEqual([401, 401, 401]);
  const bad = await runPool(3, 1, () => predict(stack, '', { localAddress: '127.0.0.5' }));
  expect(bad.map((r) => r.status)).toEqual([422, 422, 422]);
});

afterAll(async () => {
  await stack?.stop();
  await cleanup?.();
});

test('every scrape target is up: 4 API replicas, nginx exporter, mtail, Prometheus, Alertmanager', async () => {
  const settings = monitoring.settings()!;
  const expected = settings.prometheus.targets.api.length + 4;
  const up = await poll(
    'every target to be scraped and up',
    async () => {
      const samples = await query('up');
      return samples.length === expected && samples.every((s) => s.value[1] === '1') ? samples : undefined;
    },
    60_000,
  );
  expect(up.map((s) => s.metric.job).sort()).toEqual([
    'alertmanager',
    'api',
    'api',
    'api',
    'api',
    'gateway-metrics',
    'nginx-exporter',
    'prometheus',
  ]);
  expect(
    up
      .filter((s) => s.metric.job === 'api')
      .map((s) => `${s.metric.replica}/${s.metric.version}`)
      .sort(),
  ).toEqual(['api-v1-1/v1', 'api-v1-2/v1', 'api-v1-3/v1', 'api-v2/v2']);
});

test('mtail counted the gateway answers nginx gave itself: 429s and 401s by route', async () => {
  const counted = await poll(
    'mtail 429 and 401 counts in Prometheus',
    async () => {
      const [r429, r401] = await Promise.all([
        query('sum(gateway_http_requests_total{job="gateway-metrics",route="/predict",status="429"})'),
        query('sum(gateway_http_requests_total{job="gateway-metrics",route="/predict",status="401"})'),
      ]);
      return Number(r429[0]?.value[1] ?? 0) > 0 && Number(r401[0]?.value[1] ?? 0) === 3 ? true : undefined;
    },
    60_000,
  );
  expect(counted).toBe(true);
});

const settingsForDashboards = () => monitoring.settings()!.grafana;
describe.each(DASHBOARDS.map((d) => [d.title, d] as const))('dashboard %s', (_title, spec) => {
  test('every panel query returns data from the real Prometheus', async () => {
    const queries = panelQueries(buildDashboard(spec, settingsForDashboards()));
    let missing: string[] = [];
    await poll(
      'every panel query to return a finite sample',
      async () => {
        missing = [];
        // Series born during the burst have no earlier sample, so rate() over them can see no
        // increase (quantiles and ratios are then NaN): keep real traffic flowing while polling.
        await Promise.all([
          predict(stack, 'Still here', { localAddress: '127.0.0.6' }),
          predict(stack, 'Still here', {
            headers: { [EXPERIMENT_HEADER]: DEBUG_GROUP },
            localAddress: '127.0.0.7',
          }),
        ]);
        for (const q of queries) {
          const samples = await query(expandGrafanaVariables(q.expr, { rateInterval: '1m', range: '1h' }));
          if (!samples.some((s) => Number.isFinite(Number(s.value[1])))) {
            missing.push(`${q.panelTitle} ${q.refId}: ${q.expr}`);
          }
        }
        return missing.length === 0;
      },
      60_000,
    ).catch(() => undefined);
    expect(missing).toEqual([]);
  });
});

test('stopping the v2 replica fires ApiV2Down in Prometheus and Alertmanager shows it; TargetDown for it is inhibited', async () => {
  const v2 = stack.replicas.find((r) => r.variant === 'v2')!;
  await v2.process.stop();

  const firing = await poll(
    'ApiV2Down to fire in Prometheus',
    async () => {
      const response = await fetch(`${prometheus}/api/v1/alerts`, { signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      return body.data.alerts.find((a) => a.labels.alertname === ALERTS.apiV2Down && a.state === 'firing');
    },
    60_000,
  );
  expect(firing.labels).toMatchObject({ replica: 'api-v2', version: 'v2', job: 'api', severity: 'warning' });

  interface AmAlert {
    labels: Record<string, string>;
    status: { state: string; inhibitedBy: string[] };
  }
  const alerts = await poll(
    'ApiV2Down and the inhibited TargetDown in Alertmanager',
    async () => {
      const response = await fetch(`${alertmanager}/api/v2/alerts`, { signal: AbortSignal.timeout(5_000) });
      const list = (await response.json()) as AmAlert[];
      const v2Down = list.find((a) => a.labels.alertname === ALERTS.apiV2Down);
      const targetDown = list.find(
        (a) => a.labels.alertname === ALERTS.targetDown && a.labels.instance === `${v2.host}:${v2.port}`,
      );
      return v2Down !== undefined && targetDown !== undefined ? { v2Down, targetDown } : undefined;
    },
    60_000,
  );
  expect(alerts.v2Down.status.state).toBe('active');
  expect(alerts.v2Down.labels).toMatchObject({ replica: 'api-v2', instance: `${v2.host}:${v2.port}` });
  expect(alerts.targetDown.status.state).toBe('suppressed');
  expect(alerts.targetDown.status.inhibitedBy.length).toBe(1);
});
