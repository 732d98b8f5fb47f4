/** The Pulumi program: stack settings -> components -> outputs. No resource arguments live here. */
import * as pulumi from '@pulumi/pulumi';
import { ApiFleet, ApiImage } from './infra/api-fleet';
import { Credentials } from './infra/credentials';
import { Gateway } from './infra/gateway';
import { Monitoring } from './infra/monitoring';
import { Network } from './infra/network';
import { ALERT_SECRETS_DIR, loadSettings } from './infra/settings';
import { TlsMaterial } from './infra/tls';

const settings = loadSettings(new pulumi.Config(), pulumi.getStack());
const name = settings.namePrefix;

const network = new Network(name);
const tls = new TlsMaterial(`${name}-tls`, {
  dnsNames: settings.serverNames,
  ipAddresses: [settings.bindAddress].filter((ip) => ip !== '0.0.0.0'),
});
const credentials = new Credentials(`${name}-credentials`, {
  apiUser: settings.apiUser,
  apiPassword: settings.apiPassword,
  grafana: settings.grafana,
});

const image = new ApiImage(`${name}-api`, { prebuilt: settings.apiImage });
const fleet = (variant: 'v1' | 'v2', replicas: number) =>
  new ApiFleet(`${name}-api-${variant}`, {
    variant,
    replicas,
    image: image.imageId,
    network: network.backendName,
    memoryMb: settings.apiMemoryMb,
  });
const apiV1 = fleet('v1', settings.replicas);
const apiV2 = fleet('v2', 1);

const monitoring = new Monitoring(`${name}-monitoring`, {
  images: settings.images,
  backendNetwork: network.backendName,
  edgeNetwork: network.edgeName,
  apiTargets: [apiV1, apiV2].flatMap((f) => f.targets),
  bindAddress: settings.bindAddress,
  ports: settings.hostPorts,
  grafana: credentials.grafanaPassword && {
    image: settings.images.grafana,
    adminPassword: credentials.grafanaPassword,
  },
  stackLabel: name,
  alertReceivers: settings.alertReceivers,
  alertSecretFiles: settings.alertSecretFiles,
  alertSecretsDir: ALERT_SECRETS_DIR,
});

const gateway = new Gateway(`${name}-gateway`, {
  nginxImage: settings.images.nginx,
  exporterImage: settings.images.nginxExporter,
  backendNetwork: network.backendName,
  edgeNetwork: network.edgeName,
  v1Upstreams: apiV1.addresses,
  v2Upstreams: apiV2.addresses,
  bindAddress: settings.bindAddress,
  httpsPort: settings.hostPorts.https,
  httpPort: settings.hostPorts.http,
  rateLimitPerSecond: settings.rateLimitPerSecond,
  rateLimitBurst: settings.rateLimitBurst,
  canaryPercent: settings.canaryPercent,
  metricsLog: monitoring.gatewayMetricsLog,
  certificatePem: tls.certPem,
  certificateKeyPem: tls.keyPem,
  htpasswd: credentials.htpasswd,
});

export const urls = {
  gateway: gateway.url,
  http: gateway.httpUrl,
  ...(monitoring.grafanaUrl !== undefined && { grafana: monitoring.grafanaUrl }),
  prometheus: monitoring.prometheusUrl,
  alertmanager: monitoring.alertmanagerUrl,
};
export const caCertificate = tls.caCertPem;
export const apiUser = credentials.apiUser;
export const apiPassword = pulumi.secret(credentials.apiPassword);
export const grafanaPassword = credentials.grafanaPassword && pulumi.secret(credentials.grafanaPassword);
// Read by `npm run smoke -- --stack <stack>` to size its load-spread and rate-limit checks.
export const v1Replicas = settings.replicas;
export const rateLimitPerSecond = settings.rateLimitPerSecond;
export const rateLimitBurst = settings.rateLimitBurst;
