/**
 * Monitoring in the local stack: mtail (gateway per-status metrics), Debian's nginx exporter,
 * Alertmanager and Prometheus, run with the rendered configs on free loopback ports, their data
 * under `<stack dir>/monitoring/`. Grafana has no Debian package: it runs in the Docker deployment
 * only, and its dashboards are checked here by running every panel query against this Prometheus.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { mtailArgs } from '../gateway-metrics/program';
import { STACK_LAYOUT, type StackComponent, type StackContext } from '../local/stack';
import type { ServiceSpec } from '../local/supervisor';
import type { NginxSettingsInput } from '../nginx/settings';
import type { AlertmanagerOptions } from '../alertmanager/settings';
import { apiTargets } from '../prometheus/settings';
import type { AlertRuleOptions } from '../prometheus/settings';
import {
  MONITORING_FILES,
  type MonitoringSettings,
  renderMonitoringFiles,
  resolveMonitoringSettings,
} from './files';

/** The Debian binaries the local monitoring runs (package names in `apt-get install`). */
export const MONITORING_BINARIES = {
  mtail: 'mtail',
  nginxExporter: 'prometheus-nginx-exporter',
  alertmanager: 'prometheus-alertmanager',
  prometheus: 'prometheus',
} as const;
type Binary = keyof typeof MONITORING_BINARIES;

/** Options of `localMonitoring`. */
export interface LocalMonitoringOptions {
  /** The stack directory (`startLocalStack`'s `dir`): nginx's metrics log goes to its logs/. */
  readonly dir: string;
  /** Address everything binds to. Default 127.0.0.1 (must match the stack's host). */
  readonly host?: string;
  /** Prometheus scrape and rule evaluation interval. Default `5s`. */
  readonly scrapeInterval?: string;
  /** Alert thresholds and durations (tests shorten the `for` durations). */
  readonly alerts?: AlertRuleOptions;
  /** Alertmanager receivers and grouping. Default: no receiver. */
  readonly alertmanager?: AlertmanagerOptions;
  /** Binary overrides; by default each is looked up on PATH (then /usr/sbin, /usr/bin). */
  readonly binaries?: Partial<Record<Binary, string>>;
}

/** What `startLocalStack` needs: nginx overrides (the metrics log target) and the component. */
export interface LocalMonitoring {
  /** Merge into the stack's `nginx` settings: the metrics log nginx writes and mtail tails. */
  readonly nginx: NginxSettingsInput;
  /** Pass in the stack's `components`. */
  readonly component: StackComponent;
  /** Settings the component renders with, once planned (for tests and people). */
  settings(): MonitoringSettings | undefined;
}

/** Name of the component in `.stack/dev.json` and the summary. */
export const MONITORING_COMPONENT = 'monitoring';

const FALLBACK_DIRS = ['/usr/sbin', '/usr/bin', '/usr/local/bin'];

function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...FALLBACK_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Prepares the local monitoring: finds the binaries and picks the metrics log path. When a binary
 * is missing the component skips itself (saying what to install) and nginx gets no metrics log.
 *
 * @example
 * const monitoring = await localMonitoring({ dir });
 * const stack = await startLocalStack({ dir, nginx: { ...monitoring.nginx }, components: [monitoring.component] });
 */
