/** Assembles dashboard specs (uid, title, row modules) into Grafana dashboard JSON. */
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type { GrafanaSettings } from '../settings';
import type { RowFactory } from './panels';

/** A dashboard as data: fixed uid, the file it is provisioned from, and its rows in order. */
export interface DashboardSpec {
  readonly uid: string;
  readonly title: string;
  readonly description: string;
  /** File name under the provider's `dashboardsPath`. */
  readonly file: string;
  readonly rows: readonly RowFactory[];
}

/** Tags shared by every dashboard of the project. */
export const DASHBOARD_TAGS = ['sentiment-gateway'];

/** Builds the dashboard model of `spec`: rows expanded, panel ids numbered in order. */
export function buildDashboard(spec: DashboardSpec, settings: GrafanaSettings): dashboard.Dashboard {
  const builder = new dashboard.DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags(DASHBOARD_TAGS)
    .editable()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair);
  let id = 0;
  for (const row of spec.rows.map((factory) => factory(settings))) {
    builder.withRow(new dashboard.RowBuilder(row.title).id(++id));
    for (const panel of row.panels) {
      builder.withPanel(panel.id(++id));
    }
  }
  return builder.build();
}

/** Renders `spec` as the JSON file Grafana provisions. */
export function renderDashboard(spec: DashboardSpec, settings: GrafanaSettings): string {
  return `${JSON.stringify(buildDashboard(spec, settings), null, 2)}\n`;
}

/** One query of a rendered dashboard, with the panel it belongs to. */
export interface PanelQuery {
  readonly panelId: number;
  readonly panelTitle: string;
  readonly refId: string;
  readonly expr: string;
  readonly instant: boolean;
}

/** Every panel query of a dashboard model (row panels excluded), in panel order. */
export function panelQueries(model: dashboard.Dashboard): PanelQuery[] {
  return (model.panels ?? []).flatMap((p) => {
    if (p.type === 'row' || !('targets' in p)) {
      return [];
    }
    return (p.targets ?? []).map((t) => {
      const q = t as { refId?: string; expr?: string; instant?: boolean };
      return {
        panelId: p.id ?? -1,
        panelTitle: p.title ?? '',
        refId: q.refId ?? '',
        expr: q.expr ?? '',
        instant: q.instant === true,
      };
    });
  });
}

/**
 * Replaces Grafana's built-in variables with concrete windows, so a panel query can be run
 * against Prometheus directly (the tests do this for every panel).
 */
export function expandGrafanaVariables(
  expr: string,
  windows: { rateInterval: string; range: string },
): string {
  return expr.replaceAll('$__rate_interval', windows.rateInterval).replaceAll('$__range', windows.range);
}
