/** Gateway dashboard, row "Requests": request rate, by status and by route, and gateway latency. */
import {
  GATEWAY_METRICS,
  NGINX_METRICS,
  SELECTOR,
  histogramQuantile,
  metric,
  rate,
  sumBy,
} from '../../../prometheus/promql';
import { RATE_WINDOW, type Row, type RowFactory, timeseriesPanel } from '../panels';

/** Requests per second through the gateway (stub_status counts every request, all servers). */
export function requestRateTimeseries() {
  return timeseriesPanel({
    title: 'Request rate',
    description: 'Requests per second handled by nginx (stub_status), and those seen by the metrics log.',
    unit: 'reqps',
    min: 0,
    queries: [
      {
        expr: sumBy([], rate(metric(NGINX_METRICS.requests, SELECTOR.nginx), RATE_WINDOW)),
        legend: 'nginx (stub_status)',
      },
      {
        expr: sumBy([], rate(metric(GATEWAY_METRICS.requests, SELECTOR.gateway), RATE_WINDOW)),
        legend: 'metrics log',
      },
    ],
  });
}

/** Gateway responses per second by HTTP status (including nginx's own 401/429/5xx). */
export function responsesByStatusTimeseries() {
  return timeseriesPanel({
    title: 'Responses by status',
    description: "Gateway responses per second by status, nginx's own answers (401, 429, 502…) included.",
    unit: 'reqps',
    min: 0,
    stacked: true,
    queries: [
      {
        expr: sumBy(['status'], rate(metric(GATEWAY_METRICS.requests, SELECTOR.gateway), RATE_WINDOW)),
        legend: '{{status}}',
      },
    ],
  });
}

/** Gateway requests per second by route (known paths; the rest is "other"). */
export function requestsByRouteTimeseries() {
  return timeseriesPanel({
    title: 'Requests by route',
    description: 'Gateway requests per second by path; unknown paths are grouped as "other".',
    unit: 'reqps',
    min: 0,
    stacked: true,
    queries: [
      {
        expr: sumBy(['route'], rate(metric(GATEWAY_METRICS.requests, SELECTOR.gateway), RATE_WINDOW)),
        legend: '{{route}}',
      },
    ],
  });
}

/** Gateway request duration quantiles (client's view: queueing, auth, upstream, retries). */
export function gatewayLatencyTimeseries() {
  const q = (quantile: number) => ({
    expr: histogramQuantile(quantile, GATEWAY_METRICS.requestDuration, SELECTOR.gateway, RATE_WINDOW),
    legend: `p${Math.round(quantile * 100)}`,
  });
  return timeseriesPanel({
    title: 'Gateway latency',
    description: "nginx's $request_time quantiles: what clients wait, upstream retries included.",
    unit: 's',
    min: 0,
    queries: [q(0.5), q(0.95), q(0.99)],
  });
}

/** The row. */
export const requestsRow: RowFactory = (): Row => ({
  title: 'Requests',
  panels: [
    requestRateTimeseries(),
    responsesByStatusTimeseries(),
    requestsByRouteTimeseries(),
    gatewayLatencyTimeseries(),
  ],
});
