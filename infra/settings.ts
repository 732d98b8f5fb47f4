import { isIP } from 'node:net';
import * as pulumi from '@pulumi/pulumi';
import { resolveAlertmanagerSettings, type AlertReceiverOptions } from '../deployments/alertmanager/settings';
import { assertHtpasswdUser, MIN_PASSWORD_LENGTH } from '../deployments/nginx/htpasswd';

/** Host ports published on the bind address; nothing else is published. */
export interface HostPorts {
  /** Gateway HTTPS (default 8443). */
  https: number;
  /** Gateway HTTP, which only redirects to HTTPS (default 8080). */
  http: number;
  /** Grafana UI (default 3000). */
  grafana: number;
  /** Prometheus UI (default 9090). */
  prometheus: number;
  /** Alertmanager UI (default 9093). */
  alertmanager: number;
}

/** Pinned upstream images (`repo:tag` or `repo:tag@sha256:...`, never `latest`). */
export interface ImageVersions {
  nginx: string;
  nginxExporter: string;
  prometheus: string;
  alertmanager: string;
  grafana: string;
  /** mtail: the gateway's per-status metrics from the log file nginx writes for it. */
  gatewayMetrics: string;
}

/** The whole stack's settings, resolved and validated: what the components are built from. */
export interface StackSettings {
  /** Prefix of every Docker object name (containers, networks, volumes), so two stacks can share a host. */
  namePrefix: string;
  /** Number of `api-v1` replicas behind the gateway (default 3). */
  replicas: number;
  /** Host ports (see {@link HostPorts}). */
  hostPorts: HostPorts;
  /** Host address every published port binds to (default 127.0.0.1). */
  bindAddress: string;
  /** Per-client-IP request rate on `/predict`, requests per second (default 10). */
  rateLimitPerSecond: number;
  /** Requests allowed above the rate before 429 (default 20). */
  rateLimitBurst: number;
  /** Share of non-debug traffic sent to `api-v2`, in percent (default 0). */
  canaryPercent: number;
  /** Basic-auth user name for `/predict` (default `api`). */
  apiUser: string;
  /** User-supplied API password (a Pulumi secret); when absent a long random one is generated. */
  apiPassword: pulumi.Output<string> | undefined;
  /** Extra DNS names for the server certificate and `server_name`, beyond `localhost`. */
  serverNames: readonly string[];
  /** Memory limit of each API container, MiB (default 256). */
  apiMemoryMb: number;
  /** Upstream images (see {@link ImageVersions}). */
  images: ImageVersions;
  /**
   * A prebuilt API image to run (`repo:tag`, e.g. from `npm run airgap:images`); when absent (the
   * default) the program builds `services/api/Dockerfile`.
   */
  apiImage: string | undefined;
  /** Run Grafana (default true). Off where its image cannot be had, e.g. an air-gapped site. */
  grafana: boolean;
  /** Alertmanager receivers (webhook, e-mail); none by default: alerts stay visible in its UI and API. */
  alertReceivers: readonly AlertReceiverOptions[];
  /**
   * Credential files for the receivers (secret): file name -> content, mounted under
   * {@link ALERT_SECRETS_DIR}, where `bearerTokenFile` / `authPasswordFile` point.
   */
  alertSecretFiles: pulumi.Output<Record<string, string>> | undefined;
}

/** Where the Alertmanager container receives `alertSecretFiles`. */
export const ALERT_SECRETS_DIR = '/etc/alertmanager/secrets';

/** Unvalidated settings as read from config: every field optional, nothing resolved. */
export type PartialStackSettings = Partial<Omit<StackSettings, 'hostPorts' | 'images'>> & {
  hostPorts?: Partial<HostPorts>;
  images?: Partial<ImageVersions>;
};

/**
 * Default settings. Image versions are pinned; the tests run Debian's binaries, which are older
 * (nginx 1.22.1, prometheus/promtool 2.42, prometheus-nginx-exporter 0.11, alertmanager 0.25,
 * mtail 3.0.0~rc50), so rendered configs stick to directives and fields valid in both.
 */
export const DEFAULTS: Readonly<
  Omit<StackSettings, 'namePrefix' | 'apiPassword' | 'alertSecretFiles' | 'apiImage'>
