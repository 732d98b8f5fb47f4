import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse } from 'yaml';
import {
  CONFIG_KEYS,
  DEFAULTS,
  loadSettings,
  resolveSettings,
  type StackSettings,
} from '../../infra/settings';
import { PROJECT } from './harness';

/** loadSettings over a config map given without the project prefix (values as Pulumi stores them: strings). */
function load(config: Record<string, string>, secretKeys: string[] = []): StackSettings {
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`${PROJECT}:${k}`, v])),
    secretKeys.map((k) => `${PROJECT}:${k}`),
  );
  return loadSettings(new pulumi.Config(PROJECT), 'dev');
}

/**
 * The Output's value or its failure. Uses the Output's internal promises: the only way to observe an
 * error raised inside apply, and each must be handled or Node ends the process on the rejection.
 */
function settle<T>(output: pulumi.Output<T>): Promise<T> {
  const internal = output as unknown as {
    promise(): Promise<T>;
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
  };
  internal.isKnown.catch(() => undefined);
  internal.isSecret.catch(() => undefined);
  return internal.promise();
}

describe('loadSettings', () => {
  test('resolves an empty stack config to the documented defaults', () => {
    const { apiPassword, alertSecretFiles, ...settings } = load({});
    expect(apiPassword).toBeUndefined();
    expect(alertSecretFiles).toBeUndefined();
    expect(settings).toEqual({
      namePrefix: 'sentiment-dev',
      replicas: 3,
      hostPorts: { https: 8443, http: 8080, grafana: 3000, prometheus: 9090, alertmanager: 9093 },
      bindAddress: '127.0.0.1',
      rateLimitPerSecond: 10,
      rateLimitBurst: 20,
      canaryPercent: 0,
      apiUser: 'api',
      serverNames: [],
      apiMemoryMb: 256,
      images: DEFAULTS.images,
      apiImage: undefined,
      grafana: true,
      alertReceivers: [],
    });
  });

  test('Pulumi.dev.yaml spells out exactly the defaults, with keys loadSettings reads', () => {
    const file = parse(readFileSync(join(__dirname, '../../Pulumi.dev.yaml'), 'utf8')) as {
      config: Record<string, unknown>;
    };
    const config = Object.fromEntries(
      Object.entries(file.config).map(([key, value]) => [key.replace(`${PROJECT}:`, ''), String(value)]),
    );
    const allKeys = [
      ...Object.values(CONFIG_KEYS).flatMap((k) => (typeof k === 'string' ? [k] : Object.values(k))),
    ];
    expect(Object.keys(config).filter((key) => !allKeys.includes(key as never))).toEqual([]);
    expect(load(config)).toEqual(load({}));
  });

  test('reads every key from config', () => {
    const settings = load({
      namePrefix: 'demo',
      replicas: '5',
      httpsPort: '443',
      httpPort: '80',
      grafanaPort: '3300',
      prometheusPort: '9190',
      alertmanagerPort: '9193',
      bindAddress: '0.0.0.0',
      rateLimitPerSecond: '50',
      rateLimitBurst: '0',
      canaryPercent: '12.5',
      apiUser: 'client.app',
      serverNames: '["api.example.com","gw.example.com"]',
      apiMemoryMb: '512',
      nginxImage: 'nginx:1.28.0',
      nginxExporterImage: `nginx/nginx-prometheus-exporter@sha256:${'a'.repeat(64)}`,
      prometheusImage: 'prom/prometheus:v3.5.0',
      alertmanagerImage: 'quay.io/prometheus/alertmanager:v0.28.1',
      grafanaImage: 'grafana/grafana:11.6.0',
      gatewayMetricsImage: 'ghcr.io/google/mtail:3.0.7',
      apiImage: 'sentiment-gateway/api:0.1.0',
      grafana: 'false',
    });
    expect(settings).toMatchObject({
      namePrefix: 'demo',
      replicas: 5,
      hostPorts: { https: 443, http: 80, grafana: 3300, prometheus: 9190, alertmanager: 9193 },
      bindAddress: '0.0.0.0',
      rateLimitPerSecond: 50,
      rateLimitBurst: 0,
      canaryPercent: 12.5,
      apiUser: 'client.app',
      serverNames: ['api.example.com', 'gw.example.com'],
      apiMemoryMb: 512,
      images: {
        nginx: 'nginx:1.28.0',
        nginxExporter: `nginx/nginx-prometheus-exporter@sha256:${'a'.repeat(64)}`,
        prometheus: 'prom/prometheus:v3.5.0',
        alertmanager: 'quay.io/prometheus/alertmanager:v0.28.1',
        grafana: 'grafana/grafana:11.6.0',
        gatewayMetrics: 'ghcr.io/google/mtail:3.0.7',
      },
      apiImage: 'sentiment-gateway/api:0.1.0',
      grafana: false,
    });
  });

  test('derives a Docker-safe name prefix from the stack name', () => {
    pulumi.runtime.setAllConfig({}, []);
    expect(loadSettings(new pulumi.Config(PROJECT), 'Team_Staging.1').namePrefix).toBe(
      'sentiment-team-staging-1',
    );
  });

  test('reads the API password as a secret', async () => {
    const settings = load({ apiPassword: 'a-user-supplied-password-123' }, ['apiPassword']);
    expect(settings.apiPassword).toBeDefined();
    expect(await pulumi.isSecret(settings.apiPassword!)).toBe(true);
    expect(await settle(settings.apiPassword!)).toBe('a-user-supplied-password-123');
  });

  test.each([
    { password: 'too-short', rule: /apiPassword must be at least 16 characters.*\(got 9 characters\)/ },
    { password: 'long-enough-but has-a-space', rule: /apiPassword .*no whitespace/ },
    { password: 'long-enough-but:has-a-colon', rule: /apiPassword .*':'/ },
  ])('rejects a user password breaking a rule without echoing it ($password)', async ({ password, rule }) => {
    const settings = load({ apiPassword: password }, ['apiPassword']);
    const error = await settle(settings.apiPassword!).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(rule);
    expect(error?.message).not.toContain(password);
  });

  test('reads Alertmanager receivers and their credential files (secret)', async () => {
    const receivers = [
      {
        kind: 'webhook',
        name: 'ops',
        url: 'https://hooks.example.com/alerts',
        bearerTokenFile: '/etc/alertmanager/secrets/ops-token',
      },
    ];
    const settings = load(
      {
        alertReceivers: JSON.stringify(receivers),
        alertSecretFiles: JSON.stringify({ 'ops-token': 'token-value-123' }),
      },
      ['alertSecretFiles'],
    );
    expect(settings.alertReceivers).toEqual(receivers);
    expect(await pulumi.isSecret(settings.alertSecretFiles!)).toBe(true);
    expect(await settle(settings.alertSecretFiles!)).toEqual({ 'ops-token': 'token-value-123' });
  });

  test('rejects credential files the receivers need but the secret map lacks, naming the file, not the content', async () => {
    const receivers = [
      {
        kind: 'webhook',
        name: 'ops',
        url: 'https://hooks.example.com/a',
        bearerTokenFile: '/etc/alertmanager/secrets/ops-token',
      },
    ];
    const settings = load(
      {
        alertReceivers: JSON.stringify(receivers),
        alertSecretFiles: JSON.stringify({ other: 'secret-content-xyz' }),
      },
      ['alertSecretFiles'],
    );
    const error = await settle(settings.alertSecretFiles!).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe('alertSecretFiles has no "ops-token", which alertReceivers reference');
    expect(() => load({ alertReceivers: JSON.stringify(receivers) })).toThrow(
      /alertSecretFiles must provide the receivers' credential files/,
    );
  });

  test.each([
    { key: 'replicas', value: '0', error: 'replicas must be an integer from 1 to 16 (got 0)' },
    { key: 'replicas', value: '2.5', error: 'replicas must be an integer from 1 to 16 (got 2.5)' },
    { key: 'replicas', value: '17', error: 'replicas must be an integer from 1 to 16 (got 17)' },
    {
      key: 'rateLimitPerSecond',
      value: '0',
      error: 'rateLimitPerSecond must be an integer from 1 to 100000 (got 0)',
    },
    {
      key: 'rateLimitBurst',
      value: '-1',
      error: 'rateLimitBurst must be an integer from 0 to 100000 (got -1)',
    },
    { key: 'httpsPort', value: '0', error: 'httpsPort must be an integer from 1 to 65535 (got 0)' },
    { key: 'httpPort', value: '65536', error: 'httpPort must be an integer from 1 to 65535 (got 65536)' },
    { key: 'grafanaPort', value: '8443', error: 'grafanaPort must differ from httpsPort (got 8443)' },
    {
      key: 'prometheusPort',
      value: '90.5',
      error: 'prometheusPort must be an integer from 1 to 65535 (got 90.5)',
    },
    { key: 'bindAddress', value: 'localhost', error: 'bindAddress must be an IPv4 address' },
    { key: 'bindAddress', value: '10.0.0.256', error: 'bindAddress must be an IPv4 address' },
    { key: 'canaryPercent', value: '101', error: 'canaryPercent must be a percentage from 0 to 100' },
    { key: 'canaryPercent', value: '-1', error: 'canaryPercent must be a percentage from 0 to 100' },
    {
      key: 'canaryPercent',
      value: '1.005',
      error: 'canaryPercent must be a percentage from 0 to 100 with at most two decimals',
    },
    { key: 'apiUser', value: 'bad name', error: 'apiUser must be 1-64 letters' },
    { key: 'apiUser', value: 'a:b', error: 'apiUser must be 1-64 letters' },
    { key: 'apiUser', value: '', error: 'apiUser must be 1-64 letters' },
    { key: 'serverNames', value: '["Bad_Name"]', error: 'serverNames must list lower-case DNS names' },
    { key: 'serverNames', value: '["a..b"]', error: 'serverNames must list lower-case DNS names' },
    { key: 'serverNames', value: '["x.example","x.example"]', error: 'serverNames must not repeat a name' },
    { key: 'serverNames', value: '"api.example.com"', error: 'serverNames must be a list of DNS names' },
    { key: 'namePrefix', value: 'Bad_Prefix', error: 'namePrefix must be 1-40 lower-case letters' },
    { key: 'namePrefix', value: 'trailing-', error: 'namePrefix must be 1-40 lower-case letters' },
    { key: 'apiMemoryMb', value: '32', error: 'apiMemoryMb must be an integer from 64 to 8192 (got 32)' },
    {
      key: 'apiImage',
      value: 'sentiment-gateway/api',
      error: 'apiImage must be pinned to a version tag or digest',
    },
    { key: 'apiImage', value: 'Bad/Image:1', error: 'apiImage must be an image reference' },
    {
      key: 'grafana',
      value: 'off',
      error: "'sentiment-gateway:grafana' value 'off' is not a valid boolean",
    },
    {
      key: 'nginxImage',
      value: 'nginx',
      error: 'nginxImage must be pinned to a version tag or digest, never latest',
    },
    { key: 'grafanaImage', value: 'grafana/grafana:latest', error: 'grafanaImage must be pinned' },
    {
      key: 'prometheusImage',
      value: 'prom/prometheus:v3;rm -rf',
      error: 'prometheusImage must be an image reference',
    },
    {
      key: 'alertReceivers',
      value: '[{"kind":"pager","name":"x"}]',
      error: 'alertReceivers is invalid: receivers[0].kind must be',
    },
    {
      key: 'alertReceivers',
      value: '[{"kind":"webhook","name":"x","url":"ftp://x"}]',
      error: 'alertReceivers is invalid: receivers[0].url',
    },
    {
      key: 'alertReceivers',
      value: '{"kind":"webhook"}',
      error: 'alertReceivers must be a list of receivers',
    },
    {
      key: 'alertReceivers',
      value: '[{"kind":"webhook","name":"x","url":"https://h.example/a","bearerTokenFile":"/run/token"}]',
      error: 'alertReceivers[0].bearerTokenFile must be /etc/alertmanager/secrets/<name>',
    },
    {
      key: 'replicas',
      value: 'three',
      error: "Configuration 'sentiment-gateway:replicas' value 'three' is not a valid number",
    },
  ])('rejects $key = $value with a message naming the key', ({ key, value, error }) => {
    expect(() => load({ [key]: value })).toThrow(error);
  });
});

