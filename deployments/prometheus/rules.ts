/** `renderAlertRules`: the alert rules file, from resolved thresholds. */
import {
  API_METRICS,
  GATEWAY_METRICS,
  JOBS,
  SELECTOR,
  STATUS,
  histogramQuantile,
  metric,
  shareOf,
} from './promql';
import type { AlertRuleSettings } from './settings';
import { generatedBy, toYaml } from './yaml';

/** Alert names: Alertmanager routes and inhibition, tests and the README use these. */
export const ALERTS = {
  targetDown: 'TargetDown',
  apiV1ReplicaDown: 'ApiV1ReplicaDown',
  apiV2Down: 'ApiV2Down',
  gatewayHigh5xxRatio: 'GatewayHigh5xxRatio',
  gatewayRateLimitedShareHigh: 'GatewayRateLimitedShareHigh',
  apiLatencyP99High: 'ApiLatencyP99High',
} as const;
export type AlertName = (typeof ALERTS)[keyof typeof ALERTS];

/** Severity label values. */
export const SEVERITY = { warning: 'warning', critical: 'critical' } as const;

/** The rule group name in the rendered file. */
export const RULE_GROUP = 'sentiment-gateway';

/** One alerting rule as Prometheus reads it. */
export interface AlertRule {
  readonly alert: AlertName;
  readonly expr: string;
  readonly for: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<{ summary: string; description: string }>;
}

const percent = (share: number): string => `${Number((share * 100).toFixed(4))}%`;

/** The rules, as data (rendered by `renderAlertRules`, inspected by tests). */
export function alertRules(settings: AlertRuleSettings): AlertRule[] {
  const w = settings.rateWindow;
  const up = (matchers: Record<string, string>): string => `${metric('up', matchers)} == 0`;
  return [
    {
      alert: ALERTS.targetDown,
      expr: up({}),
      for: settings.targetDownFor,
      labels: { severity: SEVERITY.warning },
      annotations: {
        summary: 'Scrape target {{ $labels.job }} {{ $labels.instance }} is down',
        description: `Prometheus has failed to scrape {{ $labels.instance }} (job {{ $labels.job }}) for ${settings.targetDownFor}.`,
      },
    },
    {
      alert: ALERTS.apiV1ReplicaDown,
      expr: up({ job: JOBS.api, version: 'v1' }),
      for: settings.apiV1ReplicaDownFor,
      labels: { severity: SEVERITY.warning },
      annotations: {
        summary: 'API v1 replica {{ $labels.replica }} is down',
        description: `{{ $labels.replica }} ({{ $labels.instance }}) has been unreachable for ${settings.apiV1ReplicaDownFor}; the gateway balances over the remaining v1 replicas.`,
      },
    },
    {
      alert: ALERTS.apiV2Down,
      expr: up({ job: JOBS.api, version: 'v2' }),
      for: settings.apiV2DownFor,
      labels: { severity: SEVERITY.warning },
      annotations: {
        summary: 'API v2 (debug) replica {{ $labels.replica }} is down',
        description: `{{ $labels.replica }} ({{ $labels.instance }}) has been unreachable for ${settings.apiV2DownFor}: requests with the debug experiment header fail.`,
      },
    },
    {
      alert: ALERTS.gatewayHigh5xxRatio,
      expr: `${shareOf(GATEWAY_METRICS.requests, SELECTOR.gateway, { status: STATUS.serverError }, w)} > ${settings.gateway5xxRatio.threshold}`,
      for: settings.gateway5xxRatio.for,
      labels: { severity: SEVERITY.critical },
      annotations: {
        summary: 'Gateway 5xx ratio above ' + percent(settings.gateway5xxRatio.threshold),
        description: `{{ $value | humanizePercentage }} of gateway responses over ${w} were 5xx (threshold ${percent(settings.gateway5xxRatio.threshold)}, for ${settings.gateway5xxRatio.for}).`,
      },
    },
    {
      alert: ALERTS.gatewayRateLimitedShareHigh,
      expr: `${shareOf(GATEWAY_METRICS.requests, SELECTOR.gateway, { status: STATUS.rateLimited }, w)} > ${settings.gatewayRateLimitedShare.threshold}`,
      for: settings.gatewayRateLimitedShare.for,
      labels: { severity: SEVERITY.warning },
      annotations: {
        summary:
          'Share of rate-limited (429) requests above ' + percent(settings.gatewayRateLimitedShare.threshold),
        description: `{{ $value | humanizePercentage }} of gateway responses over ${w} were 429 (threshold ${percent(settings.gatewayRateLimitedShare.threshold)}): clients exceed the rate limit, or the limit is too low.`,
      },
    },
    {
      alert: ALERTS.apiLatencyP99High,
      expr: `${histogramQuantile(0.99, API_METRICS.requestDuration, SELECTOR.apiPredict, w, ['version'])} > ${settings.apiLatencyP99Seconds.threshold}`,
      for: settings.apiLatencyP99Seconds.for,
      labels: { severity: SEVERITY.warning },
      annotations: {
        summary:
          'API {{ $labels.version }} p99 latency of /predict above ' +
          `${settings.apiLatencyP99Seconds.threshold}s`,
        description: `p99 latency of /predict on {{ $labels.version }} is {{ $value | humanizeDuration }} over ${w} (threshold ${settings.apiLatencyP99Seconds.threshold}s, for ${settings.apiLatencyP99Seconds.for}).`,
      },
    },
  ];
}

/** Renders the Prometheus alert rules file (one group). */
export function renderAlertRules(settings: AlertRuleSettings): string {
  const rules = alertRules(settings).map((r) => ({
    alert: r.alert,
    expr: r.expr,
    for: r.for,
    labels: { ...r.labels },
    annotations: { ...r.annotations },
  }));
  return toYaml({ groups: [{ name: RULE_GROUP, rules }] }, generatedBy('deployments/prometheus/rules.ts'));
}