> = Object.freeze({
  replicas: 3,
  hostPorts: Object.freeze({
    https: 8443,
    http: 8080,
    grafana: 3000,
    prometheus: 9090,
    alertmanager: 9093,
  }),
  bindAddress: '127.0.0.1',
  rateLimitPerSecond: 10,
  rateLimitBurst: 20,
  canaryPercent: 0,
  apiUser: 'api',
  serverNames: Object.freeze([]),
  apiMemoryMb: 256,
  images: Object.freeze({
    nginx: 'nginx:1.28.0-alpine',
    nginxExporter: 'nginx/nginx-prometheus-exporter:1.4.2',
    prometheus: 'prom/prometheus:v3.5.0',
    alertmanager: 'prom/alertmanager:v0.28.1',
    grafana: 'grafana/grafana:12.0.2',
    gatewayMetrics: 'ghcr.io/google/mtail:3.0.8',
  }),
  grafana: true,
  alertReceivers: Object.freeze([]),
});

/**
 * Config keys, as written in `Pulumi.<stack>.yaml` without the project prefix. Error messages
 * name these keys so a user knows exactly which line to fix.
 */
export const CONFIG_KEYS = {
  namePrefix: 'namePrefix',
  replicas: 'replicas',
  hostPorts: {
    https: 'httpsPort',
    http: 'httpPort',
    grafana: 'grafanaPort',
    prometheus: 'prometheusPort',
    alertmanager: 'alertmanagerPort',
  },
  bindAddress: 'bindAddress',
  rateLimitPerSecond: 'rateLimitPerSecond',
  rateLimitBurst: 'rateLimitBurst',
  canaryPercent: 'canaryPercent',
  apiUser: 'apiUser',
  apiPassword: 'apiPassword',
  serverNames: 'serverNames',
  apiMemoryMb: 'apiMemoryMb',
  images: {
    nginx: 'nginxImage',
    nginxExporter: 'nginxExporterImage',
    prometheus: 'prometheusImage',
    alertmanager: 'alertmanagerImage',
    grafana: 'grafanaImage',
    gatewayMetrics: 'gatewayMetricsImage',
  },
  apiImage: 'apiImage',
  grafana: 'grafana',
  alertReceivers: 'alertReceivers',
  alertSecretFiles: 'alertSecretFiles',
} as const;

/** Thrown for an invalid setting; the message names the config key and the rule. */
export class SettingsError extends Error {
  constructor(
    readonly key: string,
    rule: string,
    got: unknown,
  ) {
    super(`${key} ${rule} (got ${JSON.stringify(got)})`);
    this.name = 'SettingsError';
  }
}

const MAX_REPLICAS = 16;
/** A safe Docker object name prefix: lower-case, digits, dashes; short enough for every suffix. */
const NAME_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** A file name under ALERT_SECRETS_DIR. */
const SECRET_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** `repo[:tag][@sha256:digest]`; the tag-or-digest requirement is checked separately. */
const IMAGE_REF =
  /^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function integerIn(key: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SettingsError(key, `must be an integer from ${min} to ${max}`, value);
  }
  return value;
}

function isDnsName(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => DNS_LABEL.test(label));
}

function imageRef(key: string, ref: string): string {
  if (!IMAGE_REF.test(ref)) {
    throw new SettingsError(key, 'must be an image reference like repo:tag or repo:tag@sha256:<digest>', ref);
  }
  const tag = /:([^:@/]+)(?:@|$)/.exec(ref)?.[1];
  const pinnedByDigest = ref.includes('@sha256:');
  if (!pinnedByDigest && (tag === undefined || tag === 'latest')) {
    throw new SettingsError(key, 'must be pinned to a version tag or digest, never latest', ref);
  }
  return ref;
}

/**
 * Applies {@link DEFAULTS} to partial settings and validates every field, returning a new object.
 * Throws a {@link SettingsError} naming the config key on the first invalid value.
 */
