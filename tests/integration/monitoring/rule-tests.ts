/**
 * Builds a `promtool test rules` file for the rendered alert rules: for each alert, a case where it
 * fires (condition held longer than its `for`) and cases where it stays quiet (below the threshold,
 * or above it for less than `for`). Expected annotations are the rule templates expanded with the
 * test's labels and value, so a wrong label name in a template fails the test too.
 */
import { stringify } from 'yaml';
import { ALERTS, type AlertRule, alertRules } from '../../../deployments/prometheus/rules';
import type { AlertRuleSettings } from '../../../deployments/prometheus/settings';
import { durationMs } from '../../../deployments/prometheus/validate';

interface Series {
  series: string;
  values: string;
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts: { exp_labels: Record<string, string>; exp_annotations: Record<string, string> }[];
}
interface TestGroup {
  name: string;
  interval: string;
  input_series: Series[];
  alert_rule_test: AlertTest[];
}

// Prometheus' humanizePercentage / humanizeDuration (for values under a minute), as Go prints them (%.4g).
const g4 = (v: number): string => String(Number(v.toPrecision(4)));
const humanizePercentage = (v: number): string => `${g4(v * 100)}%`;
function humanizeDuration(v: number): string {
  if (v >= 1 && v < 60) {
    return `${g4(v)}s`;
  }
  if (v > 0 && v < 1) {
    return `${g4(v * 1000)}ms`;
  }
  throw new Error(`humanizeDuration: value ${v} outside what this test expands`);
}

/** Expands `{{ $labels.x }}` and `{{ $value | fn }}` as Prometheus does; throws on a missing label. */
function expand(template: string, labels: Record<string, string>, value: number): string {
  return template.replace(
    /\{\{\s*\$(labels\.(\w+)|value)\s*(?:\|\s*(\w+)\s*)?\}\}/g,
    (_m, _what, label, fn) => {
      if (label !== undefined) {
        const v = labels[label];
        if (v === undefined) {
          throw new Error(`template uses $labels.${label}, which the alert does not carry`);
        }
        return v;
      }
      if (fn === 'humanizePercentage') return humanizePercentage(value);
      if (fn === 'humanizeDuration') return humanizeDuration(value);
      throw new Error(`unsupported template function ${fn}`);
    },
  );
}

const minutes = (duration: string): number => Math.ceil(durationMs(duration, 'duration') / 60_000);

function expected(
  rule: AlertRule,
  labels: Record<string, string>,
  value: number,
): AlertTest['exp_alerts'][number] {
  const all = { ...labels, ...rule.labels };
  return {
    exp_labels: all,
    exp_annotations: {
      summary: expand(rule.annotations.summary, all, value),
      description: expand(rule.annotations.description, all, value),
    },
  };
}

const selector = (metric: string, labels: Record<string, string>): string =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;

