/**
 * Gateway per-status metrics: why mtail, and its typed settings.
 *
 * nginx's stub_status (nginx-prometheus-exporter) has no status codes, and nginx answers 429 and
 * 502/503/504 itself, so those never reach the API's metrics. nginx therefore writes one short line
 * per request to a dedicated access log that mtail tails, and mtail turns the lines into Prometheus
 * counters and a latency histogram. mtail is a Debian package (3.0.0~rc50) and an image
 * (ghcr.io/google/mtail); in Docker the log file sits on a volume shared by nginx and mtail.
 *
 * A file, not syslog/UDP, is the transport: Debian's mtail 3.0.0~rc50 reads one UDP datagram per
 * poll interval (measured: about 4 lines/s, the rest dropped under a burst), while it tails a file at
 * well over 10,000 lines/s and follows truncation, so the local stack, the Docker deployment and the
 * real-binary tests all use the file.
 */
import { API_ROUTES, GATEWAY_PATHS } from '../names';
import {
  assertAbsolutePath,
  assertArray,
  assertMatches,
  assertNumber,
  assertUnique,
} from '../prometheus/validate';

/** What nginx must log, and where: the contract between the nginx renderer and the mtail program. */
export const METRICS_LOG = {
  /** `log_format` name. */
  formatName: 'gateway_metrics',
  /** The `log_format` text (nginx ends each line with a newline). */
  format: 'status=$status request_time=$request_time request_uri=$request_uri',
} as const;

/** Resolved settings of the mtail program and of the log file nginx writes for it. */
export interface GatewayMetricsSettings {
  /** The metrics log file, as mtail sees it (nginx writes the same file through a shared volume). */
  readonly logPath: string;
  /** Paths counted under their own `route` label; every other path is `other` (bounded cardinality). */
  readonly routes: readonly string[];
  /** Upper bounds (seconds) of the request-duration histogram buckets, increasing. */
  readonly durationBuckets: readonly number[];
}

/** Partial settings accepted by `resolveGatewayMetricsSettings`. */
export type GatewayMetricsOptions = Partial<GatewayMetricsSettings>;

/** Defaults (Docker deployment addresses). Never mutated. */
export const DEFAULT_GATEWAY_METRICS_SETTINGS: GatewayMetricsSettings = Object.freeze({
  logPath: '/var/log/gateway-metrics/metrics.log',
  routes: Object.freeze([API_ROUTES.predict, GATEWAY_PATHS.health, API_ROUTES.docs, API_ROUTES.openapi]),
  durationBuckets: Object.freeze([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
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
    logPath: assertAbsolutePath(options.logPath ?? d.logPath, 'logPath'),
    routes,
    durationBuckets,
  };
}
