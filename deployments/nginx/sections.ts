/**
 * Section builders, named after the nginx concepts they emit. Each takes resolved settings (or the
 * part it needs) and returns nodes for `toNginx()`; none formats text itself.
 */
import { METRICS_LOG } from '../gateway-metrics/settings';
import { API_ROUTES, DEBUG_GROUP, GATEWAY_PATHS, SERVICE } from '../names';
import {
  type NginxArg,
  type NginxNode,
  assertToken,
  blank,
  block,
  comment,
  directive,
  entry,
  quote,
  template,
} from './directives';
import { RULES, type NginxSettings } from './settings';

/** nginx names shared by the sections (upstream groups, variables, zones, log format). */
export const NGINX_NAMES = {
  v1Upstream: SERVICE.apiV1.replace(/-/g, '_'),
  v2Upstream: SERVICE.apiV2.replace(/-/g, '_'),
  rateLimitZone: 'predict',
  logFormat: 'gateway_json',
  /** Upstream group chosen for the request by the experiment map. */
  upstreamVar: '$api_upstream',
  canaryVar: '$canary_upstream',
  /** Client X-Request-ID if well-formed, else nginx's own `$request_id`. */
  requestIdVar: '$req_id',
  responseRequestIdVar: '$response_request_id',
  retryAfterVar: '$retry_after',
  allowVar: '$allow_methods',
} as const;

const DEBUG_TOKEN = { pattern: /^[a-z0-9_-]+$/, description: 'lower-case letters, digits, - or _' };
const SAFE_REQUEST_ID = '~^[A-Za-z0-9._:-]{1,128}$';

const seconds = (n: number): string => `${n}s`;

/**
 * Errors nginx itself produces, answered with the API's JSON error shape (`field` null, plus
 * `requestId`). `sentAs` is the status on the wire for nginx's internal codes (494, 497).
 */
export const GATEWAY_ERRORS: Readonly<Record<number, { code: string; message: string; sentAs?: number }>> = {
  400: { code: 'bad_request', message: 'The request could not be parsed' },
  401: { code: 'unauthorized', message: 'Valid credentials are required (HTTP basic auth)' },
  403: { code: 'forbidden', message: 'Access to this resource is forbidden' },
  404: { code: 'not_found', message: 'No such route' },
  405: { code: 'method_not_allowed', message: 'Method not allowed on this route' },
  408: { code: 'request_timeout', message: 'The request took too long to arrive' },
  413: { code: 'payload_too_large', message: 'The request body is too large' },
  414: { code: 'uri_too_long', message: 'The request line is too long' },
  429: { code: 'rate_limited', message: 'Too many requests from this address; retry later' },
  494: { code: 'headers_too_large', message: 'The request headers are too large', sentAs: 400 },
  497: {
    code: 'https_required',
    message: 'Plain HTTP was sent to the HTTPS port; use https://',
    sentAs: 400,
  },
  500: { code: 'internal_error', message: 'The gateway failed to handle the request' },
  501: { code: 'not_implemented', message: 'The request uses a feature the gateway does not support' },
  502: { code: 'bad_gateway', message: 'No API replica could answer' },
  503: { code: 'service_unavailable', message: 'The API is unavailable' },
  504: { code: 'gateway_timeout', message: 'The API did not answer in time' },
  505: { code: 'http_version_not_supported', message: 'Use HTTP/1.1 or HTTP/2' },
};

/**
 * Where `error_page` sends a status. Named locations keep `$uri` (the `Allow` map reads it), but nginx
 * cannot redirect a request whose URI it failed to parse (a NUL byte, an overlong line) to a named
 * location ("empty URI in redirect to named location", a 500 HTML page), so the statuses raised
 * while parsing the request go to internal URIs instead.
 */
const URI_ERRORS: ReadonlySet<number> = new Set([400, 414, 494, 497, 505]);
const errorLocationName = (status: number): string =>
  URI_ERRORS.has(status) ? `${GATEWAY_PATHS.errors}/${status}` : `@error_${status}`;

