/**
 * The `nginx -t` gate: the real nginx binary accepts the rendered config for several settings
 * combinations. Syntax only: behaviour is proven against the running stack in the other files.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findNginx, nginxConfigTest } from '../../../deployments/local/nginx';
import { type LocalTls, createLocalTls } from '../../../deployments/local/tls';
import { renderNginxConf } from '../../../deployments/nginx/render';
import { type NginxSettingsInput, resolveNginxSettings } from '../../../deployments/nginx/settings';

let root: string;
let tls: LocalTls;
let nginxBinary: string;

beforeAll(async () => {
  nginxBinary = findNginx();
  root = await mkdtemp(path.join(tmpdir(), 'nginx-t-'));
  tls = await createLocalTls(root);
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Renders `input` over loopback defaults into a fresh prefix and runs `nginx -t` on it. */
async function checkConfig(name: string, input: NginxSettingsInput): Promise<string> {
  const prefix = path.join(root, name);
  await mkdir(path.join(prefix, 'temp'), { recursive: true });
  const settings = resolveNginxSettings({
    v1Upstreams: ['127.0.0.1:18001', '127.0.0.1:18002', '127.0.0.1:18003'],
    v2Upstreams: ['127.0.0.1:18004'],
    httpsListen: '127.0.0.1:18443',
    httpListen: '127.0.0.1:18080',
    statusListen: '127.0.0.1:18081',
    statusAllow: ['127.0.0.1'],
    publicHttpsPort: 18443,
    certificatePath: tls.certPath,
    certificateKeyPath: tls.keyPath,
    htpasswdPath: path.join(prefix, 'htpasswd'),
    workerUser: null,
    pidPath: path.join(prefix, 'nginx.pid'),
    accessLog: path.join(prefix, 'access.log'),
    tempDir: path.join(prefix, 'temp'),
    ...input,
  });
  const confPath = path.join(prefix, 'nginx.conf');
  await writeFile(confPath, renderNginxConf(settings));
  return nginxConfigTest({ binary: nginxBinary, prefix, confPath });
}

describe('nginx -t accepts the rendered config', () => {
  test.each<[string, NginxSettingsInput]>([
    ['loopback defaults', {}],
    ['canary split at 12.5 %', { canaryPercent: 12.5 }],
    ['docs not exposed, one v1 replica', { exposeDocs: false, v1Upstreams: ['127.0.0.1:18001'] }],
    [
      'access log off, 301 redirect to port 443',
      { accessLog: null, redirectStatus: 301, publicHttpsPort: 443 },
    ],
    [
      'tight limits and timeouts',
      {
        rateLimitPerSecond: 1,
        rateLimitBurst: 0,
        clientMaxBodySize: '1m',
        workerProcesses: 1,
        workerConnections: 64,
        upstreamMaxFails: 1,
        proxyNextUpstreamTries: 1,
      },
    ],
    [
      'server names and a CIDR allow-list',
      { serverNames: ['localhost', '*.example.test'], statusAllow: ['127.0.0.0/8'] },
    ],
    [
      'listeners on every loopback interface port only',
      { httpsListen: '18443', httpListen: '18080', statusListen: '18081' },
    ],
  ])('%s', async (name, input) => {
    const output = await checkConfig(name.replace(/\W+/g, '-'), input);
    expect(output).toMatch(/syntax is ok/);
    expect(output).toMatch(/test is successful/);
  });

  test('reads a quoted path holding ; { } # and quotes as one argument', async () => {
    // nginx -t loads the certificate: it only passes if the quoted path reached it intact.
    const hostile = path.join(root, `we;ird {dir} #"x"'y`);
    await mkdir(hostile, { recursive: true });
    const hostileTls = await createLocalTls(hostile, { reuseCa: false });
    const output = await checkConfig('hostile-path', {
      certificatePath: hostileTls.certPath,
      certificateKeyPath: hostileTls.keyPath,
      authRealm: "realm; } server { listen 1; #'",
    });
    expect(output).toMatch(/test is successful/);
  });
});

describe('the gate can fail', () => {
  test('nginx -t rejects a config whose certificate file is missing', async () => {
    await expect(
      checkConfig('missing-cert', { certificatePath: path.join(root, 'nope.crt') }),
    ).rejects.toThrow(/nginx -t rejected[\s\S]*nope\.crt/);
  });
});
