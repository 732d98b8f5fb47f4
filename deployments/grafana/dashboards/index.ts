/** The dashboards Grafana provisions, in the order they are listed. */
import { apiDashboard } from './api';
import type { DashboardSpec } from './build';
import { gatewayDashboard } from './gateway';

/** Every dashboard spec. */
export const DASHBOARDS: readonly DashboardSpec[] = [gatewayDashboard, apiDashboard];

export { buildDashboard, expandGrafanaVariables, panelQueries, renderDashboard } from './build';
export type { DashboardSpec, PanelQuery } from './build';