/** `user`, `worker_processes`, `pid`, `error_log` and the `events` block. */
export function mainContext(s: NginxSettings): NginxNode[] {
  return [
    ...(s.workerUser === null
      ? []
      : [directive('user', assertToken(s.workerUser, 'workerUser', RULES.user))]),
    directive('worker_processes', String(s.workerProcesses)),
    directive('pid', quote(s.pidPath, 'pidPath')),
    directive('error_log', s.errorLog === 'stderr' ? 'stderr' : quote(s.errorLog, 'errorLog'), 'warn'),
    blank,
    block('events', [], [directive('worker_connections', String(s.workerConnections))]),
  ];
}

/** Protocol-level defaults of the `http` block: no version banner, bodies kept in memory, temp paths. */
export function httpBasics(s: NginxSettings): NginxNode[] {
  const temp = (name: string, dir: string) => directive(name, quote(`${s.tempDir}/${dir}`, 'tempDir'));
  const size = assertToken(s.clientMaxBodySize, 'clientMaxBodySize', RULES.size);
  return [
    directive('server_tokens', 'off'),
    directive('default_type', 'application/json'),
    directive('charset_types', 'application/json'),
    directive('charset', 'utf-8'),
    directive('tcp_nodelay', 'on'),
    directive('keepalive_timeout', '65s'),
    directive('client_max_body_size', size),
    comment('A body up to the limit stays in memory: no temp-file write per prediction.'),
    directive('client_body_buffer_size', size),
    temp('client_body_temp_path', 'client_temp'),
    temp('proxy_temp_path', 'proxy_temp'),
    temp('fastcgi_temp_path', 'fastcgi_temp'),
    temp('uwsgi_temp_path', 'uwsgi_temp'),
    temp('scgi_temp_path', 'scgi_temp'),
  ];
}

/** Request correlation: keep a well-formed client X-Request-ID, else use nginx's random `$request_id`. */
export function requestIdMap(): NginxNode[] {
  return [
    block(
      'map',
      ['$http_x_request_id', NGINX_NAMES.requestIdVar],
      [entry('default', '$request_id'), entry(template(SAFE_REQUEST_ID), '$http_x_request_id')],
    ),
    comment('Responses nginx makes itself carry the id too; proxied ones already echo it from the API.'),
    block(
      'map',
      ['$upstream_http_x_request_id', NGINX_NAMES.responseRequestIdVar],
      [entry('default', template('')), entry(template(''), NGINX_NAMES.requestIdVar)],
    ),
  ];
}

/** `Retry-After` only on 429 (nginx sends none by itself; an empty value omits the header). */
export function retryAfterMap(s: NginxSettings): NginxNode[] {
  return [
    block(
      'map',
      ['$status', NGINX_NAMES.retryAfterVar],
      [entry('default', template('')), entry('429', template(String(s.retryAfterSeconds)))],
    ),
  ];
}

/** `Allow` on the 405 responses of the method-restricted routes. */
export function allowHeaderMap(s: NginxSettings): NginxNode[] {
  return [
    block(
      'map',
      ['$status$uri', NGINX_NAMES.allowVar],
      [
        entry('default', template('')),
        ...methodRestrictedRoutes(s).map(({ path, method }) =>
          entry(template(`405${path}`), template(method === 'GET' ? 'GET, HEAD' : method)),
        ),
      ],
    ),
  ];
}

/**
 * A/B routing: exactly `X-Experiment-Group: debug` selects v2; anything else (other case, suffixes,
 * empty) goes to v1, or through the canary split when `canaryPercent` > 0. A case-sensitive regex,
 * because plain `map` strings match case-insensitively.
 */
export function experimentRouteMap(s: NginxSettings): NginxNode[] {
  const group = assertToken(DEBUG_GROUP, 'DEBUG_GROUP', DEBUG_TOKEN);
  const fallback = s.canaryPercent > 0 ? NGINX_NAMES.canaryVar : NGINX_NAMES.v1Upstream;
  return [
    block(
      'map',
      ['$http_x_experiment_group', NGINX_NAMES.upstreamVar],
      [entry('default', fallback), entry(template(`~^${group}$`), NGINX_NAMES.v2Upstream)],
    ),
  ];
}

/** Canary: `canaryPercent` of non-debug requests to v2, keyed on nginx's own random request id. */
export function canarySplit(s: NginxSettings): NginxNode[] {
  if (s.canaryPercent <= 0) {
    return [];
  }
  return [
    block(
      'split_clients',
      [template('${request_id}'), NGINX_NAMES.canaryVar],
      [entry(`${s.canaryPercent}%`, NGINX_NAMES.v2Upstream), entry('*', NGINX_NAMES.v1Upstream)],
    ),
  ];
}

