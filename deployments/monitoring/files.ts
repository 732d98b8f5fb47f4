/**
 * Every monitoring file, rendered from one settings object: what `npm run render` writes, what the
 * local stack runs, and what the Pulumi program uploads (by the same relative paths).
 */
import { renderAlertmanagerConfig } from '../alertmanager/render';
import {
  type AlertmanagerOptions,
  type AlertmanagerSettings,
  resolveAlertmanagerSettings,
} from '../alertmanager/settings';
import { renderMtailProgram } from '../gateway-metrics/program';
import {
  type GatewayMetricsOptions,
  type GatewayMetricsSettings,
  resolveGatewayMetricsSettings,
} from '../gateway-metrics/settings';
import { DASHBOARDS, renderDashboard } from '../grafana/dashboards';
import { renderGrafanaDashboardProvider, renderGrafanaDatasources } from '../grafana/provisioning';
import { type GrafanaOptions, type GrafanaSettings, resolveGrafanaSettings } from '../grafana/settings';
import { renderPrometheusConfig } from '../prometheus/config';
import { renderAlertRules } from '../prometheus/rules';
import {
  type AlertRuleOptions,
  type AlertRuleSettings,
  type PrometheusOptions,
  type PrometheusSettings,
  resolveAlertRuleSettings,
  resolvePrometheusSettings,
} from '../prometheus/settings';

/** Relative paths of the rendered files (rule file beside the config it is referenced from). */
export const MONITORING_FILES = {
  prometheusConfig: 'prometheus/prometheus.yml',
  alertRules: 'prometheus/alerts.yml',
  alertmanagerConfig: 'alertmanager/alertmanager.yml',
  grafanaDatasources: 'grafana/provisioning/datasources/datasources.yml',
  grafanaDashboardProvider: 'grafana/provisioning/dashboards/dashboards.yml',
  grafanaDashboardsDir: 'grafana/dashboards',
  mtailProgram: 'gateway-metrics/gateway.mtail',
} as const;

/** All monitoring settings, resolved. */
export interface MonitoringSettings {
  readonly prometheus: PrometheusSettings;
  readonly alerts: AlertRuleSettings;
  readonly alertmanager: AlertmanagerSettings;
  readonly grafana: GrafanaSettings;
  readonly gatewayMetrics: GatewayMetricsSettings;
}

/** Partial monitoring settings; each part is resolved by its own module. */
export interface MonitoringOptions {
  readonly prometheus?: PrometheusOptions;
  readonly alerts?: AlertRuleOptions;
  readonly alertmanager?: AlertmanagerOptions;
  /** Grafana's scrape interval and alert thresholds follow `prometheus` and `alerts` unless given. */
  readonly grafana?: Omit<GrafanaOptions, 'alerts'>;
  readonly gatewayMetrics?: GatewayMetricsOptions;
}

/** Resolves every part, keeping Grafana consistent with Prometheus and the alert rules. */
export function resolveMonitoringSettings(options: MonitoringOptions = {}): MonitoringSettings {
  const prometheus = resolvePrometheusSettings(options.prometheus);
  const alerts = resolveAlertRuleSettings(options.alerts);
  return {
    prometheus,
    alerts,
    alertmanager: resolveAlertmanagerSettings(options.alertmanager),
    grafana: resolveGrafanaSettings({
      ...options.grafana,
      scrapeInterval: options.grafana?.scrapeInterval ?? prometheus.scrapeInterval,
      alerts,
    }),
    gatewayMetrics: resolveGatewayMetricsSettings(options.gatewayMetrics),
  };
}

/** One rendered file: path relative to the output directory, and its text. */
export interface RenderedFile {
  readonly path: string;
  readonly content: string;
}

/** Renders every monitoring file. */
export function renderMonitoringFiles(settings: MonitoringSettings): RenderedFile[] {
  return [
    { path: MONITORING_FILES.prometheusConfig, content: renderPrometheusConfig(settings.prometheus) },
    { path: MONITORING_FILES.alertRules, content: renderAlertRules(settings.alerts) },
    { path: MONITORING_FILES.alertmanagerConfig, content: renderAlertmanagerConfig(settings.alertmanager) },
    { path: MONITORING_FILES.grafanaDatasources, content: renderGrafanaDatasources(settings.grafana) },
    {
      path: MONITORING_FILES.grafanaDashboardProvider,
      content: renderGrafanaDashboardProvider(settings.grafana),
    },
    ...DASHBOARDS.map((spec) => ({
      path: `${MONITORING_FILES.grafanaDashboardsDir}/${spec.file}`,
      content: renderDashboard(spec, settings.grafana),
    })),
    { path: MONITORING_FILES.mtailProgram, content: renderMtailProgram(settings.gatewayMetrics) },
  ];
}
