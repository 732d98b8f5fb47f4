/**
 * What the debootstrap base holds beyond `debootstrap --variant=minbase`: apt sources with the
 * suite's updates and security fixes (applied to the base itself by {@link chrootAptSteps}), no
 * service starts during builds, no recommended packages, no package cache and no documentation in
 * later installs. Pure: the runner writes these files into the root filesystem.
 */
import type { AirgapImagesSettings } from './settings';

/** A file written into the root filesystem before it is archived. */
export interface RootfsFile {
  /** Absolute path inside the image. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

/** `PATH` of the base (what `docker import` leaves unset; the official Debian images' value). */
export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The files the base adds, in a fixed order. */
export function baseRootfsFiles(
  settings: Pick<AirgapImagesSettings, 'suite' | 'mirror' | 'securityMirror'>,
): RootfsFile[] {
  const { suite, mirror, securityMirror } = settings;
  return [
    {
      // Point releases alone would miss security fixes: each image's build installs from all three.
      path: '/etc/apt/sources.list',
      content: [
        `deb ${mirror} ${suite} main`,
        `deb ${mirror} ${suite}-updates main`,
        `deb ${securityMirror} ${suite}-security main`,
        '',
      ].join('\n'),
      mode: 0o644,
    },
    {
      // invoke-rc.d asks this first; 101 = "action forbidden": a postinst never starts a daemon in a build.
      path: '/usr/sbin/policy-rc.d',
      content: '#!/bin/sh\nexit 101\n',
      mode: 0o755,
    },
    {
      path: '/etc/apt/apt.conf.d/90sentiment-gateway',
      content: [
        'APT::Install-Recommends "false";',
        'APT::Install-Suggests "false";',
        'Acquire::Languages "none";',
        '',
      ].join('\n'),
      mode: 0o644,
    },
    {
      // As in Debian's official images: no .deb or package cache is left in any layer.
      path: '/etc/apt/apt.conf.d/docker-clean',
      content: [
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };',
        'Dir::Cache::pkgcache "";',
        'Dir::Cache::srcpkgcache "";',
        '',
      ].join('\n'),
      mode: 0o644,
    },
    {
      // The same exclusions as Debian's -slim images; licences stay.
      path: '/etc/dpkg/dpkg.cfg.d/90sentiment-gateway-excludes',
      content: [
        'path-exclude /usr/share/doc/*',
        'path-include /usr/share/doc/*/copyright',
        'path-exclude /usr/share/man/*',
        'path-exclude /usr/share/groff/*',
        'path-exclude /usr/share/info/*',
        'path-exclude /usr/share/lintian/*',
        'path-exclude /usr/share/locale/*',
        '',
      ].join('\n'),
      mode: 0o644,
    },
  ];
}

/**
 * Commands run in the root filesystem (`chroot <dir> ...`) once the files are in place: the security
 * and point-release updates, then `apt-get clean`. Each image's build still runs `apt-get upgrade`
 * for what is newer than the base.
 */
export function chrootAptSteps(): { argv: string[]; env: Record<string, string> }[] {
  const env = { DEBIAN_FRONTEND: 'noninteractive', PATH: BASE_PATH, LANG: 'C.UTF-8' };
  return [
    { argv: ['apt-get', 'update'], env },
    { argv: ['apt-get', '--yes', 'upgrade'], env },
    { argv: ['apt-get', 'clean'], env },
  ];
}

/** Host files debootstrap copies in; emptied so the host's resolver and name stay out of the image. */
export const HOST_FILES_TO_EMPTY = ['/etc/resolv.conf', '/etc/hostname'] as const;