/** The JSON access log format (one object per line) and its target. */
export function jsonAccessLog(s: NginxSettings): NginxNode[] {
  const fields: [string, string, 'string' | 'number'][] = [
    ['time', '$time_iso8601', 'string'],
    ['request_id', NGINX_NAMES.requestIdVar, 'string'],
    ['client', '$remote_addr', 'string'],
    ['user', '$remote_user', 'string'],
    ['method', '$request_method', 'string'],
    ['uri', '$request_uri', 'string'],
    ['status', '$status', 'number'],
    ['body_bytes_sent', '$body_bytes_sent', 'number'],
    ['request_time', '$request_time', 'number'],
    ['experiment_group', '$http_x_experiment_group', 'string'],
    ['upstream', '$proxy_host', 'string'],
    ['upstream_addr', '$upstream_addr', 'string'],
    ['upstream_status', '$upstream_status', 'string'],
    ['upstream_response_time', '$upstream_response_time', 'string'],
    ['tls_protocol', '$ssl_protocol', 'string'],
    ['user_agent', '$http_user_agent', 'string'],
  ];
  const json = `{${fields.map(([k, v, t]) => (t === 'number' ? `"${k}":${v}` : `"${k}":"${v}"`)).join(',')}}`;
  return [
    directive('log_format', NGINX_NAMES.logFormat, 'escape=json', template(json)),
    s.accessLog === null
      ? directive('access_log', 'off')
      : directive('access_log', quote(s.accessLog, 'accessLog'), NGINX_NAMES.logFormat),
  ];
}

/** Per-client-IP request rate zone; 429 (not the default 503, which reads like a dead upstream). */
export function rateLimitZone(s: NginxSettings): NginxNode[] {
  return [
    directive(
      'limit_req_zone',
      '$binary_remote_addr',
      `zone=${NGINX_NAMES.rateLimitZone}:${assertToken(s.rateLimitZoneSize, 'rateLimitZoneSize', RULES.size)}`,
      `rate=${s.rateLimitPerSecond}r/s`,
    ),
    directive('limit_req_status', '429'),
    comment('Rejections are counted in the access log (status 429); keep them out of the error log.'),
    directive('limit_req_log_level', 'info'),
  ];
}

/** `limit_req` for one location. nodelay: the burst is served at once instead of queued. */
export function rateLimit(s: NginxSettings): NginxNode {
  const zone = `zone=${NGINX_NAMES.rateLimitZone}`;
  // nginx refuses `burst=0`; no burst parameter means the same thing.
  return s.rateLimitBurst === 0
    ? directive('limit_req', zone)
    : directive('limit_req', zone, `burst=${s.rateLimitBurst}`, 'nodelay');
}

/** An upstream group with passive health checks, a shared state zone and keep-alive connections. */
export function upstreamBlock(
  name: string,
  servers: readonly string[],
  s: NginxSettings,
  field: string,
): NginxNode {
  return block(
    'upstream',
    [name],
    [
      comment('Shared zone: a failure seen by one worker takes the replica out for all of them.'),
      directive('zone', name, '64k'),
      ...servers.map((server, i) =>
        directive(
          'server',
          assertToken(server, `${field}[${i}]`, RULES.upstream),
          `max_fails=${s.upstreamMaxFails}`,
          `fail_timeout=${seconds(s.upstreamFailTimeoutSeconds)}`,
        ),
      ),
      // Never marked failed: its 503 counts as a failed attempt under proxy_next_upstream http_503.
      comment('Every replica unreachable: the status listener answers 503 service_unavailable at once.'),
      directive('server', unavailableAddress(s), 'backup', 'max_fails=0'),
      directive('keepalive', String(s.upstreamKeepalive)),
      directive('keepalive_timeout', seconds(s.upstreamKeepaliveTimeoutSeconds)),
    ],
  );
}

/**
 * Where the upstreams' backup server is: the status listener, on loopback when it names only a port.
 * A stopped container's address answers nothing on a Docker bridge, so without a backup nginx timed
 * out the connect and answered 504 (a dead local process refuses it: 502); both now get a fast 503.
 */