/** Renders the promtool unit-test file (YAML) for `rulesFile` rendered from `settings`. */
export function renderRuleTests(settings: AlertRuleSettings, rulesFile: string): string {
  const rules = Object.fromEntries(alertRules(settings).map((r) => [r.alert, r])) as Record<
    string,
    AlertRule
  >;
  const rule = (name: string): AlertRule => rules[name]!;
  const window = minutes(settings.rateWindow);
  const groups: TestGroup[] = [];

  // Down alerts: up == 0 for longer than `for` fires; up == 1, or down for less than `for`, does not.
  const downCases: [string, string, Record<string, string>][] = [
    [ALERTS.targetDown, settings.targetDownFor, { job: 'nginx-exporter', instance: 'nginx-exporter:9113' }],
    [
      ALERTS.apiV1ReplicaDown,
      settings.apiV1ReplicaDownFor,
      { job: 'api', instance: 'api-v1-2:8000', replica: 'api-v1-2', version: 'v1' },
    ],
    [
      ALERTS.apiV2Down,
      settings.apiV2DownFor,
      { job: 'api', instance: 'api-v2:8000', replica: 'api-v2', version: 'v2' },
    ],
  ];
  for (const [alert, forDuration, labels] of downCases) {
    const f = minutes(forDuration);
    const up = (values: string) => ({ series: selector('up', labels), values });
    groups.push({
      name: `${alert} fires after ${forDuration} down, not before, and never while up`,
      interval: '1m',
      input_series: [up(`1 1 0x${f + 5}`)],
      alert_rule_test: [
        { eval_time: '1m', alertname: alert, exp_alerts: [] },
        // Down since minute 2: pending until 2 + f.
        ...(f > 1 ? [{ eval_time: `${2 + f - 1}m`, alertname: alert, exp_alerts: [] }] : []),
        { eval_time: `${2 + f + 1}m`, alertname: alert, exp_alerts: [expected(rule(alert), labels, 0)] },
      ],
    });
    if (alert !== ALERTS.targetDown) {
      // A v1 replica down must not raise the v2 alert and vice versa.
      const other = alert === ALERTS.apiV1ReplicaDown ? ALERTS.apiV2Down : ALERTS.apiV1ReplicaDown;
      groups.push({
        name: `${other} stays quiet when only ${labels.replica} is down`,
        interval: '1m',
        input_series: [up(`0x${f + 10}`)],
        alert_rule_test: [{ eval_time: `${f + 5}m`, alertname: other, exp_alerts: [] }],
      });
    }
  }

  // Gateway ratios: `bad` responses among 1000 per minute, above or below the threshold.
  const ratioCases: [string, AlertRuleSettings['gateway5xxRatio'], string][] = [
    [ALERTS.gatewayHigh5xxRatio, settings.gateway5xxRatio, '502'],
    [ALERTS.gatewayRateLimitedShareHigh, settings.gatewayRateLimitedShare, '429'],
  ];
  for (const [alert, threshold, status] of ratioCases) {
    const f = minutes(threshold.for);
    const span = window + f + 5;
    const traffic = (share: number): Series[] => [
      {
        series: selector('gateway_http_requests_total', {
          job: 'gateway-metrics',
          route: '/predict',
          status,
        }),
        values: `0+${share * 1000}x${span}`,
      },
      {
        series: selector('gateway_http_requests_total', {
          job: 'gateway-metrics',
          route: '/predict',
          status: '200',
        }),
        values: `0+${(1 - share) * 1000}x${span}`,
      },
    ];
    const high = Math.min(1, threshold.threshold * 2);
    const low = threshold.threshold / 2;
    const evalTime = `${window + f + 2}m`;
    groups.push({
      name: `${alert} fires at ${humanizePercentage(high)} ${status}`,
      interval: '1m',
      input_series: traffic(high),
      alert_rule_test: [
        { eval_time: evalTime, alertname: alert, exp_alerts: [expected(rule(alert), {}, high)] },
      ],
    });
    groups.push({
      name: `${alert} stays quiet at ${humanizePercentage(low)} ${status}`,
      interval: '1m',
      input_series: traffic(low),
      alert_rule_test: [{ eval_time: evalTime, alertname: alert, exp_alerts: [] }],
    });
    // Above the threshold for less than `for`: 0 bad responses, then a burst starting late.
    groups.push({
      name: `${alert} stays quiet when the ratio is high for less than ${threshold.for}`,
      interval: '1m',
      input_series: [
        { series: traffic(high)[0]!.series, values: `0x${span - f + 1} 0+${high * 1000}x${f - 1}` },
        traffic(high)[1]!,
      ],
      alert_rule_test: [{ eval_time: `${span}m`, alertname: alert, exp_alerts: [] }],
    });
  }

  // Latency: every /predict request in (T, 2T] gives p99 = 1.99 T; in (T/2, T] gives 0.995 T.
  {
    const alert = ALERTS.apiLatencyP99High;
    const t = settings.apiLatencyP99Seconds.threshold;
    const f = minutes(settings.apiLatencyP99Seconds.for);
    const span = window + f + 5;
    const labels = { job: 'api', route: '/predict', method: 'POST', status: '200', version: 'v1' };
    const buckets = (lower: number, upper: number): Series[] =>
      [
        [String(lower), `0x${span}`],
        [String(upper), `0+100x${span}`],
        ['+Inf', `0+100x${span}`],
      ].map(([le, values]) => ({
        series: selector('http_request_duration_seconds_bucket', { ...labels, le: le! }),
        values: values!,
      }));
    const evalTime = `${window + f + 2}m`;
    groups.push({
      name: `${alert} fires when p99 is 1.99 x the threshold`,
      interval: '1m',
      input_series: buckets(t, 2 * t),
      alert_rule_test: [
        {
          eval_time: evalTime,
          alertname: alert,
          exp_alerts: [expected(rule(alert), { version: 'v1' }, 1.99 * t)],
        },
      ],
    });
    groups.push({
      name: `${alert} stays quiet when p99 is just under the threshold`,
      interval: '1m',
      input_series: buckets(t / 2, t),
      alert_rule_test: [{ eval_time: evalTime, alertname: alert, exp_alerts: [] }],
    });
  }

  return stringify({ rule_files: [rulesFile], evaluation_interval: '1m', tests: groups }, { lineWidth: 0 });
}
