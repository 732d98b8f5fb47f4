/** The API & model dashboard: req/s per replica and version, latency, errors, predictions, model info. */
import { GRAFANA_UIDS } from '../../settings';
import { type DashboardSpec } from '../build';
import { latencyRow } from './latency';
import { modelRow } from './model';
import { processRow } from './process';
import { trafficRow } from './traffic';

/** Spec of the API & model dashboard. */
export const apiDashboard: DashboardSpec = {
  uid: GRAFANA_UIDS.apiDashboard,
  title: 'Sentiment gateway / API & model',
  description:
    'API replicas: requests per replica and version, latency, error ratio, predictions by label, model info.',
  file: 'api-model.json',
  rows: [trafficRow, latencyRow, modelRow, processRow],
};
