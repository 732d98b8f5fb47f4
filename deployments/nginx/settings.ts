/**
 * Typed gateway settings: the defaults (the Docker deployment), and resolution + validation.
 *
 * Every address and path is a setting so one renderer serves the Pulumi program (container names)
 * and the local stack (127.0.0.1 ports, files under .stack/).
 */
import { GATEWAY_FILES, PORTS, SERVICE } from '../names';
import { hasControlChars, type TokenRule } from './directives';

/** Resolved gateway settings: the only input `renderNginxConf` accepts. */
export interface NginxSettings {
  /** v1 replicas as `host:port` (container names or 127.0.0.1 ports). Default api-v1-1..3:8000. */
  readonly v1Upstreams: readonly string[];
  /** v2 ("debug") replicas as `host:port`. Default api-v2:8000. */
  readonly v2Upstreams: readonly string[];
  /** HTTPS listener, `[address:]port`. Default 8443. */
  readonly httpsListen: string;
  /** HTTP listener that only redirects to HTTPS, `[address:]port`. Default 8080. */
  readonly httpListen: string;
  /** Internal stub_status listener, `[address:]port`; never publish it. Default 8081. */
  readonly statusListen: string;
  /** Addresses/CIDRs allowed to read stub_status. Default loopback + private ranges (the Docker network). */
  readonly statusAllow: readonly string[];
  /** Port clients use for HTTPS (the redirect target); differs from the listener behind a port mapping. */
  readonly publicHttpsPort: number;
  /** `server_name` values. Default `_` (any). */
  readonly serverNames: readonly string[];
  /** Status of the HTTP -> HTTPS redirect. 308 keeps the method and body of a POST. Default 308. */
  readonly redirectStatus: 301 | 308;
  /** PEM certificate (chain) path. */
  readonly certificatePath: string;
  /** PEM private key path (read by the master process only). */
  readonly certificateKeyPath: string;
  /** htpasswd path (read by the workers on every request: must be readable by `workerUser`). */
  readonly htpasswdPath: string;
  /**
   * DER CRL of the CA that signed the certificate, served over plain HTTP at `GATEWAY_PATHS.crl` (the
   * URL in the certificate's CRL distribution point). Default null: not served.
   */
  readonly crlPath: string | null;
  /** Basic-auth realm. Default "sentiment-gateway". */
  readonly authRealm: string;
  /** Proxy `/docs` and `/openapi.json` (behind basic auth). Default true. */
  readonly exposeDocs: boolean;
  /** Sustained requests per second per client IP on authenticated routes. Default 10. */
  readonly rateLimitPerSecond: number;
  /** Requests above the rate served at once before 429s start. Default 20. */
  readonly rateLimitBurst: number;
  /** Shared-memory zone size for the rate limiter (`10m` holds ~160k client addresses). */
  readonly rateLimitZoneSize: string;
  /** `Retry-After` value sent with 429, in seconds. Default 1. */
  readonly retryAfterSeconds: number;
  /** Share (0-100, two decimals) of non-debug requests sent to v2. Default 0. */
  readonly canaryPercent: number;
  /** Largest request body (`client_max_body_size`). Default 64k. */
  readonly clientMaxBodySize: string;
  /** `worker_processes`. Default auto. */
  readonly workerProcesses: number | 'auto';
  /** `worker_connections`. Default 1024. */
  readonly workerConnections: number;
  /** `user` the workers run as when the master is root; null omits the directive. Default nginx. */
  readonly workerUser: string | null;
  /** pid file path. */
  readonly pidPath: string;
  /** `error_log` target: `stderr` or an absolute path. Default stderr. */
  readonly errorLog: string;
  /** JSON access log path (`/dev/stdout` in Docker); null turns it off. */
  readonly accessLog: string | null;
  /**
   * Also write one line per request to the file at `path`, which mtail tails to export per-status
   * gateway metrics (see deployments/gateway-metrics). Default null (off).
   */
  readonly metricsLog: { readonly path: string } | null;
  /** Directory holding nginx's client-body/proxy temp directories (must be writable by the workers). */
  readonly tempDir: string;
  /** Idle keep-alive connections kept per worker to each upstream group. Default 32. */
  readonly upstreamKeepalive: number;
  /** Idle upstream connection lifetime; keep it below the API's keep-alive timeout so nginx closes first. */
  readonly upstreamKeepaliveTimeoutSeconds: number;
  /** Failures within `upstreamFailTimeoutSeconds` that take a replica out of rotation. Default 2. */
  readonly upstreamMaxFails: number;
  /** How long a failed replica stays out of rotation. Default 5. */
  readonly upstreamFailTimeoutSeconds: number;
  /** Attempts per request over the replicas (first try included). Default 3. */
  readonly proxyNextUpstreamTries: number;
  /** Time budget for those attempts. Default 5. */
  readonly proxyNextUpstreamTimeoutSeconds: number;
  /**
   * Connect timeout to a replica, ms. Default 500. A replica on the same host connects in well under
   * 1 ms; a stopped container leaves an address nothing answers on the Docker bridge, where a connect
   * waits out this timeout (1.0 s with nginx's former 1 s, measured by the end-to-end tests).
   */
  readonly proxyConnectTimeoutMs: number;
  /** Read/send timeout to a replica. Default 10. */
  readonly proxyReadTimeoutSeconds: number;
  /** HSTS max-age. Default two years. */
  readonly hstsMaxAgeSeconds: number;
  /**
   * Identifier of this rendered configuration (hex), answered by the status listener at
   * `GATEWAY_PATHS.configGeneration`: how a reload is confirmed applied. Default null (not served).
   */
  readonly configGeneration: string | null;
}

