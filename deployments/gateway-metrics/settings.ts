/**
 * Gateway per-status metrics: why mtail, and its typed settings.
 *
 * nginx's stub_status (nginx-prometheus-exporter) has no status codes, and nginx answers 429 and
 * 502/503/504 itself, so those never reach the API's metrics. nginx therefore sends one short line
 * per request to mtail over syslog (UDP), and mtail turns the lines into Prometheus counters and a
 * latency histogram. mtail is a Debian package (3.0.0~rc50) and an image (ghcr.io/google/mtail).
 * Syslog rather than a shared log file: no volume shared between containers, no file to rotate,
 * and a stopped mtail never blocks or fills nginx (datagrams are dropped, requests still served).
 */
import { API_ROUTES, GATEWAY_PATHS, PORTS } from '../names';
import {
  assertArray,
  assertHostPort,
  assertMatches,
  assertNumber,
  assertUnique,
} from '../prometheus/validate';

/** What nginx must log, and where: the contract between the nginx renderer and the mtail program. */
export const METRICS_LOG = {
  /** `log_format` name. */
  formatName: 'gateway_metrics',
  /**
   * The `log_format` text; nginx must end it with a newline (`\n` escape in the quoted string):
   * mtail 3.0.0~rc50 splits datagrams into lines on `\n` only.
   */
  format: 'status=$status request_time=$request_time request_uri=$request_uri',
} as const;

/** Resolved settings of the mtail program and of nginx's `access_log syslog:` target. */
export interface GatewayMetricsSettings {
  /** Paths counted under their own `route` label; every other path is `other` (bounded cardinality). */
  readonly routes: readonly string[];
  /** Upper bounds (seconds) of the request-duration histogram buckets, increasing. */
  readonly durationBuckets: readonly number[];
  /** syslog tag nginx puts on each line (nginx allows letters, digits and `_`, up to 32). */
  readonly syslogTag: string;
  /** `host:port` mtail listens on for syslog datagrams, as nginx reaches it. */
  readonly syslogServer: string;
}

/** Partial settings accepted by `resolveGatewayMetricsSettings`. */
export type GatewayMetricsOptions = Partial<GatewayMetricsSettings>;

/** Defaults (Docker deployment addresses). Never mutated. */
export const DEFAULT_GATEWAY_METRICS_SETTINGS: GatewayMetricsSettings = Object.freeze({
  routes: Object.freeze([API_ROUTES.predict, GATEWAY_PATHS.health, API_ROUTES.docs, API_ROUTES.openapi]),
  durationBuckets: Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  syslogTag: 'sg_gateway',
  syslogServer: `gateway-metrics:${PORTS.gatewayMetricsSyslog}`,
});

const ROUTE = /^\/[A-Za-z0-9._~/-]*$/;

/** Applies the defaults to `options` and validates; returns a new object. */
export function resolveGatewayMetricsSettings(options: GatewayMetricsOptions = {}): GatewayMetricsSettings {
  const d = DEFAULT_GATEWAY_METRICS_SETTINGS;
  const routes = assertArray(options.routes ?? d.routes, 'routes').map((r, i) =>
    assertMatches(r, `routes[${i}]`, ROUTE, 'a path like /predict (letters, digits, . _ ~ / -)'),
  );
  assertUnique(routes, (r) => r, 'routes');
  const durationBuckets = assertArray(options.durationBuckets ?? d.durationBuckets, 'durationBuckets').map(
    (b, i) => assertNumber(b, `durationBuckets[${i}]`, { min: 0, max: 3600, exclusiveMin: true }),
  );
  if (
    durationBuckets.length === 0 ||
    durationBuckets.some((b, i) => i > 0 && b <= (durationBuckets[i - 1] ?? 0))
  ) {
    throw new Error(
      `durationBuckets must be a non-empty, strictly increasing list (got ${JSON.stringify(durationBuckets)})`,
    );
  }
  return {
    routes,
    durationBuckets,
    syslogTag: assertMatches(
      options.syslogTag ?? d.syslogTag,
      'syslogTag',
      /^[A-Za-z0-9_]{1,32}$/,
      'letters, digits or _ (at most 32)',
    ),
    syslogServer: assertHostPort(options.syslogServer ?? d.syslogServer, 'syslogServer'),
  };
}
