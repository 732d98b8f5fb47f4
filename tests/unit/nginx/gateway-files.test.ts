/**
 * The gateway's config generations (infra/gateway-files.ts): ids, files, and the two scripts the
 * GatewayConfig resource feeds to a writer container, run here for real with the host's `sh` on a
 * temporary folder standing in for the volume (ownership checks need root: CI runs as root).
 */
import { execFile } from 'node:child_process';
import { lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  activateGenerationScript,
  GATEWAY_CONFIG_DIR,
  gatewayGeneration,
  NGINX_GID,
  writeGenerationScript,
  type GatewayMaterial,
} from '../../../infra/gateway-files';
import { renderNginxConf, resolveNginxSettings } from '../../../deployments/nginx';

const run = promisify(execFile);

const SETTINGS = { v1Upstreams: ['a-1:8000'], v2Upstreams: ['b:8000'], rateLimitPerSecond: 10 };
// Stand-ins (the repository's secret scan refuses real-looking keys and password literals); the
// quotes, $ and backticks check that no content can break the script's quoting.
const STAND_IN_KEY = 'stand-in key with \'quotes\', "double", $dollar and `ticks`\n';
const standInHtpasswd = (n: number) => `api:stand-in-hash-${n}\n`;
const MATERIAL: GatewayMaterial = {
  certificatePem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
  certificateKeyPem: STAND_IN_KEY,
  htpasswd: standInHtpasswd(1),
};

describe('gatewayGeneration', () => {
  test('names a generation by its content: same input, same id; any changed setting or file, a new id', () => {
    const base = gatewayGeneration(SETTINGS, MATERIAL);
    expect(base.generation).toMatch(/^[0-9a-f]{16}$/);
    expect(gatewayGeneration(SETTINGS, MATERIAL)).toEqual(base);
    const variants = [
      gatewayGeneration({ ...SETTINGS, rateLimitPerSecond: 11 }, MATERIAL),
      gatewayGeneration({ ...SETTINGS, v1Upstreams: ['a-2:8000'] }, MATERIAL),
      gatewayGeneration(SETTINGS, { ...MATERIAL, certificatePem: `${MATERIAL.certificatePem}\n` }),
      gatewayGeneration(SETTINGS, { ...MATERIAL, certificateKeyPem: 'other' }),
      gatewayGeneration(SETTINGS, { ...MATERIAL, htpasswd: standInHtpasswd(2) }),
    ].map((g) => g.generation);
    expect(new Set([base.generation, ...variants]).size).toBe(6);
  });

  test('renders nginx.conf naming its own files by absolute path and serving its id on the status listener', () => {
    const { generation, nginxConf, files } = gatewayGeneration(SETTINGS, MATERIAL);
    const dir = `${GATEWAY_CONFIG_DIR}/${generation}`;
    expect(nginxConf).toBe(
      renderNginxConf(
        resolveNginxSettings({
          ...SETTINGS,
          certificatePath: `${dir}/server.crt`,
          certificateKeyPath: `${dir}/server.key`,
          htpasswdPath: `${dir}/htpasswd`,
          configGeneration: generation,
        }),
      ),
    );
    expect(nginxConf).toContain(`return 200 ${generation};`);
    expect(files.map((f) => [f.path, f.mode, f.gid])).toEqual([
      [`${generation}/nginx.conf`, '0444', 0],
      [`${generation}/server.crt`, '0444', 0],
      [`${generation}/server.key`, '0400', 0],
      [`${generation}/htpasswd`, '0440', NGINX_GID],
    ]);
    expect(files.map((f) => f.content)).toEqual([
      nginxConf,
      MATERIAL.certificatePem,
      MATERIAL.certificateKeyPem,
      MATERIAL.htpasswd,
    ]);
  });
});

describe('the writer scripts, run by sh on a folder', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'gateway-volume-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const sh = (script: string) => {
    const child = run('sh', ['-s']);
    child.child.stdin!.end(script);
    return child;
  };

  test('writes every file byte for byte with its mode and group, then makes it live by rename and prunes', async () => {
    const first = gatewayGeneration(SETTINGS, MATERIAL);
    const second = gatewayGeneration({ ...SETTINGS, rateLimitPerSecond: 12 }, MATERIAL);
    const third = gatewayGeneration({ ...SETTINGS, rateLimitPerSecond: 13 }, MATERIAL);
    for (const g of [first, second, third]) await sh(writeGenerationScript(root, g.generation, g.files));
    for (const f of third.files) {
      expect(await readFile(path.join(root, f.path), 'utf8')).toBe(f.content);
      const s = await stat(path.join(root, f.path));
      expect([f.path, (s.mode & 0o777).toString(8).padStart(4, '0')]).toEqual([f.path, f.mode]);
      if (process.getuid?.() === 0) expect([f.path, s.uid, s.gid]).toEqual([f.path, 0, f.gid]);
    }
    expect(((await stat(path.join(root, third.generation))).mode & 0o777).toString(8)).toBe('755');

    await sh(activateGenerationScript(root, third.generation, second.generation));
    const live = path.join(root, 'nginx.conf');
    expect(await readFile(live, 'utf8')).toBe(third.nginxConf);
    expect((await lstat(live)).isFile()).toBe(true);
    expect(((await stat(live)).mode & 0o777).toString(8)).toBe('444');
    // The live generation and the one old workers may still read stay; older ones go.
    expect((await readdir(root)).sort()).toEqual([second.generation, third.generation, 'nginx.conf'].sort());
  });

  test('refuses what could escape the volume or break the script', () => {
    const g = gatewayGeneration(SETTINGS, MATERIAL);
    expect(() => writeGenerationScript(root, '../etc', g.files)).toThrow(/lowercase hex/);
    expect(() =>
      writeGenerationScript(root, g.generation, [
        { path: `${g.generation}/../x`, content: '', mode: '0444', gid: 0 },
      ]),
    ).toThrow(/is not "<generation>\/<name>"/);
    expect(() =>
      writeGenerationScript(root, g.generation, [
        { path: `${g.generation}/x`, content: '', mode: '644', gid: 0 },
      ]),
    ).toThrow(/bad mode/);
    expect(() => activateGenerationScript(root, g.generation, 'x; rm -rf /')).toThrow(/lowercase hex/);
  });
});
