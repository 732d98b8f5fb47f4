/**
 * The metric contract and small PromQL builders shared by the alert rules and the Grafana dashboards,
 * so a metric name, job name or ratio is written once and the alerts and panels cannot drift apart.
 */
import { API_ROUTES, SERVICE } from '../names';

/** Prometheus job names: the `job` label of every scraped series. */
export const JOBS = {
  api: 'api',
  nginxExporter: SERVICE.nginxExporter,
  gatewayMetrics: SERVICE.gatewayMetrics,
  prometheus: SERVICE.prometheus,
  alertmanager: SERVICE.alertmanager,
} as const;

/** Target labels Prometheus adds to every API series (see `renderPrometheusConfig`). */
export const TARGET_LABELS = { replica: 'replica', version: 'version' } as const;

/** Metrics exposed by each API replica (contract with services/api). */
export const API_METRICS = {
  /** counter {method, route, status} */
  requests: 'http_requests_total',
  /** histogram {method, route, status} */
  requestDuration: 'http_request_duration_seconds',
  /** counter {label} */
  predictions: 'predictions_total',
  /** histogram */
  inferenceDuration: 'inference_duration_seconds',
  /** gauge = 1 {model, sha256, labels} */
  modelInfo: 'model_info',
  /** prom-client default metrics */
  residentMemory: 'process_resident_memory_bytes',
  cpuSeconds: 'process_cpu_seconds_total',
  eventLoopLagP99: 'nodejs_eventloop_lag_p99_seconds',
} as const;

/** Metrics from nginx-prometheus-exporter 0.11 (stub_status: no status codes). */
export const NGINX_METRICS = {
  up: 'nginx_up',
  active: 'nginx_connections_active',
  accepted: 'nginx_connections_accepted',
  handled: 'nginx_connections_handled',
  reading: 'nginx_connections_reading',
  writing: 'nginx_connections_writing',
  waiting: 'nginx_connections_waiting',
  requests: 'nginx_http_requests_total',
} as const;

/** Metrics mtail derives from nginx's metrics log (see deployments/gateway-metrics). */
export const GATEWAY_METRICS = {
  /** counter {route, status} */
  requests: 'gateway_http_requests_total',
  /** histogram {route} */
  requestDuration: 'gateway_http_request_duration_seconds',
} as const;

/** One label matcher: equality by default, or `!=`, `=~`, `!~`. */
export type Matcher = string | { readonly op: '!=' | '=~' | '!~'; readonly value: string };
export type Matchers = Readonly<Record<string, Matcher>>;

/** The one selector constant: every query starts from one of these job selectors. */
export const SELECTOR = {
  api: { job: JOBS.api },
  apiPredict: { job: JOBS.api, route: API_ROUTES.predict },
  nginx: { job: JOBS.nginxExporter },
  gateway: { job: JOBS.gatewayMetrics },
} as const satisfies Record<string, Matchers>;

/** Status-class matchers. */
export const STATUS = {
  serverError: { op: '=~', value: '5..' },
  rateLimited: '429',
} as const satisfies Record<string, Matcher>;

/** `name{a="x",b=~"y"}`; label values are escaped as PromQL (Go) double-quoted strings. */
export function metric(name: string, matchers: Matchers = {}): string {
  const parts = Object.entries(matchers).map(([label, m]) =>
    typeof m === 'string' ? `${label}=${JSON.stringify(m)}` : `${label}${m.op}${JSON.stringify(m.value)}`,
  );
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

/** `rate(selector[window])` */
export function rate(selector: string, window: string): string {
  return `rate(${selector}[${window}])`;
}

/** `increase(selector[window])` */
export function increase(selector: string, window: string): string {
  return `increase(${selector}[${window}])`;
}

/** `sum by (labels) (expr)`, or `sum(expr)` with no labels. */
export function sumBy(labels: readonly string[], expr: string): string {
  return labels.length === 0 ? `sum(${expr})` : `sum by (${labels.join(', ')}) (${expr})`;
}

/** The q-quantile of a histogram's rate over `window`, kept per `by` labels. */
export function histogramQuantile(
  q: number,
  histogram: string,
  matchers: Matchers,
  window: string,
  by: readonly string[] = [],
): string {
  return `histogram_quantile(${q}, ${sumBy([...by, 'le'], rate(metric(`${histogram}_bucket`, matchers), window))})`;
}

/**
 * Share of `counter` requests matching `extra` among all matching `matchers`, per `by` labels.
 *
 * Groups with traffic but no matching requests yield 0 instead of no data (the `or … * 0` arm), so a
 * panel shows "0 %" and an alert sees a value, rather than both going blank when all is well.
 */
export function shareOf(
  counter: string,
  matchers: Matchers,
  extra: Matchers,
  window: string,
  by: readonly string[] = [],
): string {
  const all = sumBy(by, rate(metric(counter, matchers), window));
  const part = sumBy(by, rate(metric(counter, { ...matchers, ...extra }), window));
  return `(${part} or ${all} * 0) / ${all}`;
}
