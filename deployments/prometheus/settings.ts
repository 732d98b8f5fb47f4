/**
 * Typed settings for the Prometheus config and its alert rules: types, defaults, resolution.
 *
 * Every scrape address is a setting: the Pulumi program passes container names (`api-v1-1:8000`),
 * the local stack passes `127.0.0.1:<port>`, and the renderers never write an address themselves.
 */
import { API_VARIANTS, type ApiVariant, PORTS, SERVICE } from '../names';
import {
  assertArray,
  assertDuration,
  assertHostPort,
  assertLabelName,
  assertMatches,
  assertNumber,
  assertText,
  assertUnique,
  durationMs,
} from './validate';

/** One API replica as Prometheus scrapes it; `replica` and `version` become target labels. */
export interface ApiTarget {
  /** `host:port` of the replica's HTTP server (its `/metrics` is scraped). */
  readonly address: string;
  /** Replica name, e.g. `api-v1-2`: the `replica` label. */
  readonly replica: string;
  /** API variant: the `version` label. */
  readonly version: ApiVariant;
}

/** Every scrape target, as `host:port`. */
export interface PrometheusTargets {
  /** The API replicas (at least one v1). */
  readonly api: readonly ApiTarget[];
  /** nginx-prometheus-exporter. Default `nginx-exporter:9113`. */
  readonly nginxExporter: string;
  /** mtail's HTTP port (gateway per-status metrics). Default `gateway-metrics:3903`. */
  readonly gatewayMetrics: string;
  /** Prometheus itself. Default `localhost:9090`. */
  readonly prometheus: string;
  /** Alertmanager: scraped, and the alerts' destination. Default `alertmanager:9093`. */
  readonly alertmanager: string;
}

/** Resolved settings of `renderPrometheusConfig`. */
export interface PrometheusSettings {
  readonly targets: PrometheusTargets;
  /** Default `15s`. */
  readonly scrapeInterval: string;
  /** Default `10s`; at most `scrapeInterval`. */
  readonly scrapeTimeout: string;
  /** How often rules are evaluated. Default `15s`. */
  readonly evaluationInterval: string;
  /** Rule files, relative to the config file's directory or absolute. Default `["alerts.yml"]`. */
  readonly ruleFiles: readonly string[];
  /** Labels added to every alert and remote series. Default `{ stack: "sentiment-gateway" }`. */
  readonly externalLabels: Readonly<Record<string, string>>;
}

/** A threshold alert: fires when the value stays above `threshold` for `for`. */
export interface ThresholdAlert {
  readonly threshold: number;
  readonly for: string;
}

/** Resolved settings of `renderAlertRules`. */
export interface AlertRuleSettings {
  /** `rate()` window of the ratio and latency alerts. Default `5m`. */
  readonly rateWindow: string;
  /** Any scrape target down for this long. Default `2m`. */
  readonly targetDownFor: string;
  /** One v1 replica down for this long. Default `1m`. */
  readonly apiV1ReplicaDownFor: string;
  /** The v2 replica(s) down for this long. Default `2m`. */
  readonly apiV2DownFor: string;
  /** Share of gateway responses that are 5xx (0-1). Default above 0.01 for `5m`. */
  readonly gateway5xxRatio: ThresholdAlert;
  /** Share of gateway responses that are 429 (0-1). Default above 0.1 for `5m`. */
  readonly gatewayRateLimitedShare: ThresholdAlert;
  /** API p99 latency of `/predict`, in seconds. Default above 0.5 for `5m`. */
  readonly apiLatencyP99Seconds: ThresholdAlert;
}

/** Partial settings accepted by `resolvePrometheusSettings` (targets may be replaced whole or in part). */
export type PrometheusOptions = Partial<Omit<PrometheusSettings, 'targets'>> & {
  readonly targets?: Partial<PrometheusTargets>;
};

/** Partial settings accepted by `resolveAlertRuleSettings`. */
export type AlertRuleOptions = Partial<
  Omit<AlertRuleSettings, 'gateway5xxRatio' | 'gatewayRateLimitedShare' | 'apiLatencyP99Seconds'>