/** What callers pass: any subset of the settings; the rest comes from `DEFAULT_NGINX_SETTINGS`. */
export type NginxSettingsInput = Partial<NginxSettings>;

const DOCKER_V1_REPLICAS = 3;

/** Defaults: the Docker deployment (container names, official nginx image paths). */
export const DEFAULT_NGINX_SETTINGS: NginxSettings = Object.freeze({
  v1Upstreams: Object.freeze(
    Array.from({ length: DOCKER_V1_REPLICAS }, (_, i) => `${SERVICE.apiV1}-${i + 1}:${PORTS.api}`),
  ),
  v2Upstreams: Object.freeze([`${SERVICE.apiV2}:${PORTS.api}`]),
  httpsListen: String(PORTS.gatewayHttps),
  httpListen: String(PORTS.gatewayHttp),
  statusListen: String(PORTS.gatewayStatus),
  statusAllow: Object.freeze(['127.0.0.1', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']),
  publicHttpsPort: PORTS.gatewayHttps,
  serverNames: Object.freeze(['_']),
  redirectStatus: 308,
  certificatePath: GATEWAY_FILES.certificate,
  certificateKeyPath: GATEWAY_FILES.certificateKey,
  htpasswdPath: GATEWAY_FILES.htpasswd,
  crlPath: null,
  authRealm: 'sentiment-gateway',
  exposeDocs: true,
  rateLimitPerSecond: 10,
  rateLimitBurst: 20,
  rateLimitZoneSize: '10m',
  retryAfterSeconds: 1,
  canaryPercent: 0,
  clientMaxBodySize: '64k',
  workerProcesses: 'auto',
  workerConnections: 1024,
  workerUser: 'nginx',
  pidPath: '/var/run/nginx.pid',
  errorLog: 'stderr',
  accessLog: '/dev/stdout',
  metricsLog: null,
  tempDir: '/var/cache/nginx',
  upstreamKeepalive: 32,
  upstreamKeepaliveTimeoutSeconds: 4,
  upstreamMaxFails: 2,
  upstreamFailTimeoutSeconds: 5,
  proxyNextUpstreamTries: 3,
  proxyNextUpstreamTimeoutSeconds: 5,
  proxyConnectTimeoutMs: 500,
  proxyReadTimeoutSeconds: 10,
  hstsMaxAgeSeconds: 63_072_000,
  configGeneration: null,
} satisfies NginxSettings);

const IPV4 = String.raw`(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)`;
const HOSTNAME = String.raw`(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*`;
const IPV6_BRACKETED = String.raw`\[[0-9A-Fa-f:.]+\]`;
const PORT = String.raw`(?:6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|[1-9]\d{0,3})`;

/** Value rules shared by validation and the renderer's `assertToken` calls. */
export const RULES = {
  upstream: {
    pattern: new RegExp(`^(?:${IPV4}|${IPV6_BRACKETED}|(?:${HOSTNAME})):${PORT}$`),
    description: 'host:port (hostname, IPv4 or [IPv6], port 1-65535)',
  },
  listen: {
    pattern: new RegExp(`^(?:(?:${IPV4}|${IPV6_BRACKETED}|localhost):)?${PORT}$`),
    description: '[address:]port (IPv4, [IPv6] or localhost; port 1-65535)',
  },
  allow: {
    pattern: new RegExp(
      String.raw`^(?:${IPV4}(?:/(?:3[0-2]|[12]?\d))?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(?:/\d{1,3})?)$`,
    ),
    description: 'an IPv4/IPv6 address or CIDR',
  },
  serverName: {
    pattern: new RegExp(`^(?:_|(?:\\*\\.)?${HOSTNAME})$`),
    description: 'a hostname, *.domain or _',
  },
  size: { pattern: /^[1-9]\d{0,8}[km]?$/, description: 'a size such as 64k or 10m' },
  generation: { pattern: /^[0-9a-f]{1,64}$/, description: 'lowercase hex, 1 to 64 digits' },
  user: { pattern: /^[a-z_][a-z0-9_-]{0,31}$/, description: 'a system user name' },
} as const satisfies Record<string, TokenRule>;

type Check = (value: unknown, field: string) => string | undefined;

const show = (value: unknown): string => JSON.stringify(value) ?? String(value);

function integer(min: number, max: number): Check {
  return (value, field) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
      ? undefined
      : `${field} must be an integer from ${min} to ${max} (got ${show(value)})`;
}

function matches(rule: TokenRule): Check {
  return (value, field) =>
    typeof value === 'string' && rule.pattern.test(value)
      ? undefined
      : `${field} must be ${rule.description} (got ${show(value)})`;
}

// Paths end up quoted in the config; `$` and control characters cannot be quoted safely.
function absolutePath(value: unknown, field: string): string | undefined {
  return typeof value === 'string' && /^\/[^$]*$/.test(value) && !hasControlChars(value)
    ? undefined
    : `${field} must be an absolute path without "$" or control characters (got ${show(value)})`;
}

function plainText(value: unknown, field: string): string | undefined {
  return typeof value === 'string' && /^[^$"\\]{1,64}$/.test(value) && !hasControlChars(value)
    ? undefined
    : `${field} must be 1-64 characters without quotes, backslashes, "$" or control characters (got ${show(value)})`;
}

// nginx reads an auth_basic realm of "off" (quoted or not) as "no authentication"; case and
// surrounding spaces are refused too, to be safe.
function authRealm(value: unknown, field: string): string | undefined {
  if (typeof value === 'string' && value.trim().toLowerCase() === 'off') {
    return `${field} must not be "off": nginx reads that realm as "authentication off" (got ${show(value)})`;
  }
  return plainText(value, field);
}

function list(item: Check, { unique }: { unique: boolean }): Check {
  return (value, field) => {
    if (!Array.isArray(value) || value.length === 0) {
      return `${field} must be a non-empty list (got ${show(value)})`;
    }
    const itemErrors = value.map((v, i) => item(v, `${field}[${i}]`)).filter((e) => e !== undefined);
    if (itemErrors.length > 0) {
      return itemErrors.join('; ');
    }
    if (unique && new Set(value).size !== value.length) {
      return `${field} must not repeat an entry (got ${show(value)})`;
    }
    return undefined;
  };
}

function oneOf<T>(...allowed: T[]): Check {
  return (value, field) =>
    allowed.includes(value as T)
      ? undefined
      : `${field} must be one of ${allowed.map(show).join(', ')} (got ${show(value)})`;
}

function either(first: Check, second: Check, description: string): Check {
  return (value, field) =>
    first(value, field) === undefined || second(value, field) === undefined
      ? undefined
      : `${field} must be ${description} (got ${show(value)})`;
}

const orNull =
  (check: Check): Check =>
  (value, field) =>
    value === null ? undefined : check(value, field);

function canaryPercent(value: unknown, field: string): string | undefined {
  return typeof value === 'number' &&
    value >= 0 &&
    value <= 100 &&
    Math.abs(Math.round(value * 100) - value * 100) < 1e-9
    ? undefined
    : `${field} must be a number from 0 to 100 with at most two decimals (got ${show(value)})`;
}

function metricsLog(value: unknown, field: string): string | undefined {
  if (typeof value !== 'object' || value === null || !('path' in value) || Object.keys(value).length !== 1) {
    return `${field} must be null or { path } (got ${show(value)})`;
  }
  return absolutePath(value.path, `${field}.path`);
}

const CHECKS: { readonly [K in keyof NginxSettings]-?: Check } = {
  v1Upstreams: list(matches(RULES.upstream), { unique: true }),
  v2Upstreams: list(matches(RULES.upstream), { unique: true }),
  httpsListen: matches(RULES.listen),
  httpListen: matches(RULES.listen),
  statusListen: matches(RULES.listen),
  statusAllow: list(matches(RULES.allow), { unique: true }),
  publicHttpsPort: integer(1, 65535),
  serverNames: list(matches(RULES.serverName), { unique: true }),
  redirectStatus: oneOf(301, 308),
  certificatePath: absolutePath,
  certificateKeyPath: absolutePath,
  htpasswdPath: absolutePath,
  crlPath: orNull(absolutePath),
  authRealm,
  exposeDocs: oneOf(true, false),
  rateLimitPerSecond: integer(1, 100_000),
  rateLimitBurst: integer(0, 100_000),
  rateLimitZoneSize: matches(RULES.size),
  retryAfterSeconds: integer(1, 3600),
  canaryPercent,
  clientMaxBodySize: matches(RULES.size),
  workerProcesses: either(oneOf('auto'), integer(1, 64), '"auto" or an integer from 1 to 64'),
  workerConnections: integer(16, 65_535),
  workerUser: orNull(matches(RULES.user)),
  pidPath: absolutePath,
  errorLog: either(oneOf('stderr'), absolutePath, '"stderr" or an absolute path without "$"'),
  accessLog: orNull(absolutePath),
  metricsLog: orNull(metricsLog),
  tempDir: absolutePath,
  upstreamKeepalive: integer(1, 10_000),
  upstreamKeepaliveTimeoutSeconds: integer(1, 3600),
  upstreamMaxFails: integer(1, 100),
  upstreamFailTimeoutSeconds: integer(1, 3600),
  proxyNextUpstreamTries: integer(1, 100),
  proxyNextUpstreamTimeoutSeconds: integer(1, 3600),
  proxyConnectTimeoutMs: integer(50, 75_000),
  proxyReadTimeoutSeconds: integer(1, 3600),
  hstsMaxAgeSeconds: integer(0, 1_000_000_000),
  configGeneration: orNull(matches(RULES.generation)),
};

/** Port number of a `[address:]port` listen value. */
export function listenPort(listen: string): number {
  return Number(listen.slice(listen.lastIndexOf(':') + 1));
}

function crossFieldErrors(s: NginxSettings): string[] {
  const errors: string[] = [];
  const listens = [
    ['httpsListen', s.httpsListen],
    ['httpListen', s.httpListen],
    ['statusListen', s.statusListen],
  ] as const;
  for (let i = 0; i < listens.length; i++) {
    for (let j = i + 1; j < listens.length; j++) {
      const [a, av] = listens[i]!;
      const [b, bv] = listens[j]!;
      if (listenPort(av) === listenPort(bv)) {
        errors.push(`${a} and ${b} must use different ports (both ${listenPort(av)})`);
      }
    }
  }
  return errors;
}

/**
 * Applies defaults to `input` (with `??`) and validates every field.
 *
 * Returns a new frozen object; neither `input` nor `DEFAULT_NGINX_SETTINGS` is modified. Throws one
 * error listing every invalid field with its rule; unknown keys are rejected (they are typos).
 *
 * @example
 * resolveNginxSettings({ v1Upstreams: ['127.0.0.1:8001'], v2Upstreams: ['127.0.0.1:8002'], rateLimitBurst: 5 })
 */
export function resolveNginxSettings(input: NginxSettingsInput = {}): NginxSettings {
  const errors = Object.keys(input)
    .filter((key) => !(key in CHECKS))
    .map((key) => `unknown setting ${JSON.stringify(key)}`);
  const d = DEFAULT_NGINX_SETTINGS;
  const copyList = (value: readonly string[] | undefined, fallback: readonly string[]): readonly string[] =>
    Object.freeze([...(value ?? fallback)]);
  const resolved: NginxSettings = {
    v1Upstreams: copyList(input.v1Upstreams, d.v1Upstreams),
    v2Upstreams: copyList(input.v2Upstreams, d.v2Upstreams),
    httpsListen: input.httpsListen ?? d.httpsListen,
    httpListen: input.httpListen ?? d.httpListen,
    statusListen: input.statusListen ?? d.statusListen,
    statusAllow: copyList(input.statusAllow, d.statusAllow),
    publicHttpsPort: input.publicHttpsPort ?? d.publicHttpsPort,
    serverNames: copyList(input.serverNames, d.serverNames),
    redirectStatus: input.redirectStatus ?? d.redirectStatus,
    certificatePath: input.certificatePath ?? d.certificatePath,
    certificateKeyPath: input.certificateKeyPath ?? d.certificateKeyPath,
    htpasswdPath: input.htpasswdPath ?? d.htpasswdPath,
    crlPath: input.crlPath === undefined ? d.crlPath : input.crlPath,
    authRealm: input.authRealm ?? d.authRealm,
    exposeDocs: input.exposeDocs ?? d.exposeDocs,
    rateLimitPerSecond: input.rateLimitPerSecond ?? d.rateLimitPerSecond,
    rateLimitBurst: input.rateLimitBurst ?? d.rateLimitBurst,
    rateLimitZoneSize: input.rateLimitZoneSize ?? d.rateLimitZoneSize,
    retryAfterSeconds: input.retryAfterSeconds ?? d.retryAfterSeconds,
    canaryPercent: input.canaryPercent ?? d.canaryPercent,
    clientMaxBodySize: input.clientMaxBodySize ?? d.clientMaxBodySize,
    workerProcesses: input.workerProcesses ?? d.workerProcesses,
    workerConnections: input.workerConnections ?? d.workerConnections,
    // null is a value here (omit the directive), so only undefined falls back.
    workerUser: input.workerUser === undefined ? d.workerUser : input.workerUser,
    pidPath: input.pidPath ?? d.pidPath,
    errorLog: input.errorLog ?? d.errorLog,
    accessLog: input.accessLog === undefined ? d.accessLog : input.accessLog,
    metricsLog:
      input.metricsLog === undefined
        ? d.metricsLog
        : input.metricsLog && Object.freeze({ ...input.metricsLog }),
    tempDir: input.tempDir ?? d.tempDir,
    upstreamKeepalive: input.upstreamKeepalive ?? d.upstreamKeepalive,
    upstreamKeepaliveTimeoutSeconds:
      input.upstreamKeepaliveTimeoutSeconds ?? d.upstreamKeepaliveTimeoutSeconds,
    upstreamMaxFails: input.upstreamMaxFails ?? d.upstreamMaxFails,
    upstreamFailTimeoutSeconds: input.upstreamFailTimeoutSeconds ?? d.upstreamFailTimeoutSeconds,
    proxyNextUpstreamTries: input.proxyNextUpstreamTries ?? d.proxyNextUpstreamTries,
    proxyNextUpstreamTimeoutSeconds:
      input.proxyNextUpstreamTimeoutSeconds ?? d.proxyNextUpstreamTimeoutSeconds,
    proxyConnectTimeoutMs: input.proxyConnectTimeoutMs ?? d.proxyConnectTimeoutMs,
    proxyReadTimeoutSeconds: input.proxyReadTimeoutSeconds ?? d.proxyReadTimeoutSeconds,
    hstsMaxAgeSeconds: input.hstsMaxAgeSeconds ?? d.hstsMaxAgeSeconds,
    configGeneration: input.configGeneration === undefined ? d.configGeneration : input.configGeneration,
  };
  for (const [field, check] of Object.entries(CHECKS) as [keyof NginxSettings, Check][]) {
    const error = check(resolved[field], field);
    if (error !== undefined) {
      errors.push(error);
    }
  }
  if (errors.length === 0) {
    errors.push(...crossFieldErrors(resolved));
  }
  if (errors.length > 0) {
    throw new Error(`invalid nginx settings: ${errors.join('; ')}`);
  }
  return Object.freeze(resolved);
}
