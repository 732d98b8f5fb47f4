import type { Block, NginxNode } from '../../../deployments/nginx/directives';
import { NGINX_CONF_HEADER, renderNginxConf } from '../../../deployments/nginx/render';
import {
  GATEWAY_ERRORS,
  experimentRouteMap,
  canarySplit,
  httpRedirectServer,
  httpsServer,
  metricsAccessLog,
  statusServer,
  unavailableAddress,
  upstreamBlock,
} from '../../../deployments/nginx/sections';
import { type NginxSettings, resolveNginxSettings } from '../../../deployments/nginx/settings';

const LOCAL = resolveNginxSettings({
  v1Upstreams: ['127.0.0.1:9001', '127.0.0.1:9002', '127.0.0.1:9003'],
  v2Upstreams: ['127.0.0.1:9004'],
  httpsListen: '127.0.0.1:18443',
  httpListen: '127.0.0.1:18080',
  statusListen: '127.0.0.1:18081',
  statusAllow: ['127.0.0.1'],
  publicHttpsPort: 18443,
});

/** Every block named `name` under `nodes`, depth first. */
function blocks(nodes: readonly NginxNode[], name: string): Block[] {
  return nodes.flatMap((node) =>
    node.kind === 'block' ? [...(node.name === name ? [node] : []), ...blocks(node.children, name)] : [],
  );
}

/** `name args` of the directives directly inside `node`. */
function directives(node: Block): string[] {
  return node.children.flatMap((c) => (c.kind === 'directive' ? [[c.name, ...c.args].join(' ')] : []));
}

function location(server: Block, ...args: string[]): Block {
  const found = blocks(server.children, 'location').find((l) => l.args.join(' ') === args.join(' '));
  if (found === undefined) {
    throw new Error(`no location ${args.join(' ')}`);
  }
  return found;
}

