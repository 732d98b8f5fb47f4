/** `renderPrometheusConfig`: prometheus.yml from resolved settings. */
import { API_ROUTES } from '../names';
import { JOBS, TARGET_LABELS } from './promql';
import type { PrometheusSettings } from './settings';
import { generatedBy, toYaml } from './yaml';

interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}

function job(name: string, staticConfigs: StaticConfig[], metricsPath = '/metrics'): Record<string, unknown> {
  return { job_name: name, metrics_path: metricsPath, static_configs: staticConfigs };
}

/**
 * Renders prometheus.yml: one job per service, each API replica labelled with `replica` and `version`,
 * alerts sent to Alertmanager, rules loaded from `ruleFiles`.
 */
export function renderPrometheusConfig(settings: PrometheusSettings): string {
  const { targets } = settings;
  const config = {
    global: {
      scrape_interval: settings.scrapeInterval,
      scrape_timeout: settings.scrapeTimeout,
      evaluation_interval: settings.evaluationInterval,
      ...(Object.keys(settings.externalLabels).length > 0
        ? { external_labels: { ...settings.externalLabels } }
        : {}),
    },
    alerting: {
      alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [targets.alertmanager] }] }],
    },
    rule_files: [...settings.ruleFiles],
    scrape_configs: [
      job(
        JOBS.api,
        // One static config per replica so each carries its own target labels.
        targets.api.map((t) => ({
          targets: [t.address],
          labels: { [TARGET_LABELS.replica]: t.replica, [TARGET_LABELS.version]: t.version },
        })),
        API_ROUTES.metrics,
      ),
      job(JOBS.nginxExporter, [{ targets: [targets.nginxExporter] }]),
      job(JOBS.gatewayMetrics, [{ targets: [targets.gatewayMetrics] }]),
      job(JOBS.prometheus, [{ targets: [targets.prometheus] }]),
      job(JOBS.alertmanager, [{ targets: [targets.alertmanager] }]),
    ],
  };
  return toYaml(config, generatedBy('deployments/prometheus/config.ts'));
}