describe('resolveSettings', () => {
  test('never mutates DEFAULTS or the caller object', () => {
    const partial = { hostPorts: { https: 9443 }, images: { nginx: 'nginx:1.27.5' } };
    const frozenCopy = JSON.parse(JSON.stringify(partial)) as typeof partial;
    const defaultsBefore = JSON.stringify(DEFAULTS);
    const resolved = resolveSettings(partial);
    resolved.hostPorts.http = 1;
    resolved.images.grafana = 'changed:1';
    expect(partial).toEqual(frozenCopy);
    expect(JSON.stringify(DEFAULTS)).toBe(defaultsBefore);
    expect(resolveSettings({}).hostPorts.http).toBe(DEFAULTS.hostPorts.http);
  });

  test('keeps an explicit 0 (?? not ||): a burst of 0 stays 0', () => {
    expect(resolveSettings({ rateLimitBurst: 0 }).rateLimitBurst).toBe(0);
    expect(resolveSettings({ canaryPercent: 0 }).canaryPercent).toBe(0);
  });

  test('pins every default image to a version (no latest, no bare name)', () => {
    for (const ref of Object.values(DEFAULTS.images)) {
      expect(ref).toMatch(/:[^:/]+$/);
      expect(ref).not.toMatch(/:latest$/);
    }
  });
});
