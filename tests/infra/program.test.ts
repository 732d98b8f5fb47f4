/**
 * The whole Pulumi program (index.ts) under mocks: exact resources, published ports, networks,
 * rendered uploads against the renderers, secrets, determinism and settings errors.
 *
 * Not proven here: that Docker accepts these arguments and the containers come up (no engine on
 * these machines). The rendered files themselves are proven by the real-binary tests (nginx -t and
 * behaviour against real nginx, promtool, amtool).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type * as PulumiModule from '@pulumi/pulumi';
import { renderAlertmanagerConfig } from '../../deployments/alertmanager/render';
import {
  resolveAlertmanagerSettings,
  type AlertReceiverOptions,
} from '../../deployments/alertmanager/settings';
import { renderNginxConf, resolveNginxSettings } from '../../deployments/nginx';
import { renderPrometheusConfig } from '../../deployments/prometheus/config';
import { resolvePrometheusSettings } from '../../deployments/prometheus/settings';
import { MEMORY_LIMIT_MB } from '../../infra/docker-common';
import { GATEWAY_CONFIG_DIR, type GatewayFile } from '../../infra/gateway-files';
import {
  find,
  isSecretInput,
  mockOutputs,
  plainStrings,
  runMocked,
  TYPES,
  unwrap,
  valueOf,
  type Recorded,
  type RunOptions,
} from './harness';

interface Outputs {
  urls: Record<string, string>;
  caCertificate: string;
  apiUser: string;
  apiPassword: string;
  grafanaPassword: string;
  v1Replicas: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  secret: Record<string, boolean>;
}

interface ProgramRun {
  resources: Recorded[];
  outputs: Outputs;
}

/** Loads index.ts under mocks with `options.config`, resolving every export. */
async function runProgram(options: RunOptions = {}): Promise<ProgramRun> {
  const { resources, result } = await runMocked(async (pulumi: typeof PulumiModule) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require('../../index') as Record<string, PulumiModule.Input<unknown>>;
    const names = [
      'urls',
      'caCertificate',
      'apiUser',
      'apiPassword',
      'grafanaPassword',
      'v1Replicas',
      'rateLimitPerSecond',
      'rateLimitBurst',
    ] as const;
    const values: Record<string, unknown> = {};
    const secret: Record<string, boolean> = {};
    for (const key of names) {
      const output = pulumi.output(program[key]);
      values[key] = await valueOf(output);
      secret[key] = await pulumi.isSecret(output);
    }
    return { ...values, secret } as unknown as Outputs;
  }, options);
  return { resources, outputs: result };
}

let defaultRunPromise: Promise<ProgramRun> | undefined;
/** The run with default settings, made once per file and only read afterwards. */
function defaultRun(): Promise<ProgramRun> {
  defaultRunPromise ??= runProgram();
  return defaultRunPromise;
}

/** The program's failure for `config` (settings are validated while index.ts loads). */
async function programError(config: Record<string, string>): Promise<string> {
  try {
    await runProgram({ config });
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`program accepted ${JSON.stringify(config)}`);
}

/** Each program run loads the SDK afresh (~2 s, more with other tiers running): room for a few. */
const MULTI_RUN_TIMEOUT = 90_000;

const byTypeAndName = (resources: Recorded[]) => resources.map((r) => `${r.type} ${r.name}`).sort();
const containers = (resources: Recorded[]) => resources.filter((r) => r.type === TYPES.container);
const container = (resources: Recorded[], name: string) => find(resources, TYPES.container, name);

interface Upload {
  file: string;
  content: unknown;
}
/** A container's uploads; the SDK marks the whole list secret when any content is secret. */
const uploads = (c: Recorded) => (unwrap(c.inputs.uploads) ?? []) as Upload[];
/** The plain content of one upload, failing if it is missing. */
function uploadContent(c: Recorded, file: string): string {
  const upload = uploads(c).find((u) => u.file === file);
  if (!upload)
    throw new Error(
      `${c.name} has no upload ${file}; has ${uploads(c)
        .map((u) => u.file)
        .join(', ')}`,
    );
  return unwrap(upload.content) as string;
}

