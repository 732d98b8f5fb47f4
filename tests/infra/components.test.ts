/**
 * Component tier: each ComponentResource alone under mocks, asserting its exact children and the
 * inputs that matter (curves, SANs, secrets, container hardening). Options such as
 * deleteBeforeReplace never reach the mock monitor, so a transformation records them.
 */
import type * as PulumiModule from '@pulumi/pulumi';
import type * as ApiFleetModule from '../../infra/api-fleet';
import type * as CredentialsModule from '../../infra/credentials';
import type * as GatewayModule from '../../infra/gateway';
import type * as MonitoringModule from '../../infra/monitoring';
import type * as NetworkModule from '../../infra/network';
import type * as TlsModule from '../../infra/tls';
import { htpasswdLine } from '../../deployments/nginx/htpasswd';
import { find, mockOutputs, plainStrings, runMocked, TYPES, unwrap, valueOf, type Recorded } from './harness';

/* eslint-disable @typescript-eslint/no-require-imports -- modules must load inside each isolated mocked run */
const load = {
  tls: () => require('../../infra/tls') as typeof TlsModule,
  credentials: () => require('../../infra/credentials') as typeof CredentialsModule,
  network: () => require('../../infra/network') as typeof NetworkModule,
  apiFleet: () => require('../../infra/api-fleet') as typeof ApiFleetModule,
  gateway: () => require('../../infra/gateway') as typeof GatewayModule,
  monitoring: () => require('../../infra/monitoring') as typeof MonitoringModule,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Records the resource options of every child, keyed by name. */
function optionsRecorder() {
  const options = new Map<string, PulumiModule.CustomResourceOptions>();
  const transformation: PulumiModule.ResourceTransformation = (args) => {
    options.set(args.name, args.opts);
    return undefined;
  };
  return { options, opts: { transformations: [transformation] } };
}

const names = (resources: Recorded[]) => resources.map((r) => `${r.type} ${r.name}`).sort();

describe('TlsMaterial', () => {
  test('creates a P-256 CA and a P-256 server certificate signed by it for localhost, 127.0.0.1 and extra names', async () => {
    const { resources, result } = await runMocked(async (pulumi) => {
      const { TlsMaterial } = load.tls();
      const material = new TlsMaterial('t-tls', {
        dnsNames: ['api.example.com', 'localhost'],
        ipAddresses: ['10.1.2.3'],
      });
      return {
        caCertPem: await valueOf(material.caCertPem),
        certPem: await valueOf(material.certPem),
        keyPem: await valueOf(material.keyPem),
        keySecret: await pulumi.isSecret(material.keyPem),
        caSecret: await pulumi.isSecret(material.caCertPem),
      };
    });

    expect(names(resources.filter((r) => r.type.startsWith('tls:')))).toEqual(
      [
        `${TYPES.certRequest} t-tls-server-csr`,
        `${TYPES.locallySignedCert} t-tls-server-cert`,
        `${TYPES.privateKey} t-tls-ca-key`,
        `${TYPES.privateKey} t-tls-server-key`,
        `${TYPES.selfSignedCert} t-tls-ca-cert`,
      ].sort(),
    );
    for (const key of ['t-tls-ca-key', 't-tls-server-key']) {
      expect(find(resources, TYPES.privateKey, key).inputs).toEqual({
        algorithm: 'ECDSA',
        ecdsaCurve: 'P256',
      });
    }
    const ca = unwrap(find(resources, TYPES.selfSignedCert, 't-tls-ca-cert').inputs) as Record<
      string,
      unknown
    >;
    expect(ca).toMatchObject({
      isCaCertificate: true,
      allowedUses: expect.arrayContaining(['cert_signing']),
    });
    expect(ca.privateKeyPem).toBe(mockOutputs(TYPES.privateKey, 't-tls-ca-key').privateKeyPem);

    const csr = unwrap(find(resources, TYPES.certRequest, 't-tls-server-csr').inputs) as Record<
      string,
      unknown
    >;
    expect(csr.dnsNames).toEqual(['localhost', 'api.example.com']);
    expect(csr.ipAddresses).toEqual(['127.0.0.1', '10.1.2.3']);
    expect(csr.privateKeyPem).toBe(mockOutputs(TYPES.privateKey, 't-tls-server-key').privateKeyPem);

    const signed = unwrap(find(resources, TYPES.locallySignedCert, 't-tls-server-cert').inputs) as Record<
      string,
      unknown
    >;
    expect(signed).toMatchObject({
      caCertPem: mockOutputs(TYPES.selfSignedCert, 't-tls-ca-cert').certPem,
      caPrivateKeyPem: mockOutputs(TYPES.privateKey, 't-tls-ca-key').privateKeyPem,
      allowedUses: ['digital_signature', 'server_auth'],
    });

    expect(result.caCertPem).toBe(mockOutputs(TYPES.selfSignedCert, 't-tls-ca-cert').certPem);
    expect(result.certPem).toBe(mockOutputs(TYPES.locallySignedCert, 't-tls-server-cert').certPem);
    expect(result.keyPem).toBe(mockOutputs(TYPES.privateKey, 't-tls-server-key').privateKeyPem);
    expect(result.keySecret).toBe(true);
    expect(result.caSecret).toBe(false);
  });
});

describe('Credentials', () => {
  test('generates API and Grafana passwords and a salted htpasswd line, all secret', async () => {
    const { resources, result } = await runMocked(async (pulumi) => {
      const { Credentials } = load.credentials();
      const credentials = new Credentials('t-cred', { apiUser: 'client' });
      return {
        apiUser: credentials.apiUser,
        apiPassword: await valueOf(credentials.apiPassword),
        grafanaPassword: await valueOf(credentials.grafanaPassword!),
        htpasswd: await valueOf(credentials.htpasswd),
        secret: await Promise.all(
          [credentials.apiPassword, credentials.grafanaPassword!, credentials.htpasswd].map((o) =>
            pulumi.isSecret(o),
          ),
        ),
      };
    });

    expect(names(resources.filter((r) => r.type.startsWith('random:')))).toEqual([
      `${TYPES.randomBytes} t-cred-htpasswd-salt`,
      `${TYPES.randomPassword} t-cred-api-password`,
      `${TYPES.randomPassword} t-cred-grafana-admin-password`,
    ]);
    const apiPassword = find(resources, TYPES.randomPassword, 't-cred-api-password').inputs;
    expect(apiPassword.length).toBeGreaterThanOrEqual(32);
    expect(apiPassword.special).toBe(false);

    const password = mockOutputs(TYPES.randomPassword, 't-cred-api-password').result as string;
    const salt = Buffer.from(
      mockOutputs(TYPES.randomBytes, 't-cred-htpasswd-salt').base64 as string,
      'base64',
    );
    expect(result.apiUser).toBe('client');
    expect(result.apiPassword).toBe(password);
    expect(result.grafanaPassword).toBe(
      mockOutputs(TYPES.randomPassword, 't-cred-grafana-admin-password').result,
    );
    expect(result.htpasswd).toBe(`${htpasswdLine('client', password, salt)}\n`);
    expect(result.secret).toEqual([true, true, true]);
  });

  test('uses a user-supplied password instead of generating one', async () => {
    const { resources, result } = await runMocked(async (pulumi) => {
      const { Credentials } = load.credentials();
      const credentials = new Credentials('t-cred', {
        apiUser: 'api',
        apiPassword: pulumi.secret('user-supplied-password-0001'),
      });
      return {
        apiPassword: await valueOf(credentials.apiPassword),
        htpasswd: await valueOf(credentials.htpasswd),
      };
    });
    expect(resources.map((r) => r.name)).not.toContain('t-cred-api-password');
    expect(result.apiPassword).toBe('user-supplied-password-0001');
    const salt = Buffer.from(
      mockOutputs(TYPES.randomBytes, 't-cred-htpasswd-salt').base64 as string,
      'base64',
    );
    expect(result.htpasswd).toBe(`${htpasswdLine('api', 'user-supplied-password-0001', salt)}\n`);
  });
});

describe('Network', () => {
  test('creates an internal backend network and an edge network named after the component, replaced delete-first', async () => {
    const { resources, result } = await runMocked(async () => {
      const { Network } = load.network();
      const recorder = optionsRecorder();
      const network = new Network('t-net', {}, recorder.opts);
      return {
        backend: await valueOf(network.backendName),
        edge: await valueOf(network.edgeName),
        deleteFirst: [...recorder.options].filter(([, o]) => o.deleteBeforeReplace).map(([n]) => n),
      };
    });
    const networks = resources.filter((r) => r.type === TYPES.network);
    const summary = networks.map((r) => [r.name, r.inputs.name, r.inputs.internal ?? false]);
    expect(summary.sort()).toEqual([
      ['t-net-backend', 't-net-backend', true],
      ['t-net-edge', 't-net-edge', false],
    ]);
    expect(result).toEqual({
      backend: 't-net-backend',
      edge: 't-net-edge',
      deleteFirst: ['t-net-backend', 't-net-edge'],
    });
  });
});

describe('ApiFleet', () => {
  test('runs N hardened replicas on the backend network with their aliases and no published port', async () => {
    const { resources, result } = await runMocked(async () => {
      const { ApiFleet, ApiImage } = load.apiFleet();
      const recorder = optionsRecorder();
      const image = new ApiImage('t-api-image');
      const fleet = new ApiFleet(
        't-api-v1',
        { variant: 'v1', replicas: 4, image: image.imageId, network: 'backend-net', memoryMb: 300 },
        recorder.opts,
      );
      return {
        hosts: fleet.hosts,
        addresses: await Promise.all(fleet.addresses.map(valueOf)),
        containerNames: await Promise.all(fleet.containerNames.map(valueOf)),
        options: [...recorder.options]
          .filter(([n]) => n !== 't-api-v1')
          .map(([n, o]) => ({
            name: n,
            deleteBeforeReplace: o.deleteBeforeReplace,
            dependsOn: ((o.dependsOn ?? []) as { __name?: string }[]).map((d) => d.__name),
          })),
      };
    });

    const image = find(resources, TYPES.image, 't-api-image').inputs;
    expect(image).toMatchObject({
      skipPush: true,
      build: { context: '.', dockerfile: 'services/api/Dockerfile' },
    });
    expect(image.imageName).not.toMatch(/:latest$/);

    const containers = resources.filter((r) => r.type === TYPES.container);
    expect(containers.map((c) => c.name)).toEqual(['t-api-v1-1', 't-api-v1-2', 't-api-v1-3', 't-api-v1-4']);
    expect(result.hosts).toEqual(['api-v1-1', 'api-v1-2', 'api-v1-3', 'api-v1-4']);
    // Names carry a hash of the spec: a changed replica starts beside the old one (no name clash).
    result.containerNames.forEach((n, i) =>
      expect(n).toMatch(new RegExp(`^t-api-v1-${i + 1}-[0-9a-f]{10}$`)),
    );
    expect(new Set(result.containerNames).size).toBe(4);
    expect(result.addresses).toEqual(result.containerNames.map((n) => `${n}:8000`));
    // Created before the old one goes (the provider would say delete-first), each after the previous.
    expect(result.options).toEqual([
      { name: 't-api-v1-1', deleteBeforeReplace: false, dependsOn: [] },
      { name: 't-api-v1-2', deleteBeforeReplace: false, dependsOn: ['t-api-v1-1'] },
      { name: 't-api-v1-3', deleteBeforeReplace: false, dependsOn: ['t-api-v1-2'] },
      { name: 't-api-v1-4', deleteBeforeReplace: false, dependsOn: ['t-api-v1-3'] },
    ]);

    const imageId = mockOutputs(TYPES.image, 't-api-image').repoDigest;
    containers.forEach((container, i) => {
      const inputs = container.inputs;
      expect(inputs.name).toBe(result.containerNames[i]);
      expect(inputs.image).toBe(imageId);
      expect(inputs.ports ?? []).toEqual([]);
      expect(inputs.publishAllPorts ?? false).toBe(false);
      expect(inputs.networksAdvanced).toEqual([
        { name: 'backend-net', aliases: [`api-v1-${i + 1}`, 'api-v1'] },
      ]);
      expect(inputs.envs).toEqual(
        expect.arrayContaining(['PORT=8000', 'API_VARIANT=v1', `REPLICA_ID=api-v1-${i + 1}`]),
      );
      expect(inputs).toMatchObject({
        readOnly: true,
        memory: 300,
        restart: 'unless-stopped',
        capabilities: { drops: ['ALL'] },
        securityOpts: ['no-new-privileges:true'],
        tmpfs: { '/tmp': expect.stringContaining('rw') },
      });
      const healthcheck = inputs.healthcheck as { tests: string[] };
      expect(healthcheck.tests[0]).toBe('CMD');
      expect(healthcheck.tests.join(' ')).toContain('http://127.0.0.1:8000/ready');
      expect(plainStrings(inputs).join('\n')).not.toContain('Mock');
    });
  });

  test('runs a prebuilt image (pinned, kept locally) instead of building one when given', async () => {
    const { resources, result } = await runMocked(() => {
      const { ApiImage } = load.apiFleet();
      return valueOf(new ApiImage('t-api-image', { prebuilt: 'sentiment-gateway/api:0.1.0' }).imageId);
    });
    expect(resources.filter((r) => r.type === TYPES.image)).toEqual([]);
    expect(find(resources, TYPES.remoteImage, 't-api-image').inputs).toMatchObject({
      name: 'sentiment-gateway/api:0.1.0',
      keepLocally: true,
    });
    expect(result).toBe(mockOutputs(TYPES.remoteImage, 't-api-image').imageId);
  });

  test('rejects a fleet of 0 replicas', async () => {
    const { result } = await runMocked(() => {
      const { ApiFleet } = load.apiFleet();
      try {
        new ApiFleet('t-api-v1', { variant: 'v1', replicas: 0, image: 'img', network: 'n' });
        return 'created';
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(result).toBe('replicas must be a positive integer (got 0)');
  });
});

/** Monitoring arguments shared by the tests, without Grafana. */
const MONITORING_ARGS = {
  images: {
    prometheus: 'prom/prometheus:v3.5.0',
    alertmanager: 'prom/alertmanager:v0.28.1',
    gatewayMetrics: 'ghcr.io/google/mtail:3.0.8',
  },
  backendNetwork: 'b',
  edgeNetwork: 'e',
  apiTargets: [{ address: 'api-v1-1:8000', replica: 'api-v1-1', version: 'v1' as const }],
  bindAddress: '127.0.0.1',
  ports: { prometheus: 9090, grafana: 3000, alertmanager: 9093 },
  stackLabel: 't',
};

describe('Gateway and Monitoring', () => {
  test('replace every fixed-name container and volume delete-first, images pinned and kept locally', async () => {
    const { resources, result } = await runMocked(async () => {
      const recorder = optionsRecorder();
      const { Gateway } = load.gateway();
      const { Monitoring } = load.monitoring();
      const monitoring = new Monitoring(
        't-mon',
        {
          ...MONITORING_ARGS,
          grafana: { image: 'grafana/grafana:12.0.2', adminPassword: 'grafana-password-0123456789' },
        },
        recorder.opts,
      );
      const gateway = new Gateway(
        't-gw',
        {
          nginxImage: 'nginx:1.28.0-alpine',
          exporterImage: 'nginx/nginx-prometheus-exporter:1.4.2',
          backendNetwork: 'b',
          edgeNetwork: 'e',
          v1Upstreams: ['api-v1-1:8000'],
          v2Upstreams: ['api-v2:8000'],
          bindAddress: '127.0.0.1',
          httpsPort: 8443,
          httpPort: 8080,
          rateLimitPerSecond: 10,
          rateLimitBurst: 20,
          canaryPercent: 0,
          metricsLog: monitoring.gatewayMetricsLog,
          certificatePem: 'cert',
          certificateKeyPem: 'key',
          htpasswd: 'api:{SSHA}x\n',
        },
        recorder.opts,
      );
      return {
        deleteFirst: [...recorder.options].filter(([, o]) => o.deleteBeforeReplace).map(([n]) => n),
        metricsLogPath: monitoring.gatewayMetricsLog.path,
        metricsLogVolume: await valueOf(monitoring.gatewayMetricsLog.volumeName),
        nginxConf: await valueOf(gateway.nginxConf),
      };
    });
    const fixedNames = resources
      .filter((r) => r.type === TYPES.container || r.type === TYPES.volume)
      .map((r) => r.name)
      .sort();
    expect(fixedNames).toHaveLength(11);
    expect(result.deleteFirst.sort()).toEqual(fixedNames);
    for (const image of resources.filter((r) => r.type === TYPES.remoteImage)) {
      expect(image.inputs.keepLocally).toBe(true);
    }
    const nginx = find(resources, TYPES.container, 't-gw');
    expect((nginx.inputs.healthcheck as { tests: string[] }).tests.join(' ')).toContain(
      'http://127.0.0.1:8081/nginx_status',
    );
    expect(nginx.inputs.image).toBe(mockOutputs(TYPES.remoteImage, 't-gw-nginx-image').imageId);

    // The metrics log: nginx appends to the file mtail tails, through one volume both mount.
    expect(result.metricsLogPath).toBe('/var/log/gateway-metrics/metrics.log');
    expect(result.metricsLogVolume).toBe('t-mon-gateway-metrics-log');
    expect(result.nginxConf).toContain(`access_log "${result.metricsLogPath}" gateway_metrics;`);
    const mount = { volumeName: 't-mon-gateway-metrics-log', containerPath: '/var/log/gateway-metrics' };
    const configMount = { volumeName: 't-gw-config', containerPath: '/etc/nginx/sg', readOnly: true };
    expect(nginx.inputs.volumes).toEqual([configMount, mount]);
    const mtail = find(resources, TYPES.container, 't-mon-gateway-metrics');
    expect(mtail.inputs.volumes).toEqual([{ ...mount, readOnly: true }]);
    expect(mtail.inputs.command).toContain(`--logs=${result.metricsLogPath}`);
  });

  test('a gateway without a metrics log mounts only its config volume and logs no metrics lines', async () => {
    const { resources, result } = await runMocked(async () => {
      const { Gateway } = load.gateway();
      const gateway = new Gateway('t-gw', {
        nginxImage: 'nginx:1.28.0-alpine',
        exporterImage: 'nginx/nginx-prometheus-exporter:1.4.2',
        backendNetwork: 'b',
        edgeNetwork: 'e',
        v1Upstreams: ['api-v1-1:8000'],
        v2Upstreams: ['api-v2:8000'],
        bindAddress: '127.0.0.1',
        httpsPort: 8443,
        httpPort: 8080,
        rateLimitPerSecond: 10,
        rateLimitBurst: 20,
        canaryPercent: 0,
        certificatePem: 'cert',
        certificateKeyPem: 'key',
        htpasswd: 'api:{SSHA}x\n',
      });
      return valueOf(gateway.nginxConf);
    });
    expect(find(resources, TYPES.container, 't-gw').inputs.volumes).toEqual([
      { volumeName: 't-gw-config', containerPath: '/etc/nginx/sg', readOnly: true },
    ]);
    expect(result).not.toContain('gateway_metrics');
  });
});

describe('without Grafana', () => {
  test('Monitoring runs no Grafana container, volume or image, uploads no Grafana file and has no Grafana URL', async () => {
    const { resources, result } = await runMocked(() => {
      const { Monitoring } = load.monitoring();
      const monitoring = new Monitoring('t-mon', MONITORING_ARGS);
      return { url: monitoring.grafanaUrl, files: monitoring.files.map((f) => f.path) };
    });
    expect(resources.filter((r) => r.name.includes('grafana'))).toEqual([]);
    expect(result.url).toBeUndefined();
    expect(result.files.filter((f) => f.startsWith('grafana/'))).toEqual([]);
    expect(result.files).toContain('prometheus/prometheus.yml');
  });

  test('Credentials generates no Grafana password', async () => {
    const { resources, result } = await runMocked(() => {
      const { Credentials } = load.credentials();
      return new Credentials('t-cred', { apiUser: 'client', grafana: false }).grafanaPassword;
    });
    expect(result).toBeUndefined();
    expect(names(resources.filter((r) => r.type.startsWith('random:')))).toEqual([
      `${TYPES.randomBytes} t-cred-htpasswd-salt`,
      `${TYPES.randomPassword} t-cred-api-password`,
    ]);
  });
});
