/**
 * Image names and tags. Pure.
 *
 * A Docker tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; a Debian version may also hold `~`, `+` and
 * an epoch `N:` (https://www.debian.org/doc/debian-policy/ch-controlfields.html#version).
 */

/** A valid Docker tag (the tag part of infra/settings.ts `IMAGE_REF`). */
export const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * A Debian package version as a Docker tag: `~` becomes `-`, `+` and the epoch's `:` become `_`.
 * Not reversible (`1.0~rc1` and `1.0-rc1` meet), which is fine for one package's installed version.
 *
 * @example debianVersionTag('1.22.1-9+deb12u11') // '1.22.1-9_deb12u11'
 * @example debianVersionTag('3.0.0~rc50-1+b6')   // '3.0.0-rc50-1_b6'
 */
export function debianVersionTag(version: string): string {
  if (!/^[0-9][A-Za-z0-9.+~:-]*$/.test(version)) {
    throw new Error(
      `Debian version must start with a digit and hold only [A-Za-z0-9.+~:-] (got ${JSON.stringify(version)})`,
    );
  }
  const tag = version.replace(/~/g, '-').replace(/[+:]/g, '_');
  if (!DOCKER_TAG.test(tag) || tag === 'latest') {
    throw new Error(
      `Debian version ${JSON.stringify(version)} does not make a Docker tag (${JSON.stringify(tag)})`,
    );
  }
  return tag;
}

/** `repository/name:tag`, checked. */
export function imageRef(repository: string, name: string, tag: string): string {
  if (!DOCKER_TAG.test(tag) || tag === 'latest') {
    throw new Error(`image tag must match ${DOCKER_TAG} and not be latest (got ${JSON.stringify(tag)})`);
  }
  return `${repository}/${name}:${tag}`;
}

/** Tag of the debootstrap base: suite and the UTC day the root filesystem was made (`bookworm-20261202`). */
export function baseTag(suite: string, createdAt: Date): string {
  return `${suite}-${createdAt.toISOString().slice(0, 10).replace(/-/g, '')}`;
}

/** Tag of the offline Node base: the official images' naming, minus `-slim` (`20.20.2-bookworm`). */
export function nodeTag(nodeVersion: string, suite: string): string {
  return `${nodeVersion}-${suite}`;
}

/**
 * Tag of the API image: the workspace version plus the first 12 hex digits of its cache key, so a
 * code or model change gives a new tag (and Pulumi replaces the replicas) without a version bump.
 *
 * @example apiTag('0.1.0', 'ab12…') // '0.1.0-ab12cd34ef56'
 */
export function apiTag(packageVersion: string, key: string): string {
  if (!/^[a-f0-9]{64}$/.test(key))
    throw new Error(`cache key must be 64 hex digits (got ${JSON.stringify(key)})`);
  const tag = `${packageVersion}-${key.slice(0, 12)}`;
  if (!DOCKER_TAG.test(tag))
    throw new Error(`package version ${JSON.stringify(packageVersion)} does not make a Docker tag`);
  return tag;
}