export async function localMonitoring(options: LocalMonitoringOptions): Promise<LocalMonitoring> {
  const host = options.host ?? '127.0.0.1';
  const binaries = Object.fromEntries(
    (Object.keys(MONITORING_BINARIES) as Binary[]).map((b) => [
      b,
      options.binaries?.[b] ?? findBinary(MONITORING_BINARIES[b]),
    ]),
  ) as Record<Binary, string | undefined>;
  const missing = (Object.keys(binaries) as Binary[]).filter((b) => binaries[b] === undefined);
  if (missing.length > 0) {
    const packages = missing.map((b) => MONITORING_BINARIES[b]).join(' ');
    return {
      nginx: {},
      component: {
        name: MONITORING_COMPONENT,
        plan: async () => ({ skipped: `not installed: ${packages} (sudo apt-get install ${packages})` }),
      },
      settings: () => undefined,
    };
  }
  const bin = binaries as Record<Binary, string>;
  const logPath = path.join(path.resolve(options.dir), STACK_LAYOUT.logs, 'gateway-metrics.log');
  const scrapeInterval = options.scrapeInterval ?? '5s';
  let resolved: MonitoringSettings | undefined;

  const plan = async (context: StackContext) => {
    const [exporterPort, mtailPort, prometheusPort, alertmanagerPort] = [
      await context.freePort(),
      await context.freePort(),
      await context.freePort(),
      await context.freePort(),
    ];
    const address = (port: number | undefined) => `${host}:${port}`;
    const settings = resolveMonitoringSettings({
      prometheus: {
        scrapeInterval,
        scrapeTimeout: scrapeInterval,
        evaluationInterval: scrapeInterval,
        externalLabels: { stack: 'sentiment-gateway-local' },
        targets: {
          api: apiTargets({
            v1: context.replicas.filter((r) => r.variant === 'v1').map((r) => `${r.host}:${r.port}`),
            v2: context.replicas.filter((r) => r.variant === 'v2').map((r) => `${r.host}:${r.port}`),
          }),
          nginxExporter: address(exporterPort),
          gatewayMetrics: address(mtailPort),
          prometheus: address(prometheusPort),
          alertmanager: address(alertmanagerPort),
        },
      },
      alerts: options.alerts,
      alertmanager: options.alertmanager,
      grafana: {
        prometheusUrl: `http://${address(prometheusPort)}`,
        alertmanagerUrl: `http://${address(alertmanagerPort)}`,
      },
      gatewayMetrics: { logPath },
    });
    resolved = settings;
    const root = 'monitoring';
    const files: Record<string, string> = {};
    for (const file of renderMonitoringFiles(settings)) {
      files[file.path] = await context.writeFile(path.join(root, 'config', file.path), file.content);
    }
    const dataDir = (name: string) => path.join(context.dir, root, 'data', name);
    const prometheusUrl = `http://${address(prometheusPort)}`;
    const alertmanagerUrl = `http://${address(alertmanagerPort)}`;
    const services: ServiceSpec[] = [
      {
        name: 'mtail',
        command: bin.mtail,
        args: mtailArgs({
          progsDir: path.dirname(files[MONITORING_FILES.mtailProgram]!),
          httpAddress: host,
          httpPort: mtailPort!,
          logPath,
        }),
        ready: () => answers200(`http://${address(mtailPort)}/metrics`),
      },
      {
        name: 'nginx-exporter',
        command: bin.nginxExporter,
        args: [
          `-nginx.scrape-uri=${context.gateway.statusUrl}`,
          `-web.listen-address=${address(exporterPort)}`,
        ],
        ready: () => answers200(`http://${address(exporterPort)}/metrics`),
      },
      {
        name: 'alertmanager',
        command: bin.alertmanager,
        args: [
          `--config.file=${files[MONITORING_FILES.alertmanagerConfig]}`,
          `--storage.path=${dataDir('alertmanager')}`,
          `--web.listen-address=${address(alertmanagerPort)}`,
          // A single instance: no gossip port to allocate or expose.
          '--cluster.listen-address=',
        ],
        ready: () => answers200(`${alertmanagerUrl}/-/ready`),
      },
      {
        name: 'prometheus',
        command: bin.prometheus,
        args: [
          `--config.file=${files[MONITORING_FILES.prometheusConfig]}`,
          `--storage.tsdb.path=${dataDir('prometheus')}`,
          '--storage.tsdb.retention.time=2d',
          `--web.listen-address=${address(prometheusPort)}`,
        ],
        ready: () => answers200(`${prometheusUrl}/-/ready`),
      },
    ];
    return {
      services,
      urls: {
        prometheus: prometheusUrl,
        alertmanager: alertmanagerUrl,
        'gateway-metrics': `http://${address(mtailPort)}/metrics`,
        'nginx-exporter': `http://${address(exporterPort)}/metrics`,
      },
    };
  };

  return {
    nginx: { metricsLog: { path: logPath } },
    component: { name: MONITORING_COMPONENT, plan },
    settings: () => resolved,
  };
}