export function resolveSettings(partial: PartialStackSettings): StackSettings {
  const ports = { ...DEFAULTS.hostPorts, ...partial.hostPorts };
  const images = { ...DEFAULTS.images, ...partial.images };
  const namePrefix = partial.namePrefix ?? 'sentiment';
  if (!NAME_PREFIX.test(namePrefix)) {
    throw new SettingsError(
      CONFIG_KEYS.namePrefix,
      'must be 1-40 lower-case letters, digits or dashes, starting and ending with a letter or digit',
      namePrefix,
    );
  }

  const hostPorts = {} as HostPorts;
  const seen = new Map<number, string>();
  for (const field of Object.keys(ports) as (keyof HostPorts)[]) {
    const key = CONFIG_KEYS.hostPorts[field];
    const port = integerIn(key, ports[field], 1, 65535);
    const other = seen.get(port);
    if (other !== undefined) throw new SettingsError(key, `must differ from ${other}`, port);
    seen.set(port, key);
    hostPorts[field] = port;
  }

  const bindAddress = partial.bindAddress ?? DEFAULTS.bindAddress;
  if (isIP(bindAddress) !== 4) {
    throw new SettingsError(
      CONFIG_KEYS.bindAddress,
      'must be an IPv4 address such as 127.0.0.1',
      bindAddress,
    );
  }

  const canaryPercent = partial.canaryPercent ?? DEFAULTS.canaryPercent;
  // split_clients takes percentages with at most two decimals.
  if (
    !Number.isFinite(canaryPercent) ||
    canaryPercent < 0 ||
    canaryPercent > 100 ||
    Math.round(canaryPercent * 100) !== canaryPercent * 100
  ) {
    throw new SettingsError(
      CONFIG_KEYS.canaryPercent,
      'must be a percentage from 0 to 100 with at most two decimals',
      canaryPercent,
    );
  }

  const apiUser = partial.apiUser ?? DEFAULTS.apiUser;
  try {
    assertHtpasswdUser(apiUser);
  } catch {
    throw new SettingsError(
      CONFIG_KEYS.apiUser,
      'must be 1-64 letters, digits, dots, dashes or underscores',
      apiUser,
    );
  }

  const serverNames: readonly unknown[] = [...(partial.serverNames ?? DEFAULTS.serverNames)];
  for (const name of serverNames) {
    if (typeof name !== 'string' || !isDnsName(name)) {
      throw new SettingsError(
        CONFIG_KEYS.serverNames,
        'must list lower-case DNS names such as api.example.com',
        name,
      );
    }
  }
  if (new Set(serverNames).size !== serverNames.length) {
    throw new SettingsError(CONFIG_KEYS.serverNames, 'must not repeat a name', serverNames);
  }

  const alertReceivers = [...(partial.alertReceivers ?? DEFAULTS.alertReceivers)];
  try {
    resolveAlertmanagerSettings({ receivers: alertReceivers });
  } catch (error) {
    throw new SettingsError(
      CONFIG_KEYS.alertReceivers,
      `is invalid: ${(error as Error).message}`,
      alertReceivers,
    );
  }
  const credentialFiles = alertReceivers.flatMap((r, i) => {
    const [field, file] =
      r.kind === 'webhook'
        ? ['bearerTokenFile', r.bearerTokenFile]
        : ['authPasswordFile', r.authPasswordFile];
    if (file === undefined) return [];
    const name = file.slice(ALERT_SECRETS_DIR.length + 1);
    if (!file.startsWith(`${ALERT_SECRETS_DIR}/`) || !SECRET_FILE_NAME.test(name)) {
      throw new SettingsError(
        `${CONFIG_KEYS.alertReceivers}[${i}].${field}`,
        `must be ${ALERT_SECRETS_DIR}/<name>, <name> being a key of ${CONFIG_KEYS.alertSecretFiles}`,
        file,
      );
    }
    return [name];
  });
  if (credentialFiles.length > 0 && partial.alertSecretFiles === undefined) {
    throw new SettingsError(
      CONFIG_KEYS.alertSecretFiles,
      `must provide the receivers' credential files (set it with --secret)`,
      credentialFiles,
    );
  }

  const resolvedImages = {} as ImageVersions;
  for (const field of Object.keys(images) as (keyof ImageVersions)[]) {
    resolvedImages[field] = imageRef(CONFIG_KEYS.images[field], images[field]);
  }

  return {
    namePrefix,
    replicas: integerIn(CONFIG_KEYS.replicas, partial.replicas ?? DEFAULTS.replicas, 1, MAX_REPLICAS),
    hostPorts,
    bindAddress,
    rateLimitPerSecond: integerIn(
      CONFIG_KEYS.rateLimitPerSecond,
      partial.rateLimitPerSecond ?? DEFAULTS.rateLimitPerSecond,
      1,
      100_000,
    ),
    rateLimitBurst: integerIn(
      CONFIG_KEYS.rateLimitBurst,
      partial.rateLimitBurst ?? DEFAULTS.rateLimitBurst,
      0,
      100_000,
    ),
    canaryPercent,
    apiUser,
    apiPassword: partial.apiPassword?.apply((password) => checkPassword(password)),
    serverNames: serverNames as string[],
    apiMemoryMb: integerIn(CONFIG_KEYS.apiMemoryMb, partial.apiMemoryMb ?? DEFAULTS.apiMemoryMb, 64, 8192),
    images: resolvedImages,
    apiImage: partial.apiImage === undefined ? undefined : imageRef(CONFIG_KEYS.apiImage, partial.apiImage),
    grafana: partial.grafana ?? DEFAULTS.grafana,
    alertReceivers,
    alertSecretFiles: partial.alertSecretFiles?.apply((files) => checkSecretFiles(files, credentialFiles)),
  };
}

