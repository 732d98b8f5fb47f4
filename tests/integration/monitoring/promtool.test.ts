/**
 * The rendered Prometheus and Alertmanager files pass the real tools: `promtool check config`,
 * `promtool check rules`, `promtool test rules` (each alert fires on its condition and stays quiet
 * otherwise) and `amtool check-config`.
 */
import path from 'node:path';
import { parse } from 'yaml';
import { renderAlertmanagerConfig } from '../../../deployments/alertmanager/render';
import {
  type AlertmanagerOptions,
  resolveAlertmanagerSettings,
} from '../../../deployments/alertmanager/settings';
import { renderPrometheusConfig } from '../../../deployments/prometheus/config';
import { ALERTS, renderAlertRules } from '../../../deployments/prometheus/rules';
import {
  type AlertRuleOptions,
  type PrometheusOptions,
  apiTargets,
  containerTargets,
  resolveAlertRuleSettings,
  resolvePrometheusSettings,
} from '../../../deployments/prometheus/settings';
import { put, run, tempDir } from './helpers';
import { renderRuleTests } from './rule-tests';

jest.setTimeout(60_000);

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir('sg-promtool')));
afterAll(() => cleanup());

const prometheusCases: [string, PrometheusOptions][] = [
  ['Docker defaults', {}],
  ['Docker, 5 v1 replicas', { targets: containerTargets(5) }],
  [
    'local stack, 1 s scrapes',
    {
      scrapeInterval: '1s',
      scrapeTimeout: '1s',
      evaluationInterval: '1s',
      targets: {
        api: apiTargets({ v1: ['127.0.0.1:41001', '127.0.0.1:41002'], v2: ['127.0.0.1:41003'] }),
        nginxExporter: '127.0.0.1:41004',
        gatewayMetrics: '127.0.0.1:41005',
        prometheus: '127.0.0.1:41006',
        alertmanager: '127.0.0.1:41007',
      },
    },
  ],
];

test.each(prometheusCases)(
  'promtool check config accepts the rendered config and its rules (%s)',
  async (name, options) => {
    const sub = path.join(dir, 'config', name.replace(/\W+/g, '-'));
    const config = await put(
      sub,
      'prometheus.yml',
      renderPrometheusConfig(resolvePrometheusSettings(options)),
    );
    await put(sub, 'alerts.yml', renderAlertRules(resolveAlertRuleSettings()));
    const result = await run('promtool', ['check', 'config', config]);
    expect(result.output).toContain('is valid prometheus config file syntax');
    expect(result.output).toContain('SUCCESS: 6 rules found');
    expect(result.code).toBe(0);
  },
);

test('promtool check config rejects a config whose rule file is missing (the gate can fail)', async () => {
  const sub = path.join(dir, 'config', 'missing-rules');
  const config = await put(
    sub,
    'prometheus.yml',
    renderPrometheusConfig(resolvePrometheusSettings({ ruleFiles: ['absent.yml'] })),
  );
  const result = await run('promtool', ['check', 'config', config]);
  expect(result.code).not.toBe(0);
});

const ruleCases: [string, AlertRuleOptions][] = [
  ['default thresholds', {}],
  [
    'custom thresholds and short durations',
    {
      rateWindow: '2m',
      targetDownFor: '30s',
      apiV1ReplicaDownFor: '3m',
      apiV2DownFor: '1m',
      gateway5xxRatio: { threshold: 0.05, for: '2m' },
      gatewayRateLimitedShare: { threshold: 0.3, for: '4m' },
      apiLatencyP99Seconds: { threshold: 2, for: '3m' },
    },
  ],
];

describe.each(ruleCases)('alert rules with %s', (name, options) => {
  const settings = resolveAlertRuleSettings(options);
  const sub = () => path.join(dir, 'rules', name.replace(/\W+/g, '-'));

  test('promtool check rules accepts them', async () => {
    const rules = await put(sub(), 'alerts.yml', renderAlertRules(settings));
    const result = await run('promtool', ['check', 'rules', rules]);
    expect(result.output).toContain('SUCCESS: 6 rules found');
    expect(result.code).toBe(0);
  });

  test('the generated unit tests cover every alert both firing and quiet', () => {
    const file = parse(renderRuleTests(settings, 'alerts.yml')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const cases = file.tests.flatMap((t) => t.alert_rule_test);
    for (const alert of Object.values(ALERTS)) {
      expect({ alert, fires: cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0) }).toEqual({
        alert,
        fires: true,
      });
      expect({ alert, quiet: cases.some((c) => c.alertname === alert && c.exp_alerts.length === 0) }).toEqual(
        { alert, quiet: true },
      );
    }
  });

  test('promtool test rules: each alert fires on its condition and stays quiet otherwise', async () => {
    await put(sub(), 'alerts.yml', renderAlertRules(settings));
    const tests = await put(sub(), 'alerts.test.yml', renderRuleTests(settings, 'alerts.yml'));
    const result = await run('promtool', ['test', 'rules', tests]);
    expect(result.output).toContain('SUCCESS');
    expect(result.code).toBe(0);
  });
});

test('promtool test rules fails when a rule does not match its test (the unit tests can fail)', async () => {
  const sub = path.join(dir, 'rules', 'mismatch');
  // Rules rendered with a 50 % threshold, tests written for 1 %: the firing case must fail.
  await put(
    sub,
    'alerts.yml',
    renderAlertRules(resolveAlertRuleSettings({ gateway5xxRatio: { threshold: 0.5 } })),
  );
  const tests = await put(sub, 'alerts.test.yml', renderRuleTests(resolveAlertRuleSettings(), 'alerts.yml'));
  const result = await run('promtool', ['test', 'rules', tests]);
  expect(result.code).not.toBe(0);
  expect(result.output).toContain('GatewayHigh5xxRatio');
});

const alertmanagerCases: [string, AlertmanagerOptions][] = [
  ['no receiver (default)', {}],
  [
    'webhook and e-mail receivers',
    {
      receivers: [
        {
          kind: 'webhook',
          name: 'ops',
          url: 'https://hooks.example.org/alerts',
          bearerTokenFile: '/run/secrets/hook',
        },
        {
          kind: 'email',
          name: 'oncall',
          to: 'oncall@example.org',
          from: 'alertmanager@example.org',
          smarthost: 'smtp.example.org:587',
          authUsername: 'alertmanager',
          authPasswordFile: '/run/secrets/smtp',
        },
      ],
      groupBy: ['alertname', 'severity'],
    },
  ],
];

test.each(alertmanagerCases)(
  'amtool check-config accepts the rendered Alertmanager config (%s)',
  async (name, options) => {
    const file = await put(
      path.join(dir, 'am', name.replace(/\W+/g, '-')),
      'alertmanager.yml',
      renderAlertmanagerConfig(resolveAlertmanagerSettings(options)),
    );
    const result = await run('amtool', ['check-config', file]);
    expect(result.output).toContain('SUCCESS');
    expect(result.output).toContain('1 inhibit rules');
    expect(result.code).toBe(0);
  },
);
