import {
  DEFAULT_ALERTMANAGER_SETTINGS,
  type AlertmanagerOptions,
  resolveAlertmanagerSettings,
} from '../../../deployments/alertmanager/settings';
import {
  DEFAULT_GATEWAY_METRICS_SETTINGS,
  type GatewayMetricsOptions,
  resolveGatewayMetricsSettings,
} from '../../../deployments/gateway-metrics/settings';
import { type GrafanaOptions, resolveGrafanaSettings } from '../../../deployments/grafana/settings';
import {
  type AlertRuleOptions,
  DEFAULT_ALERT_RULE_SETTINGS,
  DEFAULT_PROMETHEUS_SETTINGS,
  type PrometheusOptions,
  apiTargets,
  containerTargets,
  resolveAlertRuleSettings,
  resolvePrometheusSettings,
} from '../../../deployments/prometheus/settings';

const v1 = (address: string, replica = 'api-v1-1') => ({ address, replica, version: 'v1' as const });

describe('resolvePrometheusSettings', () => {
  test('fills every default for empty options and returns a new object', () => {
    const resolved = resolvePrometheusSettings();
    expect(resolved).toEqual(DEFAULT_PROMETHEUS_SETTINGS);
    expect(resolved).not.toBe(DEFAULT_PROMETHEUS_SETTINGS);
    expect(resolved.targets.api).not.toBe(DEFAULT_PROMETHEUS_SETTINGS.targets.api);
  });

  test('an override changes neither the defaults nor the caller options', () => {
    const options: PrometheusOptions = {
      scrapeInterval: '1s',
      scrapeTimeout: '1s',
      targets: { api: [v1('127.0.0.1:4000')] },
    };
    const before = JSON.stringify(options);
    const resolved = resolvePrometheusSettings(options);
    expect(resolved.scrapeInterval).toBe('1s');
    expect(resolved.targets.api).toEqual([v1('127.0.0.1:4000')]);
    expect(resolved.targets.nginxExporter).toBe(DEFAULT_PROMETHEUS_SETTINGS.targets.nginxExporter);
    expect(JSON.stringify(options)).toBe(before);
    expect(DEFAULT_PROMETHEUS_SETTINGS.scrapeInterval).toBe('15s');
    expect(DEFAULT_PROMETHEUS_SETTINGS.targets.api).toHaveLength(4);
  });

  test.each<[string, PrometheusOptions, RegExp]>([
    ['bad duration', { scrapeInterval: '15 s' }, /^scrapeInterval must be a Prometheus duration/],
    [
      'fractional duration',
      { evaluationInterval: '1.5m' },
      /^evaluationInterval must be a Prometheus duration/,
    ],
    ['zero duration', { scrapeInterval: '0s' }, /^scrapeInterval must be a positive duration/],
    [
      'timeout above interval',
      { scrapeInterval: '5s', scrapeTimeout: '10s' },
      /^scrapeTimeout must not exceed scrapeInterval/,
    ],
    [
      'no v1 replica',
      { targets: { api: [{ address: 'a:1', replica: 'api-v2', version: 'v2' }] } },
      /^targets.api must contain at least one v1 replica/,
    ],
    [
      'address without port',
      { targets: { api: [v1('api-v1-1')] } },
      /^targets.api\[0\].address must be host:port/,
    ],
    [
      'port out of range',
      { targets: { api: [v1('api-v1-1:70000')] } },
      /^targets.api\[0\].address must be host:port with a port from 1 to 65535/,
    ],
    [
      'hostile address',
      { targets: { api: [v1('a:1\n- job_name: evil')] } },
      /^targets.api\[0\].address must be host:port/,
    ],
    [
      'bad replica name',
      { targets: { api: [v1('a:1', 'API 1')] } },
      /^targets.api\[0\].replica must be a lowercase name/,
    ],
    [
      'bad version',
      { targets: { api: [{ address: 'a:1', replica: 'x', version: 'v3' as 'v1' }] } },
      /^targets.api\[0\].version must be v1 or v2/,
    ],
    [
      'duplicate replica',
      { targets: { api: [v1('a:1'), v1('a:2')] } },
      /^targets.api\[\].replica must be unique \("api-v1-1" appears twice\)/,
    ],
    [
      'duplicate address',
      { targets: { api: [v1('a:1'), v1('a:1', 'api-v1-2')] } },
      /^targets.api\[\].address must be unique/,
    ],
    [
      'bad exporter target',
      { targets: { nginxExporter: 'http://x:9113' } },
      /^targets.nginxExporter must be host:port/,
    ],
    [
      'bad external label',
      { externalLabels: { 'bad-name': 'x' } },
      /^externalLabels key "bad-name" must be a label name/,
    ],
    ['empty rule file', { ruleFiles: [''] }, /^ruleFiles\[0\] must be a non-empty string/],
  ])('rejects %s, naming the field and the rule', (_name, options, error) => {
    expect(() => resolvePrometheusSettings(options)).toThrow(error);
  });
});