/** The gateway's current config generation: its id and files (the GatewayConfig's inputs). */
function gatewayGenerationOf(resources: Recorded[]): { generation: string; files: GatewayFile[] } {
  const config = find(resources, TYPES.gatewayConfig, 'sentiment-dev-gateway-live-config');
  return {
    generation: unwrap(config.inputs.generation) as string,
    files: unwrap(config.inputs.files) as GatewayFile[],
  };
}
/** One file of the gateway's generation by name (`nginx.conf`, `server.crt`, `server.key`, `htpasswd`). */
function gatewayFile(resources: Recorded[], name: string): string {
  const { generation, files } = gatewayGenerationOf(resources);
  const file = files.find((f) => f.path === `${generation}/${name}`);
  if (!file) throw new Error(`no gateway file ${name}; has ${files.map((f) => f.path).join(', ')}`);
  return file.content;
}
/** The nginx settings paths of a generation, as gatewayGeneration renders them. */
const generationPaths = (generation: string) => ({
  certificatePath: `${GATEWAY_CONFIG_DIR}/${generation}/server.crt`,
  certificateKeyPath: `${GATEWAY_CONFIG_DIR}/${generation}/server.key`,
  htpasswdPath: `${GATEWAY_CONFIG_DIR}/${generation}/htpasswd`,
  configGeneration: generation,
});
/** `name:8000` of each replica container, as the upstreams name them (names carry a spec hash). */
const replicaUpstreams = (resources: Recorded[], prefix: string) =>
  containers(resources)
    .filter((c) => c.name.startsWith(prefix))
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((c) => `${c.inputs.name as string}:8000`);

/** Every resource of the default stack, with replica containers for `replicas` v1 replicas. */
function expectedResources(replicas: number): string[] {
  const p = 'sentiment-dev';
  const v1 = Array.from({ length: replicas }, (_, i) => `${TYPES.container} ${p}-api-v1-${i + 1}`);
  return [
    `sentiment-gateway:network:Network ${p}`,
    `${TYPES.network} ${p}-backend`,
    `${TYPES.network} ${p}-edge`,
    `sentiment-gateway:tls:TlsMaterial ${p}-tls`,
    `${TYPES.privateKey} ${p}-tls-ca-key`,
    `${TYPES.selfSignedCert} ${p}-tls-ca-cert`,
    `${TYPES.privateKey} ${p}-tls-server-key`,
    `${TYPES.certRequest} ${p}-tls-server-csr`,
    `${TYPES.locallySignedCert} ${p}-tls-server-cert`,
    `sentiment-gateway:credentials:Credentials ${p}-credentials`,
    `${TYPES.randomPassword} ${p}-credentials-api-password`,
    `${TYPES.randomPassword} ${p}-credentials-grafana-admin-password`,
    `${TYPES.randomBytes} ${p}-credentials-htpasswd-salt`,
    `sentiment-gateway:api:ApiImage ${p}-api`,
    `${TYPES.image} ${p}-api`,
    `sentiment-gateway:api:ApiFleet ${p}-api-v1`,
    ...v1,
    `sentiment-gateway:api:ApiFleet ${p}-api-v2`,
    `${TYPES.container} ${p}-api-v2`,
    `sentiment-gateway:gateway:Gateway ${p}-gateway`,
    `${TYPES.remoteImage} ${p}-gateway-nginx-image`,
    `${TYPES.volume} ${p}-gateway-config`,
    `${TYPES.gatewayConfig} ${p}-gateway-live-config`,
    `${TYPES.container} ${p}-gateway`,
    `${TYPES.remoteImage} ${p}-gateway-exporter-image`,
    `${TYPES.container} ${p}-gateway-exporter`,
    `sentiment-gateway:monitoring:Monitoring ${p}-monitoring`,
    ...['prometheus', 'alertmanager', 'grafana'].flatMap((s) => [
      `${TYPES.remoteImage} ${p}-monitoring-${s}-image`,
      `${TYPES.volume} ${p}-monitoring-${s}-data`,
      `${TYPES.container} ${p}-monitoring-${s}`,
    ]),
    `${TYPES.remoteImage} ${p}-monitoring-gateway-metrics-image`,
    `${TYPES.volume} ${p}-monitoring-gateway-metrics-log`,
    `${TYPES.container} ${p}-monitoring-gateway-metrics`,
  ].sort();
}

