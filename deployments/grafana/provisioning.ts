/** Grafana provisioning files: datasources and the dashboard provider. */
import { generatedBy, toYaml } from '../prometheus/yaml';
import { GRAFANA_UIDS, type GrafanaSettings } from './settings';

/** Renders provisioning/datasources/datasources.yml: Prometheus (default) and Alertmanager, fixed uids. */
export function renderGrafanaDatasources(settings: GrafanaSettings): string {
  const datasources: Record<string, unknown>[] = [
    {
      name: 'Prometheus',
      type: 'prometheus',
      uid: GRAFANA_UIDS.prometheusDatasource,
      access: 'proxy',
      url: settings.prometheusUrl,
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: settings.scrapeInterval, httpMethod: 'POST' },
    },
  ];
  if (settings.alertmanagerUrl !== null) {
    datasources.push({
      name: 'Alertmanager',
      type: 'alertmanager',
      uid: GRAFANA_UIDS.alertmanagerDatasource,
      access: 'proxy',
      url: settings.alertmanagerUrl,
      editable: false,
      jsonData: { implementation: 'prometheus', handleGrafanaManagedAlerts: false },
    });
  }
  return toYaml({ apiVersion: 1, datasources }, generatedBy('deployments/grafana/provisioning.ts'));
}

/** Renders provisioning/dashboards/dashboards.yml: a file provider over `dashboardsPath`, read-only. */
export function renderGrafanaDashboardProvider(settings: GrafanaSettings): string {
  return toYaml(
    {
      apiVersion: 1,
      providers: [
        {
          name: 'sentiment-gateway',
          orgId: 1,
          folder: settings.folder,
          type: 'file',
          // The JSON files are the source of truth: UI edits could never be saved back to them.
          disableDeletion: true,
          allowUiUpdates: false,
          updateIntervalSeconds: 30,
          options: { path: settings.dashboardsPath, foldersFromFilesStructure: false },
        },
      ],
    },
    generatedBy('deployments/grafana/provisioning.ts'),
  );
}