export function unavailableAddress(s: NginxSettings): NginxArg {
  const listen = assertToken(s.statusListen, 'statusListen', RULES.listen);
  return /^\d+$/.test(listen) ? `127.0.0.1:${listen}` : listen;
}

/**
 * TLS 1.2/1.3 with AEAD ciphers only (Mozilla "intermediate" minus CBC), a shared session cache. The
 * server's order wins (AES-GCM, then ChaCha20): every suite is strong, but a client's preference is
 * not a policy, and scanners (testssl.sh 3.0) rate "no server cipher order" HIGH.
 */
export function tlsProtocols(): NginxNode[] {
  return [
    directive('ssl_protocols', 'TLSv1.2', 'TLSv1.3'),
    directive(
      'ssl_ciphers',
      [
        'ECDHE-ECDSA-AES128-GCM-SHA256',
        'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
        'ECDHE-RSA-AES256-GCM-SHA384',
        'ECDHE-ECDSA-CHACHA20-POLY1305',
        'ECDHE-RSA-CHACHA20-POLY1305',
      ].join(':'),
    ),
    directive('ssl_prefer_server_ciphers', 'on'),
    directive('ssl_ecdh_curve', 'X25519:prime256v1:secp384r1'),
    directive('ssl_session_cache', 'shared:TLS:10m'),
    directive('ssl_session_timeout', '1d'),
    comment('Tickets off: their key never rotates without a restart, which breaks forward secrecy.'),
    directive('ssl_session_tickets', 'off'),
  ];
}

/**
 * Response headers for every HTTPS response, nginx errors included (`always`). add_header is
 * inherited only by levels that define none, so a location that needs a variant repeats the set.
 */
export function responseHeaders(s: NginxSettings, { strictCsp }: { strictCsp: boolean }): NginxNode[] {
  const header = (name: string, value: string) => directive('add_header', name, value, 'always');
  return [
    header('Strict-Transport-Security', template(`max-age=${s.hstsMaxAgeSeconds}; includeSubDomains`)),
    header('X-Content-Type-Options', 'nosniff'),
    header('X-Frame-Options', 'DENY'),
    header('Referrer-Policy', 'no-referrer'),
    ...(strictCsp
      ? [header('Content-Security-Policy', template("default-src 'none'; frame-ancestors 'none'"))]
      : []),
    header('X-Request-ID', NGINX_NAMES.responseRequestIdVar),
    header('Retry-After', NGINX_NAMES.retryAfterVar),
    header('Allow', NGINX_NAMES.allowVar),
  ];
}

/** Proxy defaults for the API: keep-alive to upstreams, forwarded headers, bounded retries. */
export function proxyDefaults(s: NginxSettings): NginxNode[] {
  const header = (name: string, value: string) => directive('proxy_set_header', name, value);
  return [
    directive('proxy_http_version', '1.1'),
    header('Connection', template('')),
    header('Host', '$host'),
    comment('The gateway is the edge: overwrite client-supplied forwarding headers instead of appending.'),
    header('X-Real-IP', '$remote_addr'),
    header('X-Forwarded-For', '$remote_addr'),
    header('X-Forwarded-Proto', '$scheme'),
    header('X-Forwarded-Host', '$host'),
    header('X-Forwarded-Port', String(s.publicHttpsPort)),
    header('X-Request-ID', NGINX_NAMES.requestIdVar),
    comment('Credentials stop here: replicas (and their logs) never see the password.'),
    header('Authorization', template('')),
    directive('proxy_hide_header', 'X-Powered-By'),
    directive('proxy_connect_timeout', `${s.proxyConnectTimeoutMs}ms`),
    directive('proxy_send_timeout', seconds(s.proxyReadTimeoutSeconds)),
    directive('proxy_read_timeout', seconds(s.proxyReadTimeoutSeconds)),
    comment('Predictions have no side effects, so a POST may be retried on the next replica.'),
    directive(
      'proxy_next_upstream',
      'error',
      'timeout',
      'http_502',
      'http_503',
      'http_504',
      'non_idempotent',
    ),
    directive('proxy_next_upstream_tries', String(s.proxyNextUpstreamTries)),
    directive('proxy_next_upstream_timeout', seconds(s.proxyNextUpstreamTimeoutSeconds)),
  ];
}

