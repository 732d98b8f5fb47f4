/** Gateway dashboard, row "Connections": nginx's stub_status through nginx-prometheus-exporter. */
import { NGINX_METRICS, SELECTOR, metric, rate, sumBy } from '../../../prometheus/promql';
import { RATE_WINDOW, type Row, type RowFactory, statPanel, timeseriesPanel } from '../panels';

/** nginx up (1) or down (0) as the exporter sees it. */
export function nginxUpStat() {
  return statPanel({
    title: 'nginx up',
    description: 'nginx_up: 1 when the exporter can read stub_status.',
    unit: 'none',
    queries: [{ expr: sumBy([], metric(NGINX_METRICS.up, SELECTOR.nginx)), legend: 'up' }],
  });
}

/** Open client connections, by state. */
export function activeConnectionsTimeseries() {
  const gauge = (name: string, legend: string) => ({ expr: sumBy([], metric(name, SELECTOR.nginx)), legend });
  return timeseriesPanel({
    title: 'Connections by state',
    description:
      'Open client connections: active in total, and reading / writing / waiting (keep-alive idle).',
    unit: 'short',
    min: 0,
    queries: [
      gauge(NGINX_METRICS.active, 'active'),
      gauge(NGINX_METRICS.reading, 'reading'),
      gauge(NGINX_METRICS.writing, 'writing'),
      gauge(NGINX_METRICS.waiting, 'waiting'),
    ],
    span: 18,
  });
}

/** Accepted vs handled connections per second: a gap means nginx dropped connections (worker_connections). */
export function acceptedVsHandledTimeseries() {
  const perSecond = (name: string, legend: string) => ({
    expr: sumBy([], rate(metric(name, SELECTOR.nginx), RATE_WINDOW)),
    legend,
  });
  return timeseriesPanel({
    title: 'Accepted vs handled connections',
    description:
      'New connections per second. Handled below accepted means nginx dropped connections (worker_connections reached).',
    unit: 'cps',
    min: 0,
    queries: [
      perSecond(NGINX_METRICS.accepted, 'accepted'),
      perSecond(NGINX_METRICS.handled, 'handled'),
      {
        expr: `${sumBy([], rate(metric(NGINX_METRICS.accepted, SELECTOR.nginx), RATE_WINDOW))} - ${sumBy([], rate(metric(NGINX_METRICS.handled, SELECTOR.nginx), RATE_WINDOW))}`,
        legend: 'dropped',
      },
    ],
    span: 24,
  });
}

/** The row. */
export const connectionsRow: RowFactory = (): Row => ({
  title: 'Connections',
  panels: [nginxUpStat(), activeConnectionsTimeseries(), acceptedVsHandledTimeseries()],
});