describe('the program with default settings', () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await defaultRun();
  }, MULTI_RUN_TIMEOUT);

  test('creates exactly the expected resources, by type and name', () => {
    expect(byTypeAndName(run.resources)).toEqual(expectedResources(3));
  });

  test('publishes only the gateway (HTTPS, HTTP) and the monitoring UIs, all on 127.0.0.1', () => {
    const published = Object.fromEntries(
      containers(run.resources)
        .filter((c) => ((c.inputs.ports as unknown[] | undefined) ?? []).length > 0)
        .map((c) => [c.name, c.inputs.ports]),
    );
    expect(published).toEqual({
      'sentiment-dev-gateway': [
        { internal: 8443, external: 8443, ip: '127.0.0.1' },
        { internal: 8080, external: 8080, ip: '127.0.0.1' },
      ],
      'sentiment-dev-monitoring-prometheus': [{ internal: 9090, external: 9090, ip: '127.0.0.1' }],
      'sentiment-dev-monitoring-alertmanager': [{ internal: 9093, external: 9093, ip: '127.0.0.1' }],
      'sentiment-dev-monitoring-grafana': [{ internal: 3000, external: 3000, ip: '127.0.0.1' }],
    });
    for (const c of containers(run.resources)) {
      expect(c.inputs.publishAllPorts ?? false).toBe(false);
    }
  });

  test('puts every API container on the internal backend network, and only there, under its replica alias', () => {
    const backend = find(run.resources, TYPES.network, 'sentiment-dev-backend');
    expect(backend.inputs).toMatchObject({ name: 'sentiment-dev-backend', internal: true });
    const api = containers(run.resources).filter((c) => c.name.includes('-api-'));
    expect(api.map((c) => [c.name, c.inputs.networksAdvanced]).sort()).toEqual([
      ['sentiment-dev-api-v1-1', [{ name: 'sentiment-dev-backend', aliases: ['api-v1-1', 'api-v1'] }]],
      ['sentiment-dev-api-v1-2', [{ name: 'sentiment-dev-backend', aliases: ['api-v1-2', 'api-v1'] }]],
      ['sentiment-dev-api-v1-3', [{ name: 'sentiment-dev-backend', aliases: ['api-v1-3', 'api-v1'] }]],
      ['sentiment-dev-api-v2', [{ name: 'sentiment-dev-backend', aliases: ['api-v2'] }]],
    ]);
    for (const c of api) {
      expect(c.inputs.image).toBe(mockOutputs(TYPES.image, 'sentiment-dev-api').repoDigest);
      expect(c.inputs.ports ?? []).toEqual([]);
    }
  });

  test('gives each service the backend alias its consumers are rendered with', () => {
    const aliases = (name: string) =>
      Object.fromEntries(
        (container(run.resources, name).inputs.networksAdvanced as { name: string; aliases: string[] }[]).map(
          (n) => [n.name, n.aliases],
        ),
      );
    expect(aliases('sentiment-dev-gateway')).toEqual({
      'sentiment-dev-edge': ['gateway'],
      'sentiment-dev-backend': ['gateway'],
    });
    expect(aliases('sentiment-dev-gateway-exporter')).toEqual({
      'sentiment-dev-backend': ['nginx-exporter'],
    });
    expect(aliases('sentiment-dev-monitoring-gateway-metrics')).toEqual({
      'sentiment-dev-backend': ['gateway-metrics'],
    });
    expect(aliases('sentiment-dev-monitoring-prometheus')).toEqual({
      'sentiment-dev-edge': ['prometheus'],
      'sentiment-dev-backend': ['prometheus'],
    });
    expect(aliases('sentiment-dev-monitoring-alertmanager')).toEqual({
      'sentiment-dev-edge': ['alertmanager'],
    });
    expect(aliases('sentiment-dev-monitoring-grafana')).toEqual({ 'sentiment-dev-edge': ['grafana'] });
    expect(container(run.resources, 'sentiment-dev-gateway-exporter').inputs.command).toContain(
      '--nginx.scrape-uri=http://gateway:8081/nginx_status',
    );
  });

  test('installs the nginx.conf renderNginxConf produces for the replica container names, in its generation', () => {
    const { generation } = gatewayGenerationOf(run.resources);
    const v1 = replicaUpstreams(run.resources, 'sentiment-dev-api-v1-');
    expect(v1).toEqual(
      [1, 2, 3].map((i) =>
        expect.stringMatching(new RegExp(`^sentiment-dev-api-v1-${i}-[0-9a-f]{10}:8000$`)),
      ),
    );
    const expected = renderNginxConf(
      resolveNginxSettings({
        v1Upstreams: v1,
        v2Upstreams: replicaUpstreams(run.resources, 'sentiment-dev-api-v2'),
        httpsListen: '8443',
        httpListen: '8080',
        statusListen: '8081',
        publicHttpsPort: 8443,
        ...generationPaths(generation),
        rateLimitPerSecond: 10,
        rateLimitBurst: 20,
        canaryPercent: 0,
        metricsLog: { path: '/var/log/gateway-metrics/metrics.log' },
        workerProcesses: 2,
      }),
    );
    expect(gatewayFile(run.resources, 'nginx.conf')).toBe(expected);
    // nginx runs the live copy in the config volume, mounted read-only.
    const gateway = container(run.resources, 'sentiment-dev-gateway');
    expect(gateway.inputs.command).toEqual([
      'nginx',
      '-c',
      `${GATEWAY_CONFIG_DIR}/nginx.conf`,
      '-g',
      'daemon off;',
    ]);
    expect(gateway.inputs.uploads ?? []).toEqual([]);
  });

  test('uploads the prometheus.yml renderPrometheusConfig produces for the computed target names', () => {
    const expected = renderPrometheusConfig(
      resolvePrometheusSettings({
        targets: {
          api: [
            { address: 'api-v1-1:8000', replica: 'api-v1-1', version: 'v1' },
            { address: 'api-v1-2:8000', replica: 'api-v1-2', version: 'v1' },
            { address: 'api-v1-3:8000', replica: 'api-v1-3', version: 'v1' },
            { address: 'api-v2:8000', replica: 'api-v2', version: 'v2' },
          ],
          nginxExporter: 'nginx-exporter:9113',
          gatewayMetrics: 'gateway-metrics:3903',
          prometheus: 'localhost:9090',
          alertmanager: 'alertmanager:9093',
        },
        externalLabels: { stack: 'sentiment-dev' },
      }),
    );
    const prometheus = container(run.resources, 'sentiment-dev-monitoring-prometheus');
    expect(uploadContent(prometheus, '/etc/prometheus/prometheus.yml')).toBe(expected);
    expect(prometheus.inputs.command).toContain('--config.file=/etc/prometheus/prometheus.yml');
    // rule_files are relative to the config file: the rules must sit beside it.
    expect(uploadContent(prometheus, '/etc/prometheus/alerts.yml')).toMatch(/alert: /);
  });

  test('sends each monitoring file to the container that reads it', () => {
    const files = (name: string) => uploads(container(run.resources, name)).map((u) => u.file);
    expect(files('sentiment-dev-monitoring-prometheus')).toEqual([
      '/etc/prometheus/prometheus.yml',
      '/etc/prometheus/alerts.yml',
    ]);
    expect(files('sentiment-dev-monitoring-alertmanager')).toEqual(['/etc/alertmanager/alertmanager.yml']);
    expect(
      uploadContent(
        container(run.resources, 'sentiment-dev-monitoring-alertmanager'),
        '/etc/alertmanager/alertmanager.yml',
      ),
    ).toBe(renderAlertmanagerConfig(resolveAlertmanagerSettings({})));
    expect(files('sentiment-dev-monitoring-grafana')).toEqual(
      expect.arrayContaining([
        '/etc/grafana/provisioning/datasources/datasources.yml',
        '/etc/grafana/provisioning/dashboards/dashboards.yml',
        '/etc/grafana/secrets/admin-password',
      ]),
    );
    const dashboards = files('sentiment-dev-monitoring-grafana').filter((f) =>
      f.startsWith('/etc/grafana/dashboards/'),
    );
    expect(dashboards.length).toBeGreaterThanOrEqual(2);
    const provider = uploadContent(
      container(run.resources, 'sentiment-dev-monitoring-grafana'),
      '/etc/grafana/provisioning/dashboards/dashboards.yml',
    );
    expect(provider).toContain('path: /etc/grafana/dashboards');
    const mtail = container(run.resources, 'sentiment-dev-monitoring-gateway-metrics');
    expect(files('sentiment-dev-monitoring-gateway-metrics')).toEqual(['/etc/gateway-metrics/gateway.mtail']);
    expect(mtail.inputs.command).toContain('--progs=/etc/gateway-metrics');
  });

  test('shares one metrics log volume: nginx writes the file its nginx.conf names, mtail tails it read-only', () => {
    const gateway = container(run.resources, 'sentiment-dev-gateway');
    const mtail = container(run.resources, 'sentiment-dev-monitoring-gateway-metrics');
    const conf = gatewayFile(run.resources, 'nginx.conf');
    const logged = [...conf.matchAll(/^\s*access_log "([^"]+)" gateway_metrics;$/gm)].map((m) => m[1]!);
    expect(logged).toEqual(['/var/log/gateway-metrics/metrics.log']);
    const [logPath] = logged as [string];
    const volume = find(run.resources, TYPES.volume, 'sentiment-dev-monitoring-gateway-metrics-log');
    expect(volume.inputs.name).toBe('sentiment-dev-monitoring-gateway-metrics-log');
    const mount = { volumeName: volume.inputs.name, containerPath: path.posix.dirname(logPath) };
    expect(gateway.inputs.volumes).toEqual([
      { volumeName: 'sentiment-dev-gateway-config', containerPath: GATEWAY_CONFIG_DIR, readOnly: true },
      mount,
    ]);
    expect(mtail.inputs.volumes).toEqual([{ ...mount, readOnly: true }]);
    // File mode on that path (no syslog listener), serving /metrics where Prometheus scrapes it.
    expect(mtail.inputs.command).toEqual([
      '--progs=/etc/gateway-metrics',
      `--logs=${logPath}`,
      '--address=0.0.0.0',
      '--port=3903',
      '--emit_prog_label=false',
      '--logtostderr',
    ]);
    // Only the gateway writes into the volume; no other container mounts it.
    const mounting = containers(run.resources)
      .filter((c) =>
        ((c.inputs.volumes as { volumeName: string }[] | undefined) ?? []).some(
          (v) => v.volumeName === volume.inputs.name,
        ),
      )
      .map((c) => c.name);
    expect(mounting.sort()).toEqual(['sentiment-dev-gateway', 'sentiment-dev-monitoring-gateway-metrics']);
  });

  test('keeps passwords and private keys out of every plain input: envs, commands and uploads', () => {
    const secrets = [
      mockOutputs(TYPES.randomPassword, 'sentiment-dev-credentials-api-password').result,
      mockOutputs(TYPES.randomPassword, 'sentiment-dev-credentials-grafana-admin-password').result,
      mockOutputs(TYPES.privateKey, 'sentiment-dev-tls-server-key').privateKeyPem,
      mockOutputs(TYPES.privateKey, 'sentiment-dev-tls-ca-key').privateKeyPem,
    ] as string[];
    const customResources = run.resources.filter((r) => !r.type.startsWith('sentiment-gateway:'));
    for (const resource of customResources) {
      const plain = plainStrings(resource.inputs).join('\n');
      for (const secret of secrets) expect(plain).not.toContain(secret.trim());
      expect(plain).not.toMatch(/\{SSHA\}/);
    }
    for (const c of containers(run.resources)) {
      const envs = unwrap(c.inputs.envs ?? []) as string[];
      expect(envs.filter((e) => /PASSWORD=|TOKEN=|SECRET=/i.test(e))).toEqual([]);
    }
  });

  test('keeps the uploads and gateway files carrying the key, htpasswd and Grafana password secret, and only those', () => {
    const withSecretUploads = containers(run.resources)
      .filter((c) => isSecretInput(c.inputs.uploads))
      .map((c) => c.name);
    expect(withSecretUploads.sort()).toEqual(['sentiment-dev-monitoring-grafana']);
    const config = find(run.resources, TYPES.gatewayConfig, 'sentiment-dev-gateway-live-config');
    expect(isSecretInput(config.inputs.files)).toBe(true);
    expect(isSecretInput(config.inputs.generation)).toBe(false);
    const password = mockOutputs(TYPES.randomPassword, 'sentiment-dev-credentials-api-password')
      .result as string;
    expect(gatewayFile(run.resources, 'htpasswd')).toMatch(/^api:\{SSHA\}[A-Za-z0-9+/=]+\n$/);
    expect(gatewayFile(run.resources, 'htpasswd')).not.toContain(password);
    expect(gatewayFile(run.resources, 'server.key')).toBe(
      mockOutputs(TYPES.privateKey, 'sentiment-dev-tls-server-key').privateKeyPem,
    );
    expect(
      uploadContent(
        container(run.resources, 'sentiment-dev-monitoring-grafana'),
        '/etc/grafana/secrets/admin-password',
      ),
    ).toBe(mockOutputs(TYPES.randomPassword, 'sentiment-dev-credentials-grafana-admin-password').result);
    const grafanaEnvs = container(run.resources, 'sentiment-dev-monitoring-grafana').inputs.envs as string[];
    expect(grafanaEnvs).toContain('GF_SECURITY_ADMIN_PASSWORD__FILE=/etc/grafana/secrets/admin-password');
  });

  test('exports urls, the CA certificate and the API user in plain, and both passwords as secrets', () => {
    const { outputs } = run;
    expect(outputs.urls).toEqual({
      gateway: 'https://localhost:8443',
      http: 'http://localhost:8080',
      grafana: 'http://localhost:3000',
      prometheus: 'http://localhost:9090',
      alertmanager: 'http://localhost:9093',
    });
    expect(outputs.caCertificate).toBe(
      mockOutputs(TYPES.selfSignedCert, 'sentiment-dev-tls-ca-cert').certPem,
    );
    expect(outputs.apiUser).toBe('api');
    expect(outputs.apiPassword).toBe(
      mockOutputs(TYPES.randomPassword, 'sentiment-dev-credentials-api-password').result,
    );
    expect(outputs.grafanaPassword).toBe(
      mockOutputs(TYPES.randomPassword, 'sentiment-dev-credentials-grafana-admin-password').result,
    );
    expect([outputs.v1Replicas, outputs.rateLimitPerSecond, outputs.rateLimitBurst]).toEqual([3, 10, 20]);
    expect(outputs.secret).toEqual({
      urls: false,
      caCertificate: false,
      apiUser: false,
      apiPassword: true,
      grafanaPassword: true,
      v1Replicas: false,
      rateLimitPerSecond: false,
      rateLimitBurst: false,
    });
  });

  test('pins every upstream image to the default versions, never latest', () => {
    const refs = run.resources
      .filter((r) => r.type === TYPES.remoteImage)
      .map((r) => r.inputs.name as string);
    expect(refs.sort()).toEqual(
      [
        'nginx:1.28.0-alpine',
        'nginx/nginx-prometheus-exporter:1.4.2',
        'prom/prometheus:v3.5.0',
        'prom/alertmanager:v0.28.1',
        'grafana/grafana:12.0.2',
        'ghcr.io/google/mtail:3.0.8',
      ].sort(),
    );
    for (const r of run.resources.filter((x) => x.type === TYPES.remoteImage)) {
      expect(r.inputs.keepLocally).toBe(true);
    }
  });

  test('rolls replicas: each is created before its predecessor goes, after the previous replica, and nginx only reloads', () => {
    // A replacement starts beside the old container (its name carries a hash of its spec), one
    // replica after the other; the gateway container does not depend on any replica: the config
    // generation changes instead, and nginx reloads it.
    const api = containers(run.resources).filter((c) => c.name.includes('-api-'));
    for (const c of api) {
      expect(c.inputs.name).toMatch(new RegExp(`^${c.name}-[0-9a-f]{10}$`));
      expect(c.inputs.wait).toBe(true);
    }
    const gateway = container(run.resources, 'sentiment-dev-gateway');
    expect(JSON.stringify(gateway.inputs)).not.toMatch(/api-v[12]/);
    expect(gatewayFile(run.resources, 'nginx.conf')).toContain(
      `server ${api[0]!.inputs.name as string}:8000`,
    );
  });

  test('gives every container a restart policy and the memory limit sized for it', () => {
    for (const c of containers(run.resources)) {
      expect([c.name, c.inputs.restart]).toEqual([c.name, 'unless-stopped']);
      expect(c.inputs.memory).toEqual(expect.any(Number));
    }
    const limits = Object.fromEntries(
      containers(run.resources)
        .filter((c) => !c.name.includes('-api-'))
        .map((c) => [c.name.replace('sentiment-dev-', ''), c.inputs.memory]),
    );
    expect(limits).toEqual({
      gateway: MEMORY_LIMIT_MB.gateway,
      'gateway-exporter': MEMORY_LIMIT_MB.nginxExporter,
      'monitoring-prometheus': MEMORY_LIMIT_MB.prometheus,
      'monitoring-alertmanager': MEMORY_LIMIT_MB.alertmanager,
      'monitoring-grafana': MEMORY_LIMIT_MB.grafana,
      'monitoring-gateway-metrics': MEMORY_LIMIT_MB.gatewayMetrics,
    });
    for (const c of containers(run.resources).filter((x) => x.name.includes('-api-'))) {
      expect([c.name, c.inputs.memory]).toEqual([c.name, 256]);
    }
  });

  test('spells every capability as the engine reads it back (CAP_...), so a refresh plans no replacement', () => {
    for (const c of containers(run.resources)) {
      const caps = (c.inputs.capabilities ?? {}) as { adds?: string[]; drops?: string[] };
      for (const cap of [...(caps.adds ?? []), ...(caps.drops ?? [])]) {
        expect([c.name, cap]).toEqual([c.name, expect.stringMatching(/^(ALL|CAP_[A-Z_]+)$/)]);
      }
    }
    const gateway = container(run.resources, 'sentiment-dev-gateway').inputs.capabilities;
    expect(gateway).toEqual({ drops: ['ALL'], adds: ['CAP_CHOWN', 'CAP_SETGID', 'CAP_SETUID'] });
  });

  test('gives every container a grace period after its stop signal (the provider would stop with 0 s), nginx its graceful SIGQUIT', () => {
    for (const c of containers(run.resources)) {
      expect([c.name, c.inputs.destroyGraceSeconds]).toEqual([c.name, expect.any(Number)]);
      expect(c.inputs.destroyGraceSeconds as number).toBeGreaterThanOrEqual(10);
    }
    expect(container(run.resources, 'sentiment-dev-gateway').inputs.stopSignal).toBe('SIGQUIT');
    expect(container(run.resources, 'sentiment-dev-monitoring-prometheus').inputs.destroyGraceSeconds).toBe(
      60,
    );
  });

  test('sets every swap limit to the memory limit (Docker would record twice the memory: a perpetual diff)', () => {
    for (const c of containers(run.resources)) {
      expect([c.name, c.inputs.memorySwap]).toEqual([c.name, c.inputs.memory]);
    }
  });
});

