/** The Gateway dashboard: connections, request rate, accepted vs handled, 429s and errors. */
import { GRAFANA_UIDS } from '../../settings';
import { type DashboardSpec } from '../build';
import { connectionsRow } from './connections';
import { rateLimitingRow } from './rate-limiting';
import { requestsRow } from './requests';

/** Spec of the Gateway dashboard. */
export const gatewayDashboard: DashboardSpec = {
  uid: GRAFANA_UIDS.gatewayDashboard,
  title: 'Sentiment gateway / Gateway',
  description: 'nginx: connections, request rate, accepted vs handled, responses by status, 429s, 5xx ratio.',
  file: 'gateway.json',
  rows: [connectionsRow, requestsRow, rateLimitingRow],
};
