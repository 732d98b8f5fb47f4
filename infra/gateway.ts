import { posix } from 'node:path';
import * as docker from '@pulumi/docker';
import * as pulumi from '@pulumi/pulumi';
import { GATEWAY_PATHS, PORTS, SERVICE } from '../deployments/names';
import type { NginxSettingsInput } from '../deployments/nginx';
import { GatewayConfig } from './gateway-config';
import { GATEWAY_CONFIG_DIR, gatewayGeneration, LIVE_CONF } from './gateway-files';
import {
  hardening,
  logging,
  memoryLimit,
  MEMORY_LIMIT_MB,
  pinnedImage,
  publicHost,
  STOP_GRACE_SECONDS,
} from './docker-common';

/** Arguments of {@link Gateway}. */
export interface GatewayArgs {
  /** Pinned nginx image (an official `nginx:<version>-alpine`: the healthcheck uses busybox wget). */
  nginxImage: string;
  /** Pinned nginx-prometheus-exporter image. */
  exporterImage: string;
  /** Internal backend network: the API replicas, the exporter. */
  backendNetwork: pulumi.Input<string>;
  /** Edge network: where the published ports live. */
  edgeNetwork: pulumi.Input<string>;
  /** v1 replicas as `host:port` on the backend network (container names: they change on replacement). */
  v1Upstreams: readonly pulumi.Input<string>[];
  /** v2 replicas as `host:port` on the backend network. */
  v2Upstreams: readonly pulumi.Input<string>[];
  /** Host address the HTTPS and HTTP ports bind to. */
  bindAddress: string;
  /** Host port of HTTPS (also the redirect target). */
  httpsPort: number;
  /** Host port of HTTP (redirects only). */
  httpPort: number;
  /** Per-client-IP rate on `/predict`, requests per second. */
  rateLimitPerSecond: number;
  /** Requests above the rate served before 429s start. */
  rateLimitBurst: number;
  /** Share (0-100) of non-debug traffic sent to v2. */
  canaryPercent: number;
  /** Server certificate (PEM). */
  certificatePem: pulumi.Input<string>;
  /** Server private key (PEM, secret). */
  certificateKeyPem: pulumi.Input<string>;
  /** htpasswd file content (secret). */
  htpasswd: pulumi.Input<string>;
  /**
   * The file nginx appends one line per request to for the per-status gateway metrics (mtail tails
   * it), and the named volume mounted at its directory (shared with mtail). Default none.
   */
  metricsLog?: { path: string; volumeName: pulumi.Input<string> };
}

/** The nginx settings the gateway renders: the container layout plus the stack's upstreams and limits. */
export function gatewayNginxSettings(
  args: Pick<
    GatewayArgs,
    'httpsPort' | 'rateLimitPerSecond' | 'rateLimitBurst' | 'canaryPercent' | 'metricsLog'
  > & {
    v1Upstreams: readonly string[];
    v2Upstreams: readonly string[];
  },
): NginxSettingsInput {
  return {
    v1Upstreams: args.v1Upstreams,
    v2Upstreams: args.v2Upstreams,
    httpsListen: String(PORTS.gatewayHttps),
    httpListen: String(PORTS.gatewayHttp),
    statusListen: String(PORTS.gatewayStatus),
    // Behind the port mapping clients reach HTTPS on the host port, not the container's.
    publicHttpsPort: args.httpsPort,
    rateLimitPerSecond: args.rateLimitPerSecond,
    rateLimitBurst: args.rateLimitBurst,
    canaryPercent: args.canaryPercent,
    metricsLog: args.metricsLog ? { path: args.metricsLog.path } : null,
    // Not `auto`: in a container that is the host's CPU count, and memory grows with it (see
    // MEMORY_LIMIT_MB). Two workers carry well over the replicas' throughput (README Performance).
    workerProcesses: GATEWAY_WORKER_PROCESSES,
  };
}

/** nginx workers in the gateway container. */
export const GATEWAY_WORKER_PROCESSES = 2;

/** Capabilities the nginx master keeps, in the engine's spelling (it adds `CAP_` when absent). */
export const GATEWAY_CAPABILITIES = ['CAP_CHOWN', 'CAP_SETGID', 'CAP_SETUID'] as const;

/**
 * The nginx gateway and its exporter.
 *
 * nginx reads its config, certificate, key and htpasswd from a config volume that
 * {@link GatewayConfig} fills, one generation per rendering, and reloads on change: config changes
 * never replace the container. It publishes only HTTPS and HTTP on the bind address. The exporter
 * reads `stub_status` on the internal listener over the backend network.
 */
export class Gateway extends pulumi.ComponentResource {
  /** Public HTTPS URL. */
  readonly url: string;
  /** Public HTTP URL (redirects to {@link url}). */
  readonly httpUrl: string;
  /** The rendered nginx.conf (no secrets in it). */
  readonly nginxConf: pulumi.Output<string>;
  /** Id of the configuration generation nginx serves (changes with any setting, certificate or password). */
  readonly configGeneration: pulumi.Output<string>;
  /** The exporter as Prometheus scrapes it (`host:port` on the backend network). */
  readonly exporterAddress: string;
  /** Docker name of the nginx container. */
  readonly containerName: pulumi.Output<string>;