describe('the program with 5 v1 replicas', () => {
  let run: ProgramRun;
  beforeAll(async () => {
    run = await runProgram({ config: { replicas: '5' } });
  }, MULTI_RUN_TIMEOUT);

  test('creates exactly the expected resources, by type and name', () => {
    expect(byTypeAndName(run.resources)).toEqual(expectedResources(5));
    expect(run.outputs.v1Replicas).toBe(5);
  });

  test('renders five v1 upstreams and five v1 scrape targets with the replicas aliases', () => {
    const hosts = ['api-v1-1', 'api-v1-2', 'api-v1-3', 'api-v1-4', 'api-v1-5'];
    const conf = gatewayFile(run.resources, 'nginx.conf');
    for (const host of hosts) {
      expect(conf).toMatch(new RegExp(`server sentiment-dev-${host}-[0-9a-f]{10}:8000`));
    }
    const prometheus = uploadContent(
      container(run.resources, 'sentiment-dev-monitoring-prometheus'),
      '/etc/prometheus/prometheus.yml',
    );
    for (const host of hosts) expect(prometheus).toContain(`replica: ${host}`);
    const aliases = containers(run.resources)
      .filter((c) => c.name.startsWith('sentiment-dev-api-v1-'))
      .map((c) => (c.inputs.networksAdvanced as { aliases: string[] }[])[0]!.aliases[0])
      .sort();
    expect(aliases).toEqual(hosts);
  });
});