describe('API targets', () => {
  test('containerTargets names replicas as the Pulumi containers: api-v1-1..N and api-v2', () => {
    const t = containerTargets(5);
    expect(t.api.map((a) => [a.replica, a.version, a.address])).toEqual([
      ['api-v1-1', 'v1', 'api-v1-1:8000'],
      ['api-v1-2', 'v1', 'api-v1-2:8000'],
      ['api-v1-3', 'v1', 'api-v1-3:8000'],
      ['api-v1-4', 'v1', 'api-v1-4:8000'],
      ['api-v1-5', 'v1', 'api-v1-5:8000'],
      ['api-v2', 'v2', 'api-v2:8000'],
    ]);
    expect(t.nginxExporter).toBe('nginx-exporter:9113');
    expect(t.gatewayMetrics).toBe('gateway-metrics:3903');
  });

  test('apiTargets labels loopback addresses with the same replica names', () => {
    expect(apiTargets({ v1: ['127.0.0.1:1', '127.0.0.1:2'], v2: ['127.0.0.1:3', '127.0.0.1:4'] })).toEqual([
      { address: '127.0.0.1:1', replica: 'api-v1-1', version: 'v1' },
      { address: '127.0.0.1:2', replica: 'api-v1-2', version: 'v1' },
      { address: '127.0.0.1:3', replica: 'api-v2-1', version: 'v2' },
      { address: '127.0.0.1:4', replica: 'api-v2-2', version: 'v2' },
    ]);
  });

  test('containerTargets rejects 0 replicas', () => {
    expect(() => containerTargets(0)).toThrow(/^v1Replicas must be a number at least 1/);
  });
});

describe('resolveAlertRuleSettings', () => {
  test('defaults: 5xx above 1 % for 5m', () => {
    const r = resolveAlertRuleSettings();
    expect(r).toEqual(DEFAULT_ALERT_RULE_SETTINGS);
    expect(r.gateway5xxRatio).toEqual({ threshold: 0.01, for: '5m' });
  });

  test('a partial threshold keeps the other default', () => {
    const r = resolveAlertRuleSettings({ gateway5xxRatio: { for: '1m' } });
    expect(r.gateway5xxRatio).toEqual({ threshold: 0.01, for: '1m' });
    expect(DEFAULT_ALERT_RULE_SETTINGS.gateway5xxRatio.for).toBe('5m');
  });

  test.each<[string, AlertRuleOptions, RegExp]>([
    [
      'ratio above 1',
      { gateway5xxRatio: { threshold: 1.5 } },
      /^gateway5xxRatio.threshold must be a number greater than 0 and at most 1/,
    ],
    [
      'zero share',
      { gatewayRateLimitedShare: { threshold: 0 } },
      /^gatewayRateLimitedShare.threshold must be a number greater than 0/,
    ],
    [
      'NaN latency',
      { apiLatencyP99Seconds: { threshold: Number.NaN } },
      /^apiLatencyP99Seconds.threshold must be a number/,
    ],
    [
      'bad for',
      { apiLatencyP99Seconds: { for: 'soon' } },
      /^apiLatencyP99Seconds.for must be a Prometheus duration/,
    ],
    ['bad window', { rateWindow: '-5m' }, /^rateWindow must be a Prometheus duration/],
    ['bad down duration', { apiV2DownFor: '' }, /^apiV2DownFor must be a Prometheus duration/],
  ])('rejects %s', (_name, options, error) => {
    expect(() => resolveAlertRuleSettings(options)).toThrow(error);
  });
});