/** Statuses answered with JSON by each server: all of them on HTTPS, the few the others can produce. */
const HTTPS_ERRORS = Object.keys(GATEWAY_ERRORS).map(Number);
/** What a request can hit before routing: malformed or oversized requests, unsupported features. */
const PARSE_ERRORS = [400, 408, 414, 494, 501, 505];
const REDIRECT_ERRORS = [...PARSE_ERRORS, 405];
const STATUS_ERRORS = [...PARSE_ERRORS, 403, 404, 405];

/** `error_page` for each status, answered by the JSON location of `overrides[status] ?? status`. */
export function errorPages(
  statuses: readonly number[],
  overrides: Readonly<Record<number, number>> = {},
): NginxNode[] {
  return statuses.map((status) => {
    const override = overrides[status];
    const location = errorLocationName(override ?? status);
    const wire = override ?? GATEWAY_ERRORS[status]?.sentAs;
    return wire === undefined
      ? directive('error_page', String(status), location)
      : directive('error_page', String(status), `=${wire}`, location);
  });
}

/** `return <status> <the API's JSON error body>` for one of {@link GATEWAY_ERRORS}. */
function errorReturn(status: number): NginxNode {
  const { code, message, sentAs } = GATEWAY_ERRORS[status]!;
  return directive(
    'return',
    String(sentAs ?? status),
    template(
      `{"error":{"code":"${code}","message":"${message}","field":null,"requestId":"${NGINX_NAMES.requestIdVar}"}}`,
    ),
  );
}

/** The locations (named or internal) that answer nginx's own errors with a JSON body. */
export function errorLocations(statuses: readonly number[]): NginxNode[] {
  return statuses.map((status) => {
    const internal = URI_ERRORS.has(status);
    return block('location', internal ? ['=', errorLocationName(status)] : [errorLocationName(status)], [
      ...(internal ? [directive('internal')] : []),
      errorReturn(status),
    ]);
  });
}

/** Basic auth on a location; the realm is quoted, the file path too. */
function basicAuth(s: NginxSettings): NginxNode[] {
  return [
    directive('auth_basic', quote(s.authRealm, 'authRealm')),
    directive('auth_basic_user_file', quote(s.htpasswdPath, 'htpasswdPath')),
  ];
}

interface RestrictedRoute {
  readonly path: string;
  readonly method: 'POST' | 'GET';
  readonly strictCsp: boolean;
}

function methodRestrictedRoutes(s: NginxSettings): RestrictedRoute[] {
  return [
    { path: API_ROUTES.predict, method: 'POST', strictCsp: true },
    ...(s.exposeDocs
      ? [
          { path: API_ROUTES.openapi, method: 'GET', strictCsp: true } as const,
          // Swagger UI needs scripts and styles: same headers minus the strict CSP.
          { path: API_ROUTES.docs, method: 'GET', strictCsp: false } as const,
        ]
      : []),
  ];
}

/** A proxied API route: rate limited (before auth, so guessing passwords is limited too), authenticated. */
export function apiLocation(s: NginxSettings, route: RestrictedRoute): NginxNode {
  return block(
    'location',
    ['=', route.path],
    [
      rateLimit(s),
      ...basicAuth(s),
      block('limit_except', [route.method], [directive('deny', 'all')]),
      ...(route.strictCsp ? [] : responseHeaders(s, { strictCsp: false })),
      directive('proxy_pass', `http://${NGINX_NAMES.upstreamVar}`),
    ],
  );
}

/** `GET /health`: answered by nginx itself, no auth (`return` runs before the access phase). */
export function healthLocation(): NginxNode {
  return block(
    'location',
    ['=', GATEWAY_PATHS.health],
    [directive('access_log', 'off'), directive('return', '200', template('{"status":"ok"}'))],
  );
}

