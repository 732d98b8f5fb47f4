import { posix } from 'node:path';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { mtailArgs } from '../deployments/gateway-metrics/program';
import {
  MONITORING_FILES,
  renderMonitoringFiles,
  resolveMonitoringSettings,
  type MonitoringSettings,
  type RenderedFile,
} from '../deployments/monitoring/files';
import { PORTS, SERVICE } from '../deployments/names';
import type { AlertReceiverOptions } from '../deployments/alertmanager/settings';
import type { ApiTarget } from '../deployments/prometheus/settings';
import {
  hardening,
  logging,
  memoryLimit,
  MEMORY_LIMIT_MB,
  pinnedImage,
  publicHost,
  STOP_GRACE_SECONDS,
} from './docker-common';

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs {
  /** Pinned images. */
  images: { prometheus: string; alertmanager: string; gatewayMetrics: string };
  /** Grafana's pinned image and `admin` password (secret; uploaded as a file, never an environment variable). Default none: no Grafana. */
  grafana?: { image: string; adminPassword: pulumi.Input<string> };
  /** Internal backend network (scrape targets live here). */
  backendNetwork: pulumi.Input<string>;
  /** Edge network (published UIs, Alertmanager egress). */
  edgeNetwork: pulumi.Input<string>;
  /** Every API replica Prometheus scrapes, with its `replica` and `version` labels. */
  apiTargets: readonly ApiTarget[];
  /** Host address the UIs bind to. */
  bindAddress: string;
  /** Host ports of the UIs. */
  ports: { prometheus: number; grafana: number; alertmanager: number };
  /** `stack` label on every alert, so alerts from two stacks can be told apart. */
  stackLabel: string;
  /** Alertmanager receivers (default none: alerts stay visible in its UI and API). */
  alertReceivers?: readonly AlertReceiverOptions[];
  /** Receivers' credential files (secret): name -> content, uploaded under `alertSecretsDir`. */
  alertSecretFiles?: pulumi.Input<Record<string, string>>;
  /** Directory of `alertSecretFiles` in the Alertmanager container. */
  alertSecretsDir?: string;
}

/** Where the rendered files live in the containers: `/etc/<relative path>`, the images' own layout. */
const CONFIG_ROOT = '/etc';
const containerPath = (relative: string) => `${CONFIG_ROOT}/${relative}`;
/** Grafana reads its admin password from this file (`GF_SECURITY_ADMIN_PASSWORD__FILE`). */
export const GRAFANA_PASSWORD_FILE = '/etc/grafana/secrets/admin-password';
/** uid the Grafana image runs as. */
const GRAFANA_UID = '472';
/** uid of `nobody`, which the Prometheus and Alertmanager images run as. */
const NOBODY_UID = '65534';

/** Backend address of the nginx exporter; the Gateway gives its exporter this alias. */
export const NGINX_EXPORTER_ADDRESS = `${SERVICE.nginxExporter}:${PORTS.nginxExporter}`;

/** Monitoring settings of the Docker deployment: container aliases as targets, config under /etc. */
export function dockerMonitoringSettings(
  args: Pick<MonitoringArgs, 'apiTargets' | 'stackLabel' | 'alertReceivers'>,
): MonitoringSettings {
  return resolveMonitoringSettings({
    prometheus: {
      targets: {
        api: args.apiTargets,
        nginxExporter: NGINX_EXPORTER_ADDRESS,
        gatewayMetrics: `${SERVICE.gatewayMetrics}:${PORTS.gatewayMetrics}`,
        prometheus: `localhost:${PORTS.prometheus}`,
        alertmanager: `${SERVICE.alertmanager}:${PORTS.alertmanager}`,
      },
      externalLabels: { stack: args.stackLabel },
    },
    grafana: {
      prometheusUrl: `http://${SERVICE.prometheus}:${PORTS.prometheus}`,
      alertmanagerUrl: `http://${SERVICE.alertmanager}:${PORTS.alertmanager}`,
      // Outside /var/lib/grafana: that is the data volume, and the dashboards are config, not data.
      dashboardsPath: containerPath(MONITORING_FILES.grafanaDashboardsDir),
    },
    alertmanager: { receivers: args.alertReceivers ?? [] },
  });
}

/** Uploads of the rendered files whose relative path starts with `dir/`, at `/etc/<path>`, read-only. */
function uploadsUnder(files: readonly RenderedFile[], dir: string): docker.types.input.ContainerUpload[] {
  return files
    .filter((f) => f.path.startsWith(`${dir}/`))
    .map((f) => ({ file: containerPath(f.path), content: f.content, permissions: '0444' }));
}

/** Rejects a rendered file no container would receive: a renderer added a file this component doesn't know. */
function assertAllPlaced(files: readonly RenderedFile[], dirs: readonly string[]): void {
  const stray = files.filter((f) => !dirs.some((dir) => f.path.startsWith(`${dir}/`)));
  if (stray.length > 0) {
    throw new Error(`rendered monitoring files with no container: ${stray.map((f) => f.path).join(', ')}`);
  }
}