> & {
  readonly gateway5xxRatio?: Partial<ThresholdAlert>;
  readonly gatewayRateLimitedShare?: Partial<ThresholdAlert>;
  readonly apiLatencyP99Seconds?: Partial<ThresholdAlert>;
};

/** Replica names the Pulumi program gives its containers: `api-v1-1..N`, and `api-v2` (or `api-v2-1..M`). */
export function replicaName(version: ApiVariant, index: number, count: number): string {
  const base = version === 'v1' ? SERVICE.apiV1 : SERVICE.apiV2;
  return version === 'v2' && count === 1 ? base : `${base}-${index + 1}`;
}

/**
 * API targets from the addresses of each variant, named as the containers are.
 *
 * @example apiTargets({ v1: ['127.0.0.1:41001', '127.0.0.1:41002'], v2: ['127.0.0.1:41003'] })
 */
export function apiTargets(addresses: Readonly<Record<ApiVariant, readonly string[]>>): ApiTarget[] {
  return API_VARIANTS.flatMap((version) =>
    addresses[version].map((address, i, all) => ({
      address,
      version,
      replica: replicaName(version, i, all.length),
    })),
  );
}

/** Targets of the Docker deployment: container names on the backend network, container ports. */
export function containerTargets(v1Replicas: number, v2Replicas = 1): PrometheusTargets {
  assertNumber(v1Replicas, 'v1Replicas', { min: 1, max: 64 });
  assertNumber(v2Replicas, 'v2Replicas', { min: 0, max: 64 });
  const addresses = (version: ApiVariant, count: number): string[] =>
    Array.from({ length: count }, (_, i) => `${replicaName(version, i, count)}:${PORTS.api}`);
  return {
    api: apiTargets({ v1: addresses('v1', v1Replicas), v2: addresses('v2', v2Replicas) }),
    nginxExporter: `${SERVICE.nginxExporter}:${PORTS.nginxExporter}`,
    gatewayMetrics: `${SERVICE.gatewayMetrics}:${PORTS.gatewayMetrics}`,
    prometheus: `localhost:${PORTS.prometheus}`,
    alertmanager: `${SERVICE.alertmanager}:${PORTS.alertmanager}`,
  };
}

/** Defaults: the Docker deployment with 3 v1 replicas and 1 v2. Never mutated. */
export const DEFAULT_PROMETHEUS_SETTINGS: PrometheusSettings = Object.freeze({
  targets: Object.freeze(containerTargets(3)),
  scrapeInterval: '15s',
  scrapeTimeout: '10s',
  evaluationInterval: '15s',
  ruleFiles: Object.freeze(['alerts.yml']),
  externalLabels: Object.freeze({ stack: 'sentiment-gateway' }),
});

/** Default alert thresholds and durations. Never mutated. */
export const DEFAULT_ALERT_RULE_SETTINGS: AlertRuleSettings = Object.freeze({
  rateWindow: '5m',
  targetDownFor: '2m',
  apiV1ReplicaDownFor: '1m',
  apiV2DownFor: '2m',
  gateway5xxRatio: Object.freeze({ threshold: 0.01, for: '5m' }),
  gatewayRateLimitedShare: Object.freeze({ threshold: 0.1, for: '5m' }),
  apiLatencyP99Seconds: Object.freeze({ threshold: 0.5, for: '5m' }),
});

const REPLICA = /^[a-z0-9](?:[a-z0-9-]{0,62})$/;