describe('the program with custom settings', () => {
  test('publishes on the configured bind address and ports and routes the canary share', async () => {
    const { resources, outputs } = await runProgram({
      config: {
        bindAddress: '192.168.1.20',
        httpsPort: '9443',
        httpPort: '9080',
        grafanaPort: '3300',
        prometheusPort: '9190',
        alertmanagerPort: '9193',
        canaryPercent: '5',
        rateLimitPerSecond: '25',
        rateLimitBurst: '50',
        serverNames: '["api.example.com"]',
      },
    });
    expect(container(resources, 'sentiment-dev-gateway').inputs.ports).toEqual([
      { internal: 8443, external: 9443, ip: '192.168.1.20' },
      { internal: 8080, external: 9080, ip: '192.168.1.20' },
    ]);
    expect(container(resources, 'sentiment-dev-monitoring-grafana').inputs.ports).toEqual([
      { internal: 3000, external: 3300, ip: '192.168.1.20' },
    ]);
    expect(outputs.urls.gateway).toBe('https://192.168.1.20:9443');
    const csr = unwrap(find(resources, TYPES.certRequest, 'sentiment-dev-tls-server-csr').inputs) as Record<
      string,
      unknown
    >;
    expect(csr.dnsNames).toEqual(['localhost', 'api.example.com']);
    expect(csr.ipAddresses).toEqual(['127.0.0.1', '192.168.1.20']);
    const conf = gatewayFile(resources, 'nginx.conf');
    expect(conf).toBe(
      renderNginxConf(
        resolveNginxSettings({
          v1Upstreams: replicaUpstreams(resources, 'sentiment-dev-api-v1-'),
          v2Upstreams: replicaUpstreams(resources, 'sentiment-dev-api-v2'),
          ...generationPaths(gatewayGenerationOf(resources).generation),
          publicHttpsPort: 9443,
          rateLimitPerSecond: 25,
          rateLimitBurst: 50,
          canaryPercent: 5,
          metricsLog: { path: '/var/log/gateway-metrics/metrics.log' },
          workerProcesses: 2,
        }),
      ),
    );
  });

  test('renders the configured Alertmanager receivers and uploads their credential files as secrets', async () => {
    const receivers: AlertReceiverOptions[] = [
      {
        kind: 'webhook',
        name: 'ops',
        url: 'https://hooks.example.com/alerts',
        bearerTokenFile: '/etc/alertmanager/secrets/ops-token',
      },
    ];
    const token = 'webhook-bearer-token-0001';
    const { resources } = await runProgram({
      config: {
        alertReceivers: JSON.stringify(receivers),
        alertSecretFiles: JSON.stringify({ 'ops-token': token }),
      },
      secretKeys: ['alertSecretFiles'],
    });
    const alertmanager = container(resources, 'sentiment-dev-monitoring-alertmanager');
    expect(uploadContent(alertmanager, '/etc/alertmanager/alertmanager.yml')).toBe(
      renderAlertmanagerConfig(resolveAlertmanagerSettings({ receivers })),
    );
    expect(isSecretInput(alertmanager.inputs.uploads)).toBe(true);
    expect(uploads(alertmanager).find((u) => u.file === '/etc/alertmanager/secrets/ops-token')).toEqual({
      file: '/etc/alertmanager/secrets/ops-token',
      content: token,
      owner: '65534',
      permissions: '0400',
    });
    for (const resource of resources) {
      expect(plainStrings(resource.inputs).join('\n')).not.toContain(token);
    }
  });

  test('uses a user-supplied API password (secret config) instead of generating one', async () => {
    const password = 'user-chosen-password-with-length';
    const { resources, outputs } = await runProgram({
      config: { apiPassword: password, apiUser: 'client' },
      secretKeys: ['apiPassword'],
    });
    expect(resources.map((r) => r.name)).not.toContain('sentiment-dev-credentials-api-password');
    expect(outputs.apiPassword).toBe(password);
    expect(outputs.secret.apiPassword).toBe(true);
    expect(outputs.apiUser).toBe('client');
    for (const resource of resources) {
      expect(plainStrings(resource.inputs).join('\n')).not.toContain(password);
    }
    expect(gatewayFile(resources, 'htpasswd')).toMatch(/^client:\{SSHA\}/);
  });

  test(
    'names every Docker object after the stack, so two stacks never collide',
    async () => {
      const dockerNames = async (stack: string) => {
        const { resources } = stack === 'dev' ? await defaultRun() : await runProgram({ stack });
        return resources
          .filter((r) => [TYPES.container, TYPES.network, TYPES.volume].includes(r.type as never))
          .map((r) => r.inputs.name as string);
      };
      // One after the other: each run owns the SDK's global state while it lasts.
      const dev = await dockerNames('dev');
      const prod = await dockerNames('prod');
      expect(dev.every((n) => n.startsWith('sentiment-dev-'))).toBe(true);
      expect(prod.every((n) => n.startsWith('sentiment-prod-'))).toBe(true);
      expect(dev.filter((n) => prod.includes(n))).toEqual([]);
    },
    MULTI_RUN_TIMEOUT,
  );
});