/** Validates the receivers' credential files by name only: their contents never reach a message. */
function checkSecretFiles(
  files: Record<string, string>,
  required: readonly string[],
): Record<string, string> {
  const key = CONFIG_KEYS.alertSecretFiles;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) {
    throw new Error(`${key} must be a map of file name to content`);
  }
  for (const [name, content] of Object.entries(files)) {
    if (!SECRET_FILE_NAME.test(name) || typeof content !== 'string' || content.length === 0) {
      throw new Error(
        `${key} must map file names (letters, digits, . _ -) to non-empty text (bad entry ${JSON.stringify(name)})`,
      );
    }
  }
  const missing = required.filter((name) => !(name in files));
  if (missing.length > 0) {
    throw new Error(
      `${key} has no ${missing.map((m) => JSON.stringify(m)).join(', ')}, which alertReceivers reference`,
    );
  }
  return files;
}

/**
 * Validates a user-supplied password without ever putting it in the message. The gateway's fast
 * salted `{SSHA}` hash is only safe for long passwords (FACTS.md, htpasswd cost).
 */
function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD_LENGTH || /[\s:]/.test(password)) {
    throw new Error(
      `${CONFIG_KEYS.apiPassword} must be at least ${MIN_PASSWORD_LENGTH} characters with no whitespace or ':' ` +
        `(got ${password.length} characters); omit it to generate a random one`,
    );
  }
  return password;
}

/**
 * Reads the stack settings from Pulumi config (`Pulumi.<stack>.yaml`), applies the defaults and
 * validates them. The API password is read as a secret. `stack` names the default {@link
 * StackSettings.namePrefix} (`sentiment-<stack>`).
 */
export function loadSettings(config: pulumi.Config, stack: string): StackSettings {
  const number = (key: string): number | undefined => config.getNumber(key);
  const ports: Partial<HostPorts> = {};
  for (const field of Object.keys(CONFIG_KEYS.hostPorts) as (keyof HostPorts)[]) {
    const value = number(CONFIG_KEYS.hostPorts[field]);
    if (value !== undefined) ports[field] = value;
  }
  const images: Partial<ImageVersions> = {};
  for (const field of Object.keys(CONFIG_KEYS.images) as (keyof ImageVersions)[]) {
    const value = config.get(CONFIG_KEYS.images[field]);
    if (value !== undefined) images[field] = value;
  }
  const serverNames = config.getObject<unknown>(CONFIG_KEYS.serverNames);
  if (serverNames !== undefined && !Array.isArray(serverNames)) {
    throw new SettingsError(CONFIG_KEYS.serverNames, 'must be a list of DNS names', serverNames);
  }
  const alertReceivers = config.getObject<unknown>(CONFIG_KEYS.alertReceivers);
  if (alertReceivers !== undefined && !Array.isArray(alertReceivers)) {
    throw new SettingsError(CONFIG_KEYS.alertReceivers, 'must be a list of receivers', alertReceivers);
  }
  return resolveSettings({
    namePrefix:
      config.get(CONFIG_KEYS.namePrefix) ?? `sentiment-${stack.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`,
    replicas: number(CONFIG_KEYS.replicas),
    hostPorts: ports,
    bindAddress: config.get(CONFIG_KEYS.bindAddress),
    rateLimitPerSecond: number(CONFIG_KEYS.rateLimitPerSecond),
    rateLimitBurst: number(CONFIG_KEYS.rateLimitBurst),
    canaryPercent: number(CONFIG_KEYS.canaryPercent),
    apiUser: config.get(CONFIG_KEYS.apiUser),
    apiPassword: config.getSecret(CONFIG_KEYS.apiPassword),
    serverNames: serverNames as string[] | undefined,
    apiMemoryMb: number(CONFIG_KEYS.apiMemoryMb),
    images,
    apiImage: config.get(CONFIG_KEYS.apiImage),
    grafana: config.getBoolean(CONFIG_KEYS.grafana),
    alertReceivers: alertReceivers as AlertReceiverOptions[] | undefined,
    alertSecretFiles: config.getSecretObject<Record<string, string>>(CONFIG_KEYS.alertSecretFiles),
  });
}