function resolveTargets(options: Partial<PrometheusTargets> | undefined): PrometheusTargets {
  const d = DEFAULT_PROMETHEUS_SETTINGS.targets;
  const api = assertArray(options?.api ?? d.api, 'targets.api').map((t, i) => ({
    address: assertHostPort(t?.address, `targets.api[${i}].address`),
    replica: assertMatches(
      t?.replica,
      `targets.api[${i}].replica`,
      REPLICA,
      'a lowercase name like api-v1-1',
    ),
    version: assertMatches(t?.version, `targets.api[${i}].version`, /^(?:v1|v2)$/, 'v1 or v2') as ApiVariant,
  }));
  if (!api.some((t) => t.version === 'v1')) {
    throw new Error('targets.api must contain at least one v1 replica');
  }
  assertUnique(api, (t) => t.replica, 'targets.api[].replica');
  assertUnique(api, (t) => t.address, 'targets.api[].address');
  return {
    api,
    nginxExporter: assertHostPort(options?.nginxExporter ?? d.nginxExporter, 'targets.nginxExporter'),
    gatewayMetrics: assertHostPort(options?.gatewayMetrics ?? d.gatewayMetrics, 'targets.gatewayMetrics'),
    prometheus: assertHostPort(options?.prometheus ?? d.prometheus, 'targets.prometheus'),
    alertmanager: assertHostPort(options?.alertmanager ?? d.alertmanager, 'targets.alertmanager'),
  };
}

/** Applies the defaults to `options` and validates; returns a new object. */
export function resolvePrometheusSettings(options: PrometheusOptions = {}): PrometheusSettings {
  const d = DEFAULT_PROMETHEUS_SETTINGS;
  const scrapeInterval = assertDuration(options.scrapeInterval ?? d.scrapeInterval, 'scrapeInterval');
  const scrapeTimeout = assertDuration(options.scrapeTimeout ?? d.scrapeTimeout, 'scrapeTimeout');
  if (durationMs(scrapeTimeout, 'scrapeTimeout') > durationMs(scrapeInterval, 'scrapeInterval')) {
    throw new Error(
      `scrapeTimeout must not exceed scrapeInterval (got ${scrapeTimeout} > ${scrapeInterval})`,
    );
  }
  const ruleFiles = assertArray(options.ruleFiles ?? d.ruleFiles, 'ruleFiles').map((f, i) =>
    assertText(f, `ruleFiles[${i}]`),
  );
  const externalLabels = Object.fromEntries(
    Object.entries(options.externalLabels ?? d.externalLabels).map(([name, value]) => [
      assertLabelName(name, `externalLabels key ${JSON.stringify(name)}`),
      assertText(value, `externalLabels.${name}`),
    ]),
  );
  return {
    targets: resolveTargets(options.targets),
    scrapeInterval,
    scrapeTimeout,
    evaluationInterval: assertDuration(
      options.evaluationInterval ?? d.evaluationInterval,
      'evaluationInterval',
    ),
    ruleFiles,
    externalLabels,
  };
}

function resolveThreshold(
  options: Partial<ThresholdAlert> | undefined,
  defaults: ThresholdAlert,
  field: string,
  max: number,
): ThresholdAlert {
  return {
    threshold: assertNumber(options?.threshold ?? defaults.threshold, `${field}.threshold`, {
      min: 0,
      max,
      exclusiveMin: true,
    }),
    for: assertDuration(options?.for ?? defaults.for, `${field}.for`),
  };
}

/** Applies the default thresholds to `options` and validates; returns a new object. */
export function resolveAlertRuleSettings(options: AlertRuleOptions = {}): AlertRuleSettings {
  const d = DEFAULT_ALERT_RULE_SETTINGS;
  return {
    rateWindow: assertDuration(options.rateWindow ?? d.rateWindow, 'rateWindow'),
    targetDownFor: assertDuration(options.targetDownFor ?? d.targetDownFor, 'targetDownFor'),
    apiV1ReplicaDownFor: assertDuration(
      options.apiV1ReplicaDownFor ?? d.apiV1ReplicaDownFor,
      'apiV1ReplicaDownFor',
    ),
    apiV2DownFor: assertDuration(options.apiV2DownFor ?? d.apiV2DownFor, 'apiV2DownFor'),
    gateway5xxRatio: resolveThreshold(options.gateway5xxRatio, d.gateway5xxRatio, 'gateway5xxRatio', 1),
    gatewayRateLimitedShare: resolveThreshold(
      options.gatewayRateLimitedShare,
      d.gatewayRateLimitedShare,
      'gatewayRateLimitedShare',
      1,
    ),
    apiLatencyP99Seconds: resolveThreshold(
      options.apiLatencyP99Seconds,
      d.apiLatencyP99Seconds,
      'apiLatencyP99Seconds',
      3600,
    ),
  };
}
