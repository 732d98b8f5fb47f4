import {
  MONITORING_FILES,
  renderMonitoringFiles,
  resolveMonitoringSettings,
} from '../../../deployments/monitoring/files';

describe('renderMonitoringFiles', () => {
  test('renders every monitoring file under its relative path', () => {
    const files = renderMonitoringFiles(resolveMonitoringSettings());
    expect(files.map((f) => f.path)).toEqual([
      'prometheus/prometheus.yml',
      'prometheus/alerts.yml',
      'alertmanager/alertmanager.yml',
      'grafana/provisioning/datasources/datasources.yml',
      'grafana/provisioning/dashboards/dashboards.yml',
      'grafana/dashboards/gateway.json',
      'grafana/dashboards/api-model.json',
      'gateway-metrics/gateway.mtail',
    ]);
    expect(files.every((f) => f.content.length > 100)).toBe(true);
  });

  test('the default rule file sits beside prometheus.yml, where the config looks for it', () => {
    const settings = resolveMonitoringSettings();
    expect(settings.prometheus.ruleFiles).toEqual([MONITORING_FILES.alertRules.split('/').pop()]);
  });

  test('Grafana follows the Prometheus scrape interval and the alert thresholds', () => {
    const s = resolveMonitoringSettings({
      prometheus: { scrapeInterval: '2s', scrapeTimeout: '1s' },
      alerts: { gateway5xxRatio: { threshold: 0.2 } },
    });
    expect(s.grafana.scrapeInterval).toBe('2s');
    expect(s.grafana.alerts.gateway5xxRatio.threshold).toBe(0.2);
  });

  test('the same settings render byte-identical files (no clock, no randomness)', () => {
    expect(renderMonitoringFiles(resolveMonitoringSettings())).toEqual(
      renderMonitoringFiles(resolveMonitoringSettings()),
    );
  });
});