/** Alertmanager's rendered config plus the receivers' credential files (secret, readable by nobody only). */
function alertmanagerUploads(
  files: readonly RenderedFile[],
  dir: string,
  args: Pick<MonitoringArgs, 'alertSecretFiles' | 'alertSecretsDir'>,
): pulumi.Input<docker.types.input.ContainerUpload[]> {
  const rendered = uploadsUnder(files, dir);
  if (args.alertSecretFiles === undefined) return rendered;
  const secretsDir = args.alertSecretsDir ?? containerPath(`${dir}/secrets`);
  return pulumi.secret(args.alertSecretFiles).apply((secretFiles) => [
    ...rendered,
    ...Object.keys(secretFiles)
      .sort()
      .map((name) => ({
        file: `${secretsDir}/${name}`,
        content: secretFiles[name]!,
        owner: NOBODY_UID,
        permissions: '0400',
      })),
  ]);
}

const readiness = (port: number, path: string) => ({
  tests: ['CMD', 'wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${port}${path}`],
  interval: '15s',
  timeout: '5s',
  retries: 3,
  startPeriod: '20s',
});

/**
 * Prometheus (rendered config + alert rules, data volume), Alertmanager (rendered config, data
 * volume), Grafana when given (provisioned datasources and dashboards, admin password from a secret
 * file, data volume) and the gateway-metrics sidecar (mtail, tailing the log file nginx writes on a volume
 * both mount). The three UIs publish on the bind address only; mtail publishes nothing.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** Prometheus UI. */
  readonly prometheusUrl: string;
  /** Grafana UI, when Grafana runs. */
  readonly grafanaUrl: string | undefined;
  /** Alertmanager UI. */
  readonly alertmanagerUrl: string;
  /** Every rendered file, as uploaded (path relative to `/etc`). */
  readonly files: readonly RenderedFile[];
  /** The file mtail tails and the volume holding its directory: the gateway's `metricsLog`. */
  readonly gatewayMetricsLog: { path: string; volumeName: pulumi.Output<string> };

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:monitoring:Monitoring', name, {}, opts);
    const host = publicHost(args.bindAddress);
    this.prometheusUrl = `http://${host}:${args.ports.prometheus}`;
    this.grafanaUrl = args.grafana ? `http://${host}:${args.ports.grafana}` : undefined;
    this.alertmanagerUrl = `http://${host}:${args.ports.alertmanager}`;

    const settings = dockerMonitoringSettings(args);
    const dirs = {
      prometheus: MONITORING_FILES.prometheusConfig.split('/')[0]!,
      alertmanager: MONITORING_FILES.alertmanagerConfig.split('/')[0]!,
      grafana: MONITORING_FILES.grafanaDatasources.split('/')[0]!,
      gatewayMetrics: MONITORING_FILES.mtailProgram.split('/')[0]!,
    };
    const rendered = renderMonitoringFiles(settings);
    assertAllPlaced(rendered, Object.values(dirs));
    // Without Grafana its provisioning files have no reader: they are not uploaded anywhere.
    this.files = args.grafana ? rendered : rendered.filter((f) => !f.path.startsWith(`${dirs.grafana}/`));

    // Fixed names and host ports: the old container must go before its replacement starts.
    const replaceFirst = { parent: this, deleteBeforeReplace: true };
    const volume = (service: string) =>
      new docker.Volume(`${name}-${service}-data`, { name: `${name}-${service}-data` }, replaceFirst);
    const edge = (alias: string) => ({ name: args.edgeNetwork, aliases: [alias] });
    const backend = (alias: string) => ({ name: args.backendNetwork, aliases: [alias] });
    const ui = (internal: number, external: number) => [{ internal, external, ip: args.bindAddress }];

    const prometheusData = volume(SERVICE.prometheus);
    new docker.Container(
      `${name}-${SERVICE.prometheus}`,
      {
        name: `${name}-${SERVICE.prometheus}`,
        image: pinnedImage(`${name}-${SERVICE.prometheus}-image`, args.images.prometheus, this).imageId,
        command: [
          `--config.file=${containerPath(MONITORING_FILES.prometheusConfig)}`,
          '--storage.tsdb.path=/prometheus',
          '--storage.tsdb.retention.time=15d',
          `--web.listen-address=:${PORTS.prometheus}`,
        ],
        uploads: uploadsUnder(this.files, dirs.prometheus),
        volumes: [{ volumeName: prometheusData.name, containerPath: '/prometheus' }],
        ports: ui(PORTS.prometheus, args.ports.prometheus),
        networksAdvanced: [edge(SERVICE.prometheus), backend(SERVICE.prometheus)],
        healthcheck: readiness(PORTS.prometheus, '/-/ready'),
        restart: 'unless-stopped',
        destroyGraceSeconds: STOP_GRACE_SECONDS.prometheus,
        ...memoryLimit(MEMORY_LIMIT_MB.prometheus),
        ...hardening,
        ...logging,
      },
      replaceFirst,
    );

    const alertmanagerData = volume(SERVICE.alertmanager);
    new docker.Container(
      `${name}-${SERVICE.alertmanager}`,
      {
        name: `${name}-${SERVICE.alertmanager}`,
        image: pinnedImage(`${name}-${SERVICE.alertmanager}-image`, args.images.alertmanager, this).imageId,
        command: [
          `--config.file=${containerPath(MONITORING_FILES.alertmanagerConfig)}`,
          '--storage.path=/alertmanager',
          `--web.listen-address=:${PORTS.alertmanager}`,
          // A single instance: no gossip port to open.
          '--cluster.listen-address=',
        ],
        uploads: alertmanagerUploads(this.files, dirs.alertmanager, args),
        volumes: [{ volumeName: alertmanagerData.name, containerPath: '/alertmanager' }],
        ports: ui(PORTS.alertmanager, args.ports.alertmanager),
        networksAdvanced: [edge(SERVICE.alertmanager)],
        healthcheck: readiness(PORTS.alertmanager, '/-/ready'),
        restart: 'unless-stopped',
        destroyGraceSeconds: STOP_GRACE_SECONDS.alertmanager,
        ...memoryLimit(MEMORY_LIMIT_MB.alertmanager),
        ...hardening,
        ...logging,
      },
      replaceFirst,
    );

    if (args.grafana) {
      const grafanaData = volume(SERVICE.grafana);
      new docker.Container(
        `${name}-${SERVICE.grafana}`,
        {
          name: `${name}-${SERVICE.grafana}`,
          image: pinnedImage(`${name}-${SERVICE.grafana}-image`, args.grafana.image, this).imageId,
          envs: [
            'GF_SECURITY_ADMIN_USER=admin',
            // The image's entrypoint reads *__FILE variables: the password never sits in the environment.
            `GF_SECURITY_ADMIN_PASSWORD__FILE=${GRAFANA_PASSWORD_FILE}`,
            'GF_USERS_ALLOW_SIGN_UP=false',
            'GF_AUTH_ANONYMOUS_ENABLED=false',
            'GF_ANALYTICS_REPORTING_ENABLED=false',
            'GF_ANALYTICS_CHECK_FOR_UPDATES=false',
            'GF_SECURITY_DISABLE_GRAVATAR=true',
          ],
          uploads: [
            ...uploadsUnder(this.files, dirs.grafana),
            {
              file: GRAFANA_PASSWORD_FILE,
              content: pulumi.secret(args.grafana.adminPassword),
              owner: GRAFANA_UID,
              permissions: '0400',
            },
          ],
          volumes: [{ volumeName: grafanaData.name, containerPath: '/var/lib/grafana' }],
          ports: ui(PORTS.grafana, args.ports.grafana),
          networksAdvanced: [edge(SERVICE.grafana)],
          healthcheck: readiness(PORTS.grafana, '/api/health'),
          restart: 'unless-stopped',
          destroyGraceSeconds: STOP_GRACE_SECONDS.grafana,
          ...memoryLimit(MEMORY_LIMIT_MB.grafana),
          ...hardening,
          ...logging,
        },
        replaceFirst,
      );
    }

    // nginx writes the file (the Gateway mounts this volume read-write at the same directory).
    // Nothing rotates it: ~43 bytes plus the request URI per request, ~5 MB per 100,000. The remedy
    // is emptying it in place (README, Deploy): nginx appends with O_APPEND and mtail follows
    // truncation, so neither restarts and the counters carry on.
    const metricsLogVolume = new docker.Volume(
      `${name}-${SERVICE.gatewayMetrics}-log`,
      { name: `${name}-${SERVICE.gatewayMetrics}-log` },
      replaceFirst,
    );
    // The default path is the Docker layout's: the same in the nginx and mtail containers.
    const logPath = settings.gatewayMetrics.logPath;
    this.gatewayMetricsLog = { path: logPath, volumeName: metricsLogVolume.name };
    const mtailProgram = containerPath(MONITORING_FILES.mtailProgram);
    new docker.Container(
      `${name}-${SERVICE.gatewayMetrics}`,
      {
        name: `${name}-${SERVICE.gatewayMetrics}`,
        image: pinnedImage(`${name}-${SERVICE.gatewayMetrics}-image`, args.images.gatewayMetrics, this)
          .imageId,
        command: mtailArgs({
          progsDir: posix.dirname(mtailProgram),
          httpAddress: '0.0.0.0',
          httpPort: PORTS.gatewayMetrics,
          logPath,
        }),
        uploads: uploadsUnder(this.files, dirs.gatewayMetrics),
        // Read-only: mtail only reads the file (any uid can: nginx creates it 0644).
        volumes: [
          { volumeName: metricsLogVolume.name, containerPath: posix.dirname(logPath), readOnly: true },
        ],
        networksAdvanced: [backend(SERVICE.gatewayMetrics)],
        restart: 'unless-stopped',
        destroyGraceSeconds: STOP_GRACE_SECONDS.sidecar,
        ...memoryLimit(MEMORY_LIMIT_MB.gatewayMetrics),
        ...hardening,
        ...logging,
      },
      replaceFirst,
    );

    this.registerOutputs({
      prometheusUrl: this.prometheusUrl,
      grafanaUrl: this.grafanaUrl,
      alertmanagerUrl: this.alertmanagerUrl,
    });
  }
}