  constructor(name: string, args: GatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:gateway:Gateway', name, {}, opts);
    const host = publicHost(args.bindAddress);
    this.url = `https://${host}:${args.httpsPort}`;
    this.httpUrl = `http://${host}:${args.httpPort}`;
    this.exporterAddress = `${SERVICE.nginxExporter}:${PORTS.nginxExporter}`;

    const rendered = pulumi
      .all([
        pulumi.all([...args.v1Upstreams]),
        pulumi.all([...args.v2Upstreams]),
        args.certificatePem,
        args.certificateKeyPem,
        args.htpasswd,
      ])
      .apply(([v1Upstreams, v2Upstreams, certificatePem, certificateKeyPem, htpasswd]) =>
        gatewayGeneration(gatewayNginxSettings({ ...args, v1Upstreams, v2Upstreams }), {
          certificatePem,
          certificateKeyPem,
          htpasswd,
        }),
      );
    // Neither holds a secret: the config has none, the id is a hash prefix (see gatewayGeneration).
    this.nginxConf = pulumi.unsecret(rendered.nginxConf);
    this.configGeneration = pulumi.unsecret(rendered.generation);

    const nginxImage = pinnedImage(`${name}-nginx-image`, args.nginxImage, this);
    const configVolume = new docker.Volume(
      `${name}-config`,
      { name: `${name}-config` },
      { parent: this, deleteBeforeReplace: true },
    );
    const config = new GatewayConfig(
      `${name}-live-config`,
      {
        volume: configVolume.name,
        image: nginxImage.imageId,
        container: name,
        generation: this.configGeneration,
        files: rendered.files.apply((files) => [...files]),
      },
      { parent: this },
    );
    const nginx = new docker.Container(
      name,
      {
        name,
        image: nginxImage.imageId,
        envs: ['NGINX_ENTRYPOINT_QUIET_LOGS=1'],
        command: ['nginx', '-c', `${GATEWAY_CONFIG_DIR}/${LIVE_CONF}`, '-g', 'daemon off;'],
        // The config read-only. The metrics log read-write; a root-owned volume is fine: the master
        // (root, owner of a fresh volume) opens its logs before the workers drop to `nginx` and write
        // through the inherited descriptor.
        volumes: [
          { volumeName: configVolume.name, containerPath: GATEWAY_CONFIG_DIR, readOnly: true },
          ...(args.metricsLog
            ? [{ volumeName: args.metricsLog.volumeName, containerPath: posix.dirname(args.metricsLog.path) }]
            : []),
        ],
        ports: [
          { internal: PORTS.gatewayHttps, external: args.httpsPort, ip: args.bindAddress },
          { internal: PORTS.gatewayHttp, external: args.httpPort, ip: args.bindAddress },
        ],
        // Edge first: Docker takes the default route (and port publishing) from a non-internal network.
        networksAdvanced: [
          { name: args.edgeNetwork, aliases: [SERVICE.gateway] },
          { name: args.backendNetwork, aliases: [SERVICE.gateway] },
        ],
        healthcheck: {
          tests: [
            'CMD',
            'wget',
            '-q',
            '-O',
            '/dev/null',
            `http://127.0.0.1:${PORTS.gatewayStatus}${GATEWAY_PATHS.stubStatus}`,
          ],
          interval: '10s',
          timeout: '3s',
          retries: 3,
          startPeriod: '5s',
        },
        wait: true,
        restart: 'unless-stopped',
        // nginx's graceful stop (the official image's STOPSIGNAL too): finish in-flight requests.
        stopSignal: 'SIGQUIT',
        destroyGraceSeconds: STOP_GRACE_SECONDS.gateway,
        ...memoryLimit(MEMORY_LIMIT_MB.gateway),
        // The master needs CHOWN (temp dirs) and SETUID/SETGID (workers run as nginx); nothing else.
        // Spelled as the engine stores them (CAP_...): `CHOWN` read back as `CAP_CHOWN` after a refresh
        // and planned a replacement of the gateway on every later up.
        capabilities: { drops: ['ALL'], adds: [...GATEWAY_CAPABILITIES] },
        securityOpts: hardening.securityOpts,
        ...logging,
      },
      // Fixed name and host ports: the old container must go before its replacement starts. The
      // config generation must be in the volume before nginx first starts.
      { parent: this, deleteBeforeReplace: true, dependsOn: [config] },
    );

    const exporterImage = pinnedImage(`${name}-exporter-image`, args.exporterImage, this);
    new docker.Container(
      `${name}-exporter`,
      {
        name: `${name}-exporter`,
        image: exporterImage.imageId,
        command: [
          `--nginx.scrape-uri=http://${SERVICE.gateway}:${PORTS.gatewayStatus}${GATEWAY_PATHS.stubStatus}`,
          `--web.listen-address=:${PORTS.nginxExporter}`,
        ],
        networksAdvanced: [{ name: args.backendNetwork, aliases: [SERVICE.nginxExporter] }],
        restart: 'unless-stopped',
        destroyGraceSeconds: STOP_GRACE_SECONDS.sidecar,
        ...memoryLimit(MEMORY_LIMIT_MB.nginxExporter),
        readOnly: true,
        ...hardening,
        ...logging,
      },
      { parent: this, deleteBeforeReplace: true, dependsOn: [nginx] },
    );

    this.containerName = nginx.name;
    this.registerOutputs({
      url: this.url,
      httpUrl: this.httpUrl,
      exporterAddress: this.exporterAddress,
      containerName: this.containerName,
      configGeneration: this.configGeneration,
    });
  }
}