/** The HTTPS entry point: TLS, headers, auth, rate limit, A/B routing, JSON errors. */
export function httpsServer(s: NginxSettings): NginxNode {
  return block(
    'server',
    [],
    [
      directive('listen', assertToken(s.httpsListen, 'httpsListen', RULES.listen), 'ssl', 'http2'),
      serverName(s),
      directive('ssl_certificate', quote(s.certificatePath, 'certificatePath')),
      directive('ssl_certificate_key', quote(s.certificateKeyPath, 'certificateKeyPath')),
      ...tlsProtocols(),
      blank,
      ...responseHeaders(s, { strictCsp: true }),
      blank,
      ...proxyDefaults(s),
      blank,
      comment('On this server 403 only comes from limit_except (a method not allowed): answer 405.'),
      ...errorPages(HTTPS_ERRORS, { 403: 405 }),
      blank,
      healthLocation(),
      ...methodRestrictedRoutes(s).map((route) => apiLocation(s, route)),
      block('location', ['/'], [directive('return', '404')]),
      ...errorLocations(HTTPS_ERRORS.filter((status) => status !== 403)),
    ],
  );
}

function serverName(s: NginxSettings): NginxNode {
  return directive(
    'server_name',
    ...s.serverNames.map((name, i) => assertToken(name, `serverNames[${i}]`, RULES.serverName)),
  );
}

/**
 * The CA's CRL, over plain HTTP: a client checking revocation must not need TLS to the server whose
 * certificate it is checking. Signed by the CA, so the transport need not be trusted.
 */
function crlLocation(s: NginxSettings): NginxNode[] {
  if (s.crlPath === null) {
    return [];
  }
  return [
    block(
      'location',
      ['=', GATEWAY_PATHS.crl],
      [
        directive('alias', quote(s.crlPath, 'crlPath')),
        directive('default_type', 'application/pkix-crl'),
        comment('Re-signed on every start: let a client keep it for an hour at most.'),
        directive('add_header', 'Cache-Control', template('max-age=3600')),
      ],
    ),
  ];
}

/**
 * The HTTP listener: every request is redirected to the same path on the public HTTPS port, except
 * the CRL (when served).
 */
export function httpRedirectServer(s: NginxSettings): NginxNode {
  const port = s.publicHttpsPort === 443 ? '' : `:${s.publicHttpsPort}`;
  return block(
    'server',
    [],
    [
      directive('listen', assertToken(s.httpListen, 'httpListen', RULES.listen)),
      serverName(s),
      ...errorPages(REDIRECT_ERRORS),
      ...crlLocation(s),
      block(
        'location',
        ['/'],
        [directive('return', String(s.redirectStatus), `https://$host${port}$request_uri`)],
      ),
      ...errorLocations(REDIRECT_ERRORS),
    ],
  );
}

/** The internal listener: `stub_status` for the exporter, allow-listed, never published. */
export function statusServer(s: NginxSettings): NginxNode {
  return block(
    'server',
    [],
    [
      directive('listen', assertToken(s.statusListen, 'statusListen', RULES.listen)),
      directive('server_name', '_'),
      directive('access_log', 'off'),
      ...errorPages(STATUS_ERRORS),
      block(
        'location',
        ['=', GATEWAY_PATHS.stubStatus],
        [
          directive('stub_status'),
          ...s.statusAllow.map((cidr, i) =>
            directive('allow', assertToken(cidr, `statusAllow[${i}]`, RULES.allow)),
          ),
          directive('deny', 'all'),
        ],
      ),
      ...(s.configGeneration === null
        ? []
        : [
            block(
              'location',
              ['=', GATEWAY_PATHS.configGeneration],
              [
                directive('default_type', 'text/plain'),
                directive(
                  'return',
                  '200',
                  assertToken(s.configGeneration, 'configGeneration', RULES.generation),
                ),
              ],
            ),
          ]),
      // The upstreams' backup: what the proxied API routes answer when no replica can.
      ...methodRestrictedRoutes(s).map((route) => block('location', ['=', route.path], [errorReturn(503)])),
      block('location', ['/'], [directive('return', '404')]),
      ...errorLocations(STATUS_ERRORS),
    ],
  );
}

/** One short line per request to the file mtail tails: the gateway's per-status metrics; off when null. */
export function metricsAccessLog(s: NginxSettings): NginxNode[] {
  if (s.metricsLog === null) {
    return [];
  }
  return [
    directive('log_format', METRICS_LOG.formatName, template(METRICS_LOG.format)),
    directive('access_log', quote(s.metricsLog.path, 'metricsLog.path'), METRICS_LOG.formatName),
  ];
}
