/** API & model dashboard, row "Model": what the model predicts, and which model each replica serves. */
import { API_METRICS, SELECTOR, increase, metric, rate, sumBy } from '../../../prometheus/promql';
import {
  RANGE_WINDOW,
  RATE_WINDOW,
  type Row,
  type RowFactory,
  piePanel,
  tablePanel,
  timeseriesPanel,
} from '../panels';

/** Predictions per second by predicted label. */
export function predictionsByLabelTimeseries() {
  return timeseriesPanel({
    title: 'Predictions by label',
    description: 'Predictions per second by predicted emotion, all replicas.',
    unit: 'reqps',
    min: 0,
    stacked: true,
    queries: [
      {
        expr: sumBy(['label'], rate(metric(API_METRICS.predictions, SELECTOR.api), RATE_WINDOW)),
        legend: '{{label}}',
      },
    ],
  });
}

/** Mix of predicted labels over the selected range: drift shows here first. */
export function predictionMixPie() {
  return piePanel({
    title: 'Prediction mix (selected range)',
    description: 'Share of each predicted emotion over the dashboard time range.',
    unit: 'short',
    queries: [
      {
        expr: sumBy(['label'], increase(metric(API_METRICS.predictions, SELECTOR.api), RANGE_WINDOW)),
        legend: '{{label}}',
      },
    ],
  });
}

/** Which model (name, sha256, labels) each version serves, and on how many replicas. */
export function modelInfoTable() {
  return tablePanel({
    title: 'Model info',
    description:
      'model_info per version: model name, sha256 and labels; "replicas" counts the replicas serving it.',
    queries: [
      {
        expr: `count by (version, model, sha256, labels) (${metric(API_METRICS.modelInfo, SELECTOR.api)})`,
        legend: 'replicas',
      },
    ],
    hiddenColumns: ['Time'],
  });
}

/** The row. */
export const modelRow: RowFactory = (): Row => ({
  title: 'Model',
  panels: [predictionsByLabelTimeseries(), predictionMixPie(), modelInfoTable()],
});