describe('the air-gapped stack (Pulumi.airgap.yaml)', () => {
  test(
    'runs the local images it selects, the API image prebuilt, and no Grafana at all',
    async () => {
      const file = parse(readFileSync(path.join(__dirname, '../../Pulumi.airgap.yaml'), 'utf8')) as {
        config: Record<string, unknown>;
      };
      const config = Object.fromEntries(
        Object.entries(file.config).map(([key, value]) => [
          key.replace('sentiment-gateway:', ''),
          String(value),
        ]),
      );
      const { resources, outputs } = await runProgram({ config, stack: 'airgap' });

      expect(resources.filter((r) => /grafana/.test(r.name))).toEqual([]);
      expect(resources.filter((r) => r.type === TYPES.image)).toEqual([]);
      expect(Object.keys(outputs.urls).sort()).toEqual(['alertmanager', 'gateway', 'http', 'prometheus']);
      expect(outputs.grafanaPassword).toBeUndefined();

      const pulled = (name: string) => find(resources, TYPES.remoteImage, name).inputs.name;
      const p = 'sentiment-airgap';
      expect({
        api: pulled(`${p}-api`),
        nginx: pulled(`${p}-gateway-nginx-image`),
        nginxExporter: pulled(`${p}-gateway-exporter-image`),
        prometheus: pulled(`${p}-monitoring-prometheus-image`),
        alertmanager: pulled(`${p}-monitoring-alertmanager-image`),
        gatewayMetrics: pulled(`${p}-monitoring-gateway-metrics-image`),
      }).toEqual({
        api: config.apiImage,
        nginx: config.nginxImage,
        nginxExporter: config.nginxExporterImage,
        prometheus: config.prometheusImage,
        alertmanager: config.alertmanagerImage,
        gatewayMetrics: config.gatewayMetricsImage,
      });
      for (const replica of [`${p}-api-v1-1`, `${p}-api-v1-2`, `${p}-api-v1-3`, `${p}-api-v2`]) {
        expect(container(resources, replica).inputs.image).toBe(
          mockOutputs(TYPES.remoteImage, `${p}-api`).imageId,
        );
      }
    },
    MULTI_RUN_TIMEOUT,
  );
});

