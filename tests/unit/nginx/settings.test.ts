import {
  DEFAULT_NGINX_SETTINGS,
  type NginxSettingsInput,
  resolveNginxSettings,
} from '../../../deployments/nginx/settings';

describe('resolveNginxSettings', () => {
  test('with no input equals the defaults (the Docker deployment)', () => {
    expect(resolveNginxSettings()).toEqual(DEFAULT_NGINX_SETTINGS);
    expect(DEFAULT_NGINX_SETTINGS.v1Upstreams).toEqual(['api-v1-1:8000', 'api-v1-2:8000', 'api-v1-3:8000']);
    expect(DEFAULT_NGINX_SETTINGS.v2Upstreams).toEqual(['api-v2:8000']);
    expect(DEFAULT_NGINX_SETTINGS.rateLimitPerSecond).toBe(10);
    expect(DEFAULT_NGINX_SETTINGS.clientMaxBodySize).toBe('64k');
    expect(DEFAULT_NGINX_SETTINGS.canaryPercent).toBe(0);
  });

  test('overrides only the given fields, keeping 0 and false (?? not ||)', () => {
    const resolved = resolveNginxSettings({ canaryPercent: 0, rateLimitBurst: 0, exposeDocs: false });
    expect(resolved.rateLimitBurst).toBe(0);
    expect(resolved.exposeDocs).toBe(false);
    expect(resolved.rateLimitPerSecond).toBe(DEFAULT_NGINX_SETTINGS.rateLimitPerSecond);
  });

  test('keeps null for workerUser and accessLog (omit the directive / logging off)', () => {
    const resolved = resolveNginxSettings({ workerUser: null, accessLog: null });
    expect(resolved.workerUser).toBeNull();
    expect(resolved.accessLog).toBeNull();
  });

  test('returns a new object and never changes the input or the defaults', () => {
    const upstreams = ['127.0.0.1:9001'];
    const input: NginxSettingsInput = { v1Upstreams: upstreams, rateLimitBurst: 3 };
    const snapshot = structuredClone(input);
    const defaults = structuredClone(DEFAULT_NGINX_SETTINGS);
    const resolved = resolveNginxSettings(input);
    upstreams.push('127.0.0.1:9002');
    expect(resolved.v1Upstreams).toEqual(['127.0.0.1:9001']);
    expect(input).toEqual({ ...snapshot, v1Upstreams: ['127.0.0.1:9001', '127.0.0.1:9002'] });
    expect(DEFAULT_NGINX_SETTINGS).toEqual(defaults);
    expect(resolveNginxSettings().rateLimitBurst).toBe(DEFAULT_NGINX_SETTINGS.rateLimitBurst);
    expect(Object.isFrozen(resolved)).toBe(true);
  });

  test.each<{ rule: string; input: Record<string, unknown>; error: RegExp }>([
    {
      rule: 'v1Upstreams non-empty',
      input: { v1Upstreams: [] },
      error: /v1Upstreams must be a non-empty list/,
    },
    {
      rule: 'v1Upstreams host:port',
      input: { v1Upstreams: ['api-v1-1'] },
      error: /v1Upstreams\[0\] must be host:port/,
    },
    {
      rule: 'upstream injection',
      input: { v1Upstreams: ['a:80; } server { listen 1'] },
      error: /v1Upstreams\[0\] must be host:port/,
    },
    {
      rule: 'upstream port range',
      input: { v2Upstreams: ['api:70000'] },
      error: /v2Upstreams\[0\] must be host:port/,
    },
    {
      rule: 'upstreams unique',
      input: { v1Upstreams: ['a:1', 'a:1'] },
      error: /v1Upstreams must not repeat an entry/,
    },
    {
      rule: 'listen format',
      input: { httpsListen: '0.0.0.0:' },
      error: /httpsListen must be \[address:\]port/,
    },
    { rule: 'listen port range', input: { httpListen: '0' }, error: /httpListen must be \[address:\]port/ },
    {
      rule: 'distinct ports',
      input: { httpsListen: '127.0.0.1:9000', statusListen: '9000' },
      error: /httpsListen and statusListen must use different ports \(both 9000\)/,
    },
    {
      rule: 'status allow-list CIDR',
      input: { statusAllow: ['all'] },
      error: /statusAllow\[0\] must be an IPv4/,
    },
    {
      rule: 'public port',
      input: { publicHttpsPort: 0 },
      error: /publicHttpsPort must be an integer from 1 to 65535/,
    },
    {
      rule: 'redirect status',
      input: { redirectStatus: 302 },
      error: /redirectStatus must be one of 301, 308/,
    },
    {
      rule: 'absolute paths',
      input: { certificatePath: 'tls/server.crt' },
      error: /certificatePath must be an absolute path/,
    },
    {
      rule: 'no variables in paths',
      input: { htpasswdPath: '/etc/$host' },
      error: /htpasswdPath must be an absolute path without "\$"/,
    },
    {
      rule: 'no newline in paths',
      input: { pidPath: '/run/a\nb' },
      error: /pidPath must be an absolute path/,
    },
    { rule: 'realm text', input: { authRealm: 'a"b' }, error: /authRealm must be 1-64 characters/ },
    {
      rule: 'rate positive',
      input: { rateLimitPerSecond: 0 },
      error: /rateLimitPerSecond must be an integer from 1 to 100000 \(got 0\)/,
    },
    {
      rule: 'rate integer',
      input: { rateLimitPerSecond: 2.5 },
      error: /rateLimitPerSecond must be an integer/,
    },
    {
      rule: 'burst non-negative',
      input: { rateLimitBurst: -1 },
      error: /rateLimitBurst must be an integer from 0/,
    },
    {
      rule: 'canary range',
      input: { canaryPercent: 101 },
      error: /canaryPercent must be a number from 0 to 100/,
    },
    {
      rule: 'canary precision',
      input: { canaryPercent: 1.234 },
      error: /canaryPercent must be .* at most two decimals/,
    },
    { rule: 'body size', input: { clientMaxBodySize: '64 k' }, error: /clientMaxBodySize must be a size/ },
    {
      rule: 'worker processes',
      input: { workerProcesses: 0 },
      error: /workerProcesses must be "auto" or an integer/,
    },
    {
      rule: 'worker user',
      input: { workerUser: 'root; user x' },
      error: /workerUser must be a system user name/,
    },
    {
      rule: 'error log target',
      input: { errorLog: 'syslog' },
      error: /errorLog must be "stderr" or an absolute path/,
    },
    {
      rule: 'metrics log is a file',
      input: { metricsLog: { syslogServer: 'gateway-metrics:5140', tag: 'sg_gateway' } },
      error: /metricsLog must be null or \{ path \}/,
    },
    {
      rule: 'metrics log path absolute',
      input: { metricsLog: { path: 'metrics.log' } },
      error: /metricsLog.path must be an absolute path/,
    },
    {
      rule: 'string types',
      input: { rateLimitPerSecond: '10' },
      error: /rateLimitPerSecond must be an integer/,
    },
    { rule: 'unknown keys', input: { rateLimitPerSec: 10 }, error: /unknown setting "rateLimitPerSec"/ },
  ])('rejects a setting breaking the rule: $rule', ({ input, error }) => {
    expect(() => resolveNginxSettings(input as NginxSettingsInput)).toThrow(error);
  });

  test('reports every invalid field in one error', () => {
    expect(() => resolveNginxSettings({ rateLimitPerSecond: 0, canaryPercent: -1 })).toThrow(
      /rateLimitPerSecond must be .*; canaryPercent must be/,
    );
  });

  test('accepts loopback, container-name and IPv6 addresses', () => {
    const resolved = resolveNginxSettings({
      v1Upstreams: ['127.0.0.1:8001', 'api-v1-1.backend:8000', '[::1]:8002'],
      httpsListen: '127.0.0.1:8443',
      statusListen: '[::1]:8081',
      statusAllow: ['127.0.0.1', '::1', '172.18.0.0/16'],
      serverNames: ['localhost', '*.example.com'],
    });
    expect(resolved.v1Upstreams).toHaveLength(3);
  });
});