describe('resolveAlertmanagerSettings', () => {
  test('no receiver by default', () => {
    expect(resolveAlertmanagerSettings()).toEqual(DEFAULT_ALERTMANAGER_SETTINGS);
    expect(DEFAULT_ALERTMANAGER_SETTINGS.receivers).toEqual([]);
  });

  test('fills receiver flags with their defaults', () => {
    const r = resolveAlertmanagerSettings({
      receivers: [
        { kind: 'webhook', name: 'ops', url: 'https://hooks.example/alert' },
        {
          kind: 'email',
          name: 'oncall',
          to: 'oncall@example.org',
          from: 'am@example.org',
          smarthost: 'smtp.example.org:587',
        },
      ],
    });
    expect(r.receivers).toEqual([
      { kind: 'webhook', name: 'ops', url: 'https://hooks.example/alert', sendResolved: true },
      {
        kind: 'email',
        name: 'oncall',
        to: 'oncall@example.org',
        from: 'am@example.org',
        smarthost: 'smtp.example.org:587',
        requireTls: true,
        sendResolved: false,
      },
    ]);
  });

  const hook = { kind: 'webhook' as const, name: 'ops', url: 'https://h.example/x' };
  const mail = { kind: 'email' as const, name: 'm', to: 'a@b.c', from: 'c@d.e', smarthost: 'smtp:25' };
  test.each<[string, AlertmanagerOptions, RegExp]>([
    [
      'credentials in a webhook URL',
      { receivers: [{ ...hook, url: 'https://u:secret@h.example/x' }] },
      /^receivers\[0\].url must not carry credentials/,
    ],
    [
      'a non-http webhook URL',
      { receivers: [{ ...hook, url: 'ftp://h/x' }] },
      /^receivers\[0\].url must be an absolute http/,
    ],
    [
      'a relative token file',
      { receivers: [{ ...hook, bearerTokenFile: 'token' }] },
      /^receivers\[0\].bearerTokenFile must be an absolute path/,
    ],
    ['a duplicate name', { receivers: [hook, { ...hook }] }, /^receivers\[\].name must be unique/],
    [
      'the reserved null name',
      { receivers: [{ ...hook, name: 'null' }] },
      /^receivers\[0\].name must not be "null"/,
    ],
    [
      'a bad e-mail address',
      { receivers: [{ ...mail, to: 'nobody' }] },
      /^receivers\[0\].to must be an e-mail address/,
    ],
    [
      'a user without password file',
      { receivers: [{ ...mail, authUsername: 'u' }] },
      /^receivers\[0\]: authUsername and authPasswordFile must be given together/,
    ],
    [
      'an unknown kind',
      { receivers: [{ ...hook, kind: 'sms' as 'webhook' }] },
      /^receivers\[0\].kind must be "webhook" or "email" \(got "sms"\)/,
    ],
    ['a bad group label', { groupBy: ['alert name'] }, /^groupBy\[0\] must be a label name/],
    ['a bad interval', { repeatInterval: '4 hours' }, /^repeatInterval must be a Prometheus duration/],
  ])('rejects %s', (_name, options, error) => {
    expect(() => resolveAlertmanagerSettings(options)).toThrow(error);
  });
});

describe('resolveGatewayMetricsSettings', () => {
  test('defaults route the API and gateway paths, and never mutate', () => {
    const r = resolveGatewayMetricsSettings({ routes: ['/x'] });
    expect(r.routes).toEqual(['/x']);
    expect(DEFAULT_GATEWAY_METRICS_SETTINGS.routes).toEqual([
      '/predict',
      '/health',
      '/docs',
      '/openapi.json',
    ]);
  });

  test.each<[string, GatewayMetricsOptions, RegExp]>([
    ['a regex in a route', { routes: ['/predict|.*'] }, /^routes\[0\] must be a path like \/predict/],
    ['a relative route', { routes: ['predict'] }, /^routes\[0\] must be a path/],
    ['duplicate routes', { routes: ['/a', '/a'] }, /^routes must be unique/],
    [
      'unsorted buckets',
      { durationBuckets: [0.1, 0.05] },
      /^durationBuckets must be a non-empty, strictly increasing list/,
    ],
    ['no bucket', { durationBuckets: [] }, /^durationBuckets must be a non-empty/],
    [
      'a negative bucket',
      { durationBuckets: [-1, 1] },
      /^durationBuckets\[0\] must be a number greater than 0/,
    ],
    ['a relative log path', { logPath: 'metrics.log' }, /^logPath must be an absolute path/],
  ])('rejects %s', (_name, options, error) => {
    expect(() => resolveGatewayMetricsSettings(options)).toThrow(error);
  });
});

describe('resolveGrafanaSettings', () => {
  test('alertmanagerUrl null drops the Alertmanager datasource; undefined keeps the default', () => {
    expect(resolveGrafanaSettings({ alertmanagerUrl: null }).alertmanagerUrl).toBeNull();
    expect(resolveGrafanaSettings().alertmanagerUrl).toBe('http://alertmanager:9093');
  });

  test.each<[string, GrafanaOptions, RegExp]>([
    [
      'a URL with credentials',
      { prometheusUrl: 'http://admin:admin@prometheus:9090' },
      /^prometheusUrl must not carry credentials/,
    ],
    [
      'a relative dashboards path',
      { dashboardsPath: 'dashboards' },
      /^dashboardsPath must be an absolute path/,
    ],
    ['a bad scrape interval', { scrapeInterval: '15' }, /^scrapeInterval must be a Prometheus duration/],
    [
      'a bad alert threshold',
      { alerts: { gateway5xxRatio: { threshold: 2 } } },
      /^gateway5xxRatio.threshold/,
    ],
  ])('rejects %s', (_name, options, error) => {
    expect(() => resolveGrafanaSettings(options)).toThrow(error);
  });
});