describe('determinism', () => {
  test(
    'the same settings and mocked state render byte-identical uploads (no perpetual diff)',
    async () => {
      const snapshot = (resources: Recorded[]) => ({
        ...Object.fromEntries(containers(resources).map((c) => [c.name, unwrap(c.inputs)])),
        gateway: gatewayGenerationOf(resources),
      });
      const first = await defaultRun();
      const second = await runProgram();
      expect(JSON.stringify(snapshot(second.resources))).toBe(JSON.stringify(snapshot(first.resources)));
      // Guards the comparison itself: the files under test are really there.
      expect(gatewayGenerationOf(first.resources).files.length).toBe(4);
    },
    MULTI_RUN_TIMEOUT,
  );
});

describe('invalid settings', () => {
  test.each<{ config: Record<string, string>; error: RegExp }>([
    { config: { replicas: '0' }, error: /replicas must be an integer from 1 to 16 \(got 0\)/ },
    {
      config: { rateLimitPerSecond: '0' },
      error: /rateLimitPerSecond must be an integer from 1 to 100000 \(got 0\)/,
    },
    { config: { httpsPort: '70000' }, error: /httpsPort must be an integer from 1 to 65535 \(got 70000\)/ },
    { config: { apiUser: 'bad name' }, error: /apiUser must be 1-64 letters/ },
    { config: { grafanaImage: 'grafana/grafana:latest' }, error: /grafanaImage must be pinned/ },
  ])('fail the program with a message naming the key: $config', async ({ config, error }) => {
    expect(await programError(config)).toMatch(error);
  });
});
