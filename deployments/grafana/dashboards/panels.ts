/**
 * Panel and query building blocks shared by every dashboard row, on top of the Grafana Foundation
 * SDK's typed builders (Grafana 11.6 schema).
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { GRAFANA_UIDS, type GrafanaSettings } from '../settings';

/** Every panel and query points at the provisioned Prometheus datasource by its fixed uid. */
export const PROMETHEUS_DATASOURCE: dashboard.DataSourceRef = {
  type: 'prometheus',
  uid: GRAFANA_UIDS.prometheusDatasource,
};

/** Grafana's rate window: at least 4 scrape intervals (datasource `timeInterval`). */
export const RATE_WINDOW = '$__rate_interval';
/** The dashboard's selected time range, for "over the range" panels. */
export const RANGE_WINDOW = '$__range';

/** One PromQL query of a panel. */
export interface Query {
  readonly expr: string;
  /** Series name in the legend, e.g. `{{replica}}`. */
  readonly legend?: string;
}

/** Any panel the factories below build. */
export type PanelBuilder =
  timeseries.PanelBuilder | stat.PanelBuilder | table.PanelBuilder | piechart.PanelBuilder;

/** A row: a title and its panels, laid out left to right, 24 columns wide. */
export interface Row {
  readonly title: string;
  readonly panels: readonly PanelBuilder[];
}

/** A row module: builds its row from the settings. */
export type RowFactory = (settings: GrafanaSettings) => Row;

function targets(queries: readonly Query[], instant: boolean): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) => {
    const target = new prometheus.DataqueryBuilder()
      .refId(String.fromCharCode(65 + i))
      .datasource(PROMETHEUS_DATASOURCE)
      .expr(q.expr);
    if (q.legend !== undefined) {
      target.legendFormat(q.legend);
    }
    return instant ? target.instant().format(prometheus.PromQueryFormat.Table) : target.range();
  });
}

function thresholdSteps(threshold: number | undefined): dashboard.ThresholdsConfigBuilder {
  const steps: dashboard.Threshold[] = [{ value: null, color: 'green' }];
  if (threshold !== undefined) {
    steps.push({ value: threshold, color: 'red' });
  }
  return new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps(steps);
}

/** Options of a time-series panel. */
export interface TimeseriesOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Drawn as a dashed red line: the alert threshold the panel watches. */
  readonly threshold?: number;
  readonly stacked?: boolean;
  readonly span?: number;
  readonly min?: number;
}

/** A time-series panel over range queries. */
export function timeseriesPanel(o: TimeseriesOptions): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 12)
    .height(8)
    .fillOpacity(o.stacked ? 40 : 10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom),
    )
    .thresholds(thresholdSteps(o.threshold))
    .thresholdsStyle(
      new common.GraphThresholdsStyleConfigBuilder().mode(
        o.threshold === undefined
          ? common.GraphThresholdsStyleMode.Off
          : common.GraphThresholdsStyleMode.Dashed,
      ),
    );
  if (o.min !== undefined) {
    panel.min(o.min);
  }
  if (o.stacked) {
    panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  }
  targets(o.queries, false).forEach((t) => panel.withTarget(t));
  return panel;
}

/** Options of a single-value panel. */
export interface StatOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly threshold?: number;
  readonly span?: number;
}

/** A stat panel (last value of range queries, with a sparkline). */
export function statPanel(o: StatOptions): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 6)
    .height(4)
    .colorMode(common.BigValueColorMode.Value)
    .graphMode(common.BigValueGraphMode.Area)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .thresholds(thresholdSteps(o.threshold));
  targets(o.queries, false).forEach((t) => panel.withTarget(t));
  return panel;
}

/** Options of a table panel. */
export interface TableOptions {
  readonly title: string;
  readonly description: string;
  readonly queries: readonly Query[];
  /** Columns to hide (e.g. `Time`, `Value`). */
  readonly hiddenColumns: readonly string[];
  readonly span?: number;
}

/** A table over instant queries: one row per series, its labels as columns. */
export function tablePanel(o: TableOptions): table.PanelBuilder {
  const panel = new table.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .span(o.span ?? 24)
    .height(6)
    .withTransformation({
      id: 'organize',
      options: { excludeByName: Object.fromEntries(o.hiddenColumns.map((c) => [c, true])) },
    });
  targets(o.queries, true).forEach((t) => panel.withTarget(t));
  return panel;
}

/** Options of a pie chart. */
export interface PieOptions {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  readonly span?: number;
}

/** A pie chart over instant queries (one slice per series). */
export function piePanel(o: PieOptions): piechart.PanelBuilder {
  const panel = new piechart.PanelBuilder()
    .title(o.title)
    .description(o.description)
    .datasource(PROMETHEUS_DATASOURCE)
    .unit(o.unit)
    .span(o.span ?? 12)
    .height(8)
    .pieType(piechart.PieChartType.Donut)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
    .legend(
      new piechart.PieChartLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .values([piechart.PieChartLegendValues.Percent]),
    );
  targets(o.queries, true).forEach((t) => {
    // Instant vector as time series: one slice per series, named by the legend.
    t.format(prometheus.PromQueryFormat.TimeSeries);
    panel.withTarget(t);
  });
  return panel;
}
