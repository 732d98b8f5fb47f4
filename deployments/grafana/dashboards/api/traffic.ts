/** API & model dashboard, row "Traffic": load balancing per replica, the v1/v2 split, errors, replicas up. */
import { API_METRICS, SELECTOR, STATUS, metric, rate, shareOf, sumBy } from '../../../prometheus/promql';
import { RATE_WINDOW, type Row, type RowFactory, statPanel, timeseriesPanel } from '../panels';

const requests = (by: string[]) => sumBy(by, rate(metric(API_METRICS.requests, SELECTOR.api), RATE_WINDOW));

/** Requests per second per replica: even lines mean the gateway balances well. */
export function requestsPerReplicaTimeseries() {
  return timeseriesPanel({
    title: 'Requests per replica',
    description: 'Requests per second answered by each API replica (load balancing at work).',
    unit: 'reqps',
    min: 0,
    queries: [{ expr: requests(['replica']), legend: '{{replica}}' }],
  });
}

/** Requests per second per API version: the experiment split. */
export function requestsPerVersionTimeseries() {
  return timeseriesPanel({
    title: 'Requests per version',
    description: 'Requests per second on v1 and v2 (the A/B experiment split).',
    unit: 'reqps',
    min: 0,
    stacked: true,
    queries: [{ expr: requests(['version']), legend: '{{version}}' }],
  });
}

/** Share of API responses that are 5xx, per version. */
export function errorRatioTimeseries() {
  return timeseriesPanel({
    title: 'Error ratio (5xx) per version',
    description: 'Share of API responses that are 5xx, per version.',
    unit: 'percentunit',
    min: 0,
    queries: [
      {
        expr: shareOf(API_METRICS.requests, SELECTOR.api, { status: STATUS.serverError }, RATE_WINDOW, [
          'version',
        ]),
        legend: '{{version}}',
      },
    ],
  });
}

/** API responses per second by route and status (4xx included: bad input is the client's error). */
export function responsesByStatusTimeseries() {
  return timeseriesPanel({
    title: 'Responses by route and status',
    description: 'API responses per second by route and status.',
    unit: 'reqps',
    min: 0,
    queries: [{ expr: requests(['route', 'status']), legend: '{{route}} {{status}}' }],
  });
}

/** Replicas Prometheus can scrape, per version. */
export function replicasUpStat() {
  return statPanel({
    title: 'Replicas up',
    description: 'API replicas Prometheus can scrape, per version.',
    unit: 'none',
    queries: [{ expr: sumBy(['version'], metric('up', SELECTOR.api)), legend: '{{version}}' }],
    span: 24,
  });
}

/** The row. */
export const trafficRow: RowFactory = (): Row => ({
  title: 'Traffic',
  panels: [
    replicasUpStat(),
    requestsPerReplicaTimeseries(),
    requestsPerVersionTimeseries(),
    errorRatioTimeseries(),
    responsesByStatusTimeseries(),
  ],
});