describe('renderNginxConf', () => {
  test('is deterministic and opens with the generated-by header', () => {
    const text = renderNginxConf(LOCAL);
    expect(text).toBe(renderNginxConf(resolveNginxSettings({ ...LOCAL })));
    expect(text.split('\n')[0]).toBe(`# ${NGINX_CONF_HEADER}`);
  });

  test('places every address and path from the settings', () => {
    const text = renderNginxConf(
      resolveNginxSettings({
        ...LOCAL,
        certificatePath: '/tmp/stack/tls/server.crt',
        certificateKeyPath: '/tmp/stack/tls/server.key',
        htpasswdPath: '/tmp/stack/htpasswd',
        pidPath: '/tmp/stack/nginx.pid',
        accessLog: '/tmp/stack/logs/access.log',
        tempDir: '/tmp/stack/nginx/temp',
      }),
    );
    for (const expected of [
      'server 127.0.0.1:9001 max_fails=2 fail_timeout=5s;',
      'server 127.0.0.1:9004 max_fails=2 fail_timeout=5s;',
      'listen 127.0.0.1:18443 ssl http2;',
      'listen 127.0.0.1:18080;',
      'listen 127.0.0.1:18081;',
      'ssl_certificate "/tmp/stack/tls/server.crt";',
      'ssl_certificate_key "/tmp/stack/tls/server.key";',
      'auth_basic_user_file "/tmp/stack/htpasswd";',
      'pid "/tmp/stack/nginx.pid";',
      'access_log "/tmp/stack/logs/access.log" gateway_json;',
      'client_body_temp_path "/tmp/stack/nginx/temp/client_temp";',
      'proxy_temp_path "/tmp/stack/nginx/temp/proxy_temp";',
    ]) {
      expect(text).toContain(expected);
    }
    expect(text).not.toMatch(/api-v1|api-v2|\/etc\/nginx|\/var\//);
  });

  test('renders the Docker defaults with container names', () => {
    const text = renderNginxConf(resolveNginxSettings());
    expect(text).toContain('server api-v1-3:8000 max_fails=2 fail_timeout=5s;');
    expect(text).toContain('server api-v2:8000 max_fails=2 fail_timeout=5s;');
    expect(text).toContain('user nginx;');
  });

  test('omits `user` when workerUser is null and turns logging off when accessLog is null', () => {
    const text = renderNginxConf(resolveNginxSettings({ ...LOCAL, workerUser: null, accessLog: null }));
    expect(text).not.toMatch(/^user /m);
    expect(text).toMatch(/^ {4}access_log off;$/m);
  });

  test('refuses hostile values even when settings bypass resolveNginxSettings', () => {
    const forged = { ...LOCAL, v1Upstreams: ['127.0.0.1:1; }\nserver {'] } as NginxSettings;
    expect(() => renderNginxConf(forged)).toThrow(/v1Upstreams\[0\] must be host:port/);
    const forgedPath = { ...LOCAL, htpasswdPath: '/x";\nallow all;#' } as NginxSettings;
    expect(() => renderNginxConf(forgedPath)).toThrow(/htpasswdPath must not contain control characters/);
  });
});

describe('section builders', () => {
  test('upstreamBlock: passive health, shared zone, the status listener as backup, keepalive below the API timeout', () => {
    const upstream = upstreamBlock('api_v1', LOCAL.v1Upstreams, LOCAL, 'v1Upstreams') as Block;
    expect(directives(upstream)).toEqual([
      'zone api_v1 64k',
      'server 127.0.0.1:9001 max_fails=2 fail_timeout=5s',
      'server 127.0.0.1:9002 max_fails=2 fail_timeout=5s',
      'server 127.0.0.1:9003 max_fails=2 fail_timeout=5s',
      `server ${LOCAL.statusListen} backup max_fails=0`,
      'keepalive 32',
      'keepalive_timeout 4s',
    ]);
  });

  test('the backup (status listener) answers every proxied API route with a JSON 503, on loopback when it names a port only', () => {
    const status = statusServer(LOCAL) as Block;
    for (const path of ['/predict', '/openapi.json', '/docs']) {
      expect(directives(location(status, '=', path))).toEqual([
        expect.stringMatching(/^return 503 ".*service_unavailable/),
      ]);
    }
    expect(unavailableAddress(resolveNginxSettings({ ...LOCAL, statusListen: '8081' }))).toBe(
      '127.0.0.1:8081',
    );
    expect(unavailableAddress(LOCAL)).toBe(LOCAL.statusListen);
  });

  test('experimentRouteMap: only exactly "debug" selects v2 (case-sensitive regex, no `if`)', () => {
    const [map] = experimentRouteMap(LOCAL) as Block[];
    expect(map!.args).toEqual(['$http_x_experiment_group', '$api_upstream']);
    expect(map!.children).toEqual([
      { kind: 'entry', key: 'default', value: 'api_v1' },
      { kind: 'entry', key: '"~^debug$"', value: 'api_v2' },
    ]);
    expect(renderNginxConf(LOCAL)).not.toMatch(/\bif \(/);
  });

  test('canarySplit: absent at 0 %, sends the configured share to v2 otherwise', () => {
    expect(canarySplit(LOCAL)).toEqual([]);
    const canary = resolveNginxSettings({ ...LOCAL, canaryPercent: 12.5 });
    const [split] = canarySplit(canary) as Block[];
    expect(split!.name).toBe('split_clients');
    expect(split!.children).toEqual([
      { kind: 'entry', key: '12.5%', value: 'api_v2' },
      { kind: 'entry', key: '*', value: 'api_v1' },
    ]);
    const [map] = experimentRouteMap(canary) as Block[];
    expect(map!.children[0]).toEqual({ kind: 'entry', key: 'default', value: '$canary_upstream' });
  });

  test('httpsServer: /predict is rate limited, authenticated, POST-only and retried on the next replica', () => {
    const server = httpsServer(LOCAL) as Block;
    const predict = location(server, '=', '/predict');
    expect(directives(predict)).toEqual([
      'limit_req zone=predict burst=20 nodelay',
      'auth_basic "sentiment-gateway"',
      'auth_basic_user_file "/etc/nginx/auth/htpasswd"',
      'proxy_pass http://$api_upstream',
    ]);
    expect(blocks(predict.children, 'limit_except')[0]!.args).toEqual(['POST']);
    const text = renderNginxConf(LOCAL);
    expect(text).toContain('proxy_next_upstream error timeout http_502 http_503 http_504 non_idempotent;');
    expect(text).toContain('proxy_next_upstream_tries 3;');
    expect(text).toContain('limit_req_zone $binary_remote_addr zone=predict:10m rate=10r/s;');
    expect(text).toContain('limit_req_status 429;');
    // A stopped container's address answers nothing on a Docker bridge: fail over in half a second.
    expect(text).toContain('proxy_connect_timeout 500ms;');
  });

  test('httpsServer: /health answers without auth; docs are authenticated, or absent', () => {
    const server = httpsServer(LOCAL) as Block;
    const health = location(server, '=', '/health');
    expect(directives(health).some((d) => d.startsWith('auth_basic'))).toBe(false);
    expect(directives(health)).toContain('return 200 "{\\"status\\":\\"ok\\"}"');
    expect(directives(location(server, '=', '/docs'))).toContain('auth_basic "sentiment-gateway"');
    expect(directives(location(server, '=', '/openapi.json'))).toContain('auth_basic "sentiment-gateway"');
    const noDocs = httpsServer(resolveNginxSettings({ ...LOCAL, exposeDocs: false })) as Block;
    expect(() => location(noDocs, '=', '/docs')).toThrow(/no location/);
  });

  test('httpsServer: TLS 1.2/1.3 with AEAD ciphers only, and the security headers', () => {
    const lines = directives(httpsServer(LOCAL) as Block);
    expect(lines).toContain('ssl_protocols TLSv1.2 TLSv1.3');
    // The server's order, not the client's (testssl.sh rates "no server cipher order" HIGH).
    expect(lines).toContain('ssl_prefer_server_ciphers on');
    const ciphers = lines
      .find((l) => l.startsWith('ssl_ciphers '))!
      .split(' ')[1]!
      .split(':');
    expect(ciphers.length).toBeGreaterThan(0);
    for (const cipher of ciphers) {
      expect(cipher).toMatch(/GCM|CHACHA20-POLY1305/);
    }
    expect(lines).toContain(
      'add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always',
    );
    expect(lines).toContain('add_header X-Content-Type-Options nosniff always');
    expect(lines).toContain('add_header Retry-After $retry_after always');
    expect(renderNginxConf(LOCAL)).toContain('server_tokens off;');
  });

  test('httpsServer: every nginx error status has a JSON body', () => {
    const server = httpsServer(LOCAL) as Block;
    const lines = directives(server);
    for (const [key, { code, sentAs }] of Object.entries(GATEWAY_ERRORS)) {
      const status = Number(key);
      // 403 only comes from limit_except there, and is answered as 405.
      if (status === 403) continue;
      const page = lines.find((l) => l.startsWith(`error_page ${status} `))!;
      expect(page).toBeDefined();
      const target = page.split(' ').at(-1)!;
      // Statuses raised while the request is being parsed go to internal URIs (no URI to keep).
      const errorLocation = target.startsWith('@') ? location(server, target) : location(server, '=', target);
      const [ret] = directives(errorLocation).filter((d) => d.startsWith('return '));
      const wire = sentAs ?? status;
      expect(ret).toMatch(new RegExp(`^return ${wire} "`));
      if (sentAs !== undefined) expect(page).toBe(`error_page ${status} =${sentAs} ${target}`);
      if (!target.startsWith('@')) expect(directives(errorLocation)).toContain('internal');
      const body = JSON.parse(JSON.parse(ret!.slice(`return ${wire} `.length)) as string) as {
        error: { code: string };
      };
      expect(body.error.code).toBe(code);
    }
    expect(lines).toContain('error_page 400 /_gateway/errors/400');
    expect(lines).toContain('error_page 405 @error_405');
  });

  test('rateLimit: no burst parameter at burst 0 (nginx refuses burst=0)', () => {
    const predict = (s: NginxSettings) => directives(location(httpsServer(s) as Block, '=', '/predict'))[0];
    expect(predict(resolveNginxSettings({ ...LOCAL, rateLimitBurst: 0 }))).toBe('limit_req zone=predict');
    expect(predict(resolveNginxSettings({ ...LOCAL, rateLimitBurst: 7 }))).toBe(
      'limit_req zone=predict burst=7 nodelay',
    );
  });

  test('httpRedirectServer: redirects to the public HTTPS port, omitting :443', () => {
    const redirect = (s: NginxSettings) => directives(location(httpRedirectServer(s) as Block, '/'))[0];
    expect(redirect(LOCAL)).toBe('return 308 https://$host:18443$request_uri');
    expect(redirect(resolveNginxSettings({ ...LOCAL, publicHttpsPort: 443, redirectStatus: 301 }))).toBe(
      'return 301 https://$host$request_uri',
    );
  });

  test('httpRedirectServer: serves the CRL over plain HTTP when crlPath is set, and only then', () => {
    expect(JSON.stringify(httpRedirectServer(LOCAL))).not.toContain('/pki/ca.crl');
    const s = resolveNginxSettings({ ...LOCAL, crlPath: '/srv/tls/ca.crl' });
    const crl = location(httpRedirectServer(s) as Block, '=', '/pki/ca.crl');
    expect(directives(crl)).toEqual([
      'alias "/srv/tls/ca.crl"',
      'default_type application/pkix-crl',
      'add_header Cache-Control "max-age=3600"',
    ]);
    expect(JSON.stringify(httpsServer(s))).not.toContain('ca.crl');
    expect(() => resolveNginxSettings({ ...LOCAL, crlPath: 'relative/ca.crl' })).toThrow(/crlPath/);
  });

  test('metricsAccessLog: the mtail line format, appended to the quoted file path; nothing when off', () => {
    expect(metricsAccessLog(LOCAL)).toEqual([]);
    const s = resolveNginxSettings({ ...LOCAL, metricsLog: { path: '/var/log/gateway metrics/m.log' } });
    expect(
      metricsAccessLog(s).map((n) => (n.kind === 'directive' ? [n.name, ...n.args].join(' ') : n.kind)),
    ).toEqual([
      'log_format gateway_metrics "status=$status request_time=$request_time request_uri=$request_uri"',
      'access_log "/var/log/gateway metrics/m.log" gateway_metrics',
    ]);
    // At http level, beside the JSON access log: every server's requests are counted.
    expect(renderNginxConf(s)).toMatch(
      /^ {4}access_log "\/var\/log\/gateway metrics\/m.log" gateway_metrics;$/m,
    );
  });

  test('stub_status lives only in the status server, behind its allow-list', () => {
    const status = statusServer(LOCAL) as Block;
    expect(directives(location(status, '=', '/nginx_status'))).toEqual([
      'stub_status',
      'allow 127.0.0.1',
      'deny all',
    ]);
    const text = renderNginxConf(LOCAL);
    expect(text.match(/stub_status/g)).toHaveLength(1);
    for (const server of [httpsServer(LOCAL), httpRedirectServer(LOCAL)] as Block[]) {
      expect(JSON.stringify(server)).not.toContain('stub_status');
    }
  });
});
