import {
  BASE_PATH,
  baseRootfsFiles,
  chrootAptSteps,
  HOST_FILES_TO_EMPTY,
} from '../../../airgap/images/rootfs';
import { DEFAULT_AIRGAP_IMAGES_SETTINGS } from '../../../airgap/images/settings';

describe('baseRootfsFiles', () => {
  const files = baseRootfsFiles(DEFAULT_AIRGAP_IMAGES_SETTINGS);
  const file = (p: string) => files.find((f) => f.path === p);

  test('adds the suite, its updates and its security fixes as apt sources (plain HTTP)', () => {
    expect(file('/etc/apt/sources.list')).toEqual({
      path: '/etc/apt/sources.list',
      content:
        'deb http://deb.debian.org/debian bookworm main\n' +
        'deb http://deb.debian.org/debian bookworm-updates main\n' +
        'deb http://deb.debian.org/debian-security bookworm-security main\n',
      mode: 0o644,
    });
  });

  test('forbids service starts in builds, recommends, and documentation', () => {
    expect(file('/usr/sbin/policy-rc.d')).toEqual({
      path: '/usr/sbin/policy-rc.d',
      content: '#!/bin/sh\nexit 101\n',
      mode: 0o755,
    });
    expect(file('/etc/apt/apt.conf.d/90sentiment-gateway')?.content).toContain(
      'APT::Install-Recommends "false";',
    );
    const excludes = file('/etc/dpkg/dpkg.cfg.d/90sentiment-gateway-excludes')!.content.split('\n');
    expect(excludes).toContain('path-exclude /usr/share/doc/*');
    expect(excludes).toContain('path-include /usr/share/doc/*/copyright');
    expect(files.map((f) => f.path)).toEqual([
      '/etc/apt/sources.list',
      '/usr/sbin/policy-rc.d',
      '/etc/apt/apt.conf.d/90sentiment-gateway',
      '/etc/apt/apt.conf.d/docker-clean',
      '/etc/dpkg/dpkg.cfg.d/90sentiment-gateway-excludes',
    ]);
  });

  test("leaves no .deb or package cache behind an install (as Debian's official images)", () => {
    const clean = file('/etc/apt/apt.conf.d/docker-clean')!.content;
    expect(clean).toContain('DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb');
    expect(clean).toContain('Dir::Cache::pkgcache "";');
  });

  test('upgrades the base in the chroot non-interactively, then cleans, and empties host files', () => {
    expect(chrootAptSteps().map((s) => s.argv)).toEqual([
      ['apt-get', 'update'],
      ['apt-get', '--yes', 'upgrade'],
      ['apt-get', 'clean'],
    ]);
    for (const step of chrootAptSteps()) expect(step.env.DEBIAN_FRONTEND).toBe('noninteractive');
    expect(HOST_FILES_TO_EMPTY).toEqual(['/etc/resolv.conf', '/etc/hostname']);
  });

  test('follows the mirror settings', () => {
    const custom = baseRootfsFiles({
      suite: 'trixie',
      mirror: 'http://mirror.example/debian',
      securityMirror: 'http://mirror.example/debian-security',
    });
    expect(custom[0]!.content).toBe(
      'deb http://mirror.example/debian trixie main\n' +
        'deb http://mirror.example/debian trixie-updates main\n' +
        'deb http://mirror.example/debian-security trixie-security main\n',
    );
  });

  test("PATH is the official Debian images' one", () => {
    expect(BASE_PATH).toBe('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });
});
