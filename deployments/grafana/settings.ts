/** Typed settings for Grafana provisioning and dashboards: fixed uids, defaults, resolution. */
import { PORTS, SERVICE } from '../names';
import {
  type AlertRuleOptions,
  type AlertRuleSettings,
  DEFAULT_ALERT_RULE_SETTINGS,
  resolveAlertRuleSettings,
} from '../prometheus/settings';
import { assertAbsolutePath, assertDuration, assertHttpUrl, assertText } from '../prometheus/validate';

/**
 * Fixed uids: provisioned panels reference the datasource by uid, so it must not be generated, and
 * fixed dashboard uids keep links and bookmarks stable across re-provisioning.
 */
export const GRAFANA_UIDS = {
  prometheusDatasource: 'sg-prometheus',
  alertmanagerDatasource: 'sg-alertmanager',
  gatewayDashboard: 'sg-gateway',
  apiDashboard: 'sg-api-model',
} as const;

/** Resolved settings of the Grafana renderers. */
export interface GrafanaSettings {
  /** Prometheus as Grafana's server reaches it. Default `http://prometheus:9090`. */
  readonly prometheusUrl: string;
  /** Alertmanager as Grafana's server reaches it, or null for no Alertmanager datasource. */
  readonly alertmanagerUrl: string | null;
  /** Prometheus' scrape interval: Grafana's `$__rate_interval` is at least 4 of these. Default `15s`. */
  readonly scrapeInterval: string;
  /** Directory (in the Grafana container) holding the dashboard JSON files. */
  readonly dashboardsPath: string;
  /** Grafana folder of the dashboards. Default `sentiment-gateway`. */
  readonly folder: string;
  /** Alert thresholds drawn on the matching panels. */
  readonly alerts: AlertRuleSettings;
}

/** Partial settings accepted by `resolveGrafanaSettings`. */
export type GrafanaOptions = Partial<Omit<GrafanaSettings, 'alerts'>> & {
  readonly alerts?: AlertRuleOptions;
};

/** Defaults (Docker deployment). Never mutated. */
export const DEFAULT_GRAFANA_SETTINGS: GrafanaSettings = Object.freeze({
  prometheusUrl: `http://${SERVICE.prometheus}:${PORTS.prometheus}`,
  alertmanagerUrl: `http://${SERVICE.alertmanager}:${PORTS.alertmanager}`,
  scrapeInterval: '15s',
  dashboardsPath: '/var/lib/grafana/dashboards',
  folder: 'sentiment-gateway',
  alerts: DEFAULT_ALERT_RULE_SETTINGS,
});

/** Applies the defaults to `options` and validates; returns a new object. */
export function resolveGrafanaSettings(options: GrafanaOptions = {}): GrafanaSettings {
  const d = DEFAULT_GRAFANA_SETTINGS;
  const alertmanagerUrl = options.alertmanagerUrl === undefined ? d.alertmanagerUrl : options.alertmanagerUrl;
  return {
    prometheusUrl: assertHttpUrl(options.prometheusUrl ?? d.prometheusUrl, 'prometheusUrl'),
    alertmanagerUrl: alertmanagerUrl === null ? null : assertHttpUrl(alertmanagerUrl, 'alertmanagerUrl'),
    scrapeInterval: assertDuration(options.scrapeInterval ?? d.scrapeInterval, 'scrapeInterval'),
    dashboardsPath: assertAbsolutePath(options.dashboardsPath ?? d.dashboardsPath, 'dashboardsPath'),
    folder: assertText(options.folder ?? d.folder, 'folder'),
    alerts: resolveAlertRuleSettings(options.alerts),
  };
}
