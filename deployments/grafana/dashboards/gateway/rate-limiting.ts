/** Gateway dashboard, row "Rate limiting and errors": 429s and the 5xx ratio, with their alert thresholds. */
import type { GrafanaSettings } from '../../settings';
import { GATEWAY_METRICS, SELECTOR, STATUS, metric, rate, shareOf, sumBy } from '../../../prometheus/promql';
import { RATE_WINDOW, type Row, type RowFactory, statPanel, timeseriesPanel } from '../panels';

/** Rate-limited (429) responses per second, by route. */
export function rateLimitedTimeseries() {
  return timeseriesPanel({
    title: 'Rate-limited requests (429)',
    description: 'Requests per second rejected by the per-client rate limit, by route.',
    unit: 'reqps',
    min: 0,
    queries: [
      {
        expr: sumBy(
          ['route'],
          rate(
            metric(GATEWAY_METRICS.requests, { ...SELECTOR.gateway, status: STATUS.rateLimited }),
            RATE_WINDOW,
          ),
        ),
        legend: '{{route}}',
      },
    ],
  });
}

/** Share of responses that are 429, against the alert threshold. */
export function rateLimitedShareStat(settings: GrafanaSettings) {
  return statPanel({
    title: '429 share',
    description:
      'Share of gateway responses that are 429. Red above the GatewayRateLimitedShareHigh alert threshold.',
    unit: 'percentunit',
    threshold: settings.alerts.gatewayRateLimitedShare.threshold,
    queries: [
      {
        expr: shareOf(
          GATEWAY_METRICS.requests,
          SELECTOR.gateway,
          { status: STATUS.rateLimited },
          RATE_WINDOW,
        ),
        legend: '429 share',
      },
    ],
    span: 12,
  });
}

/** Share of responses that are 5xx over time, against the alert threshold. */
export function serverErrorRatioTimeseries(settings: GrafanaSettings) {
  return timeseriesPanel({
    title: '5xx ratio',
    description:
      'Share of gateway responses that are 5xx (nginx 502/503/504 included). Dashed line: GatewayHigh5xxRatio threshold.',
    unit: 'percentunit',
    min: 0,
    threshold: settings.alerts.gateway5xxRatio.threshold,
    queries: [
      {
        expr: shareOf(
          GATEWAY_METRICS.requests,
          SELECTOR.gateway,
          { status: STATUS.serverError },
          RATE_WINDOW,
        ),
        legend: '5xx ratio',
      },
    ],
  });
}

/** The row. */
export const rateLimitingRow: RowFactory = (settings): Row => ({
  title: 'Rate limiting and errors',
  panels: [rateLimitedTimeseries(), serverErrorRatioTimeseries(settings), rateLimitedShareStat(settings)],
});
