/** API & model dashboard, row "Latency": request and inference latency quantiles. */
import type { GrafanaSettings } from '../../settings';
import { API_METRICS, SELECTOR, histogramQuantile } from '../../../prometheus/promql';
import { type Query, RATE_WINDOW, type Row, type RowFactory, timeseriesPanel } from '../panels';

const QUANTILES = [0.5, 0.95, 0.99] as const;

function quantiles(
  histogram: string,
  matchers: Record<string, string>,
  by: string[],
  legendPrefix: string,
): Query[] {
  return QUANTILES.map((q) => ({
    expr: histogramQuantile(q, histogram, matchers, RATE_WINDOW, by),
    legend: `${legendPrefix}p${Math.round(q * 100)}`,
  }));
}

/** p50/p95/p99 of /predict per version, against the p99 alert threshold. */
export function requestLatencyTimeseries(settings: GrafanaSettings) {
  return timeseriesPanel({
    title: 'Request latency /predict (p50, p95, p99)',
    description: 'Server-side latency of /predict per version. Dashed line: ApiLatencyP99High threshold.',
    unit: 's',
    min: 0,
    threshold: settings.alerts.apiLatencyP99Seconds.threshold,
    queries: quantiles(API_METRICS.requestDuration, SELECTOR.apiPredict, ['version'], '{{version}} '),
  });
}

/** p50/p95/p99 of the model's inference alone. */
export function inferenceLatencyTimeseries() {
  return timeseriesPanel({
    title: 'Inference latency (p50, p95, p99)',
    description: 'Time spent in the ONNX session per prediction, per version.',
    unit: 's',
    min: 0,
    queries: quantiles(API_METRICS.inferenceDuration, SELECTOR.api, ['version'], '{{version}} '),
  });
}

/** The row. */
export const latencyRow: RowFactory = (settings): Row => ({
  title: 'Latency',
  panels: [requestLatencyTimeseries(settings), inferenceLatencyTimeseries()],
});
