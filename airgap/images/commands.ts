/**
 * The command lines the runner executes, as argv arrays (never a shell string). Pure.
 *
 * Docker is Debian's `/usr/bin/docker` (20.10, API 1.41): with `DOCKER_BUILDKIT=1` it drives the
 * engine's built-in BuildKit. The Docker 28 CLI in /usr/local/bin would need buildx, absent here.
 */
import { KEY_LABEL } from './keys';
import { BASE_PATH } from './rootfs';
import type { AirgapImagesSettings } from './settings';

/** The Docker CLI every step and test calls. */
export const DOCKER = '/usr/bin/docker';

/** Environment of `docker build`: the engine's BuildKit, plain progress for the log file. */
export const BUILD_ENV = { DOCKER_BUILDKIT: '1', BUILDKIT_PROGRESS: 'plain' } as const;

/** `debootstrap --variant=minbase <suite> <dir> <mirror>`. */
export function debootstrapArgs(
  settings: Pick<AirgapImagesSettings, 'suite' | 'mirror'>,
  dir: string,
): string[] {
  return ['--variant=minbase', settings.suite, dir, settings.mirror];
}

/** `tar` of a root filesystem with numeric owners (the image's, not the host's names), stable order. */
export function rootfsTarArgs(rootfs: string, tarPath: string): string[] {
  return ['--numeric-owner', '--sort=name', '-C', rootfs, '-cf', tarPath, '.'];
}

/** `docker import` of the root filesystem tar, with PATH, a shell command and the cache key label. */
export function importArgs(tarPath: string, ref: string, key: string): string[] {
  return [
    'import',
    '--change',
    `ENV PATH=${BASE_PATH}`,
    '--change',
    'CMD ["bash"]',
    '--change',
    `LABEL ${KEY_LABEL}=${key}`,
    tarPath,
    ref,
  ];
}

/** One `docker build`. */
export interface BuildSpec {
  readonly dockerfile: string;
  readonly context: string;
  readonly tag: string;
  readonly key: string;
  /** `--build-arg NAME=value`, in the given order. */
  readonly buildArgs: Readonly<Record<string, string>>;
  /** BuildKit secrets `--secret id=<id>,src=<file>`: reach RUN steps that mount them, never a layer. */
  readonly secrets?: readonly { readonly id: string; readonly src: string }[];
  /** Ignore the layer cache (`--no-cache`). */
  readonly noCache?: boolean;
}

/** `docker build` argv for a {@link BuildSpec}. */
export function buildArgs(spec: BuildSpec): string[] {
  return [
    'build',
    '--file',
    spec.dockerfile,
    '--tag',
    spec.tag,
    '--label',
    `${KEY_LABEL}=${spec.key}`,
    ...Object.entries(spec.buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]),
    ...(spec.secrets ?? []).flatMap((s) => ['--secret', `id=${s.id},src=${s.src}`]),
    ...(spec.noCache === true ? ['--no-cache'] : []),
    spec.context,
  ];
}

/** Reads a Debian package's installed version in a throw-away container with no network. */
export function packageVersionArgs(ref: string, debianPackage: string): string[] {
  return [
    'run',
    '--rm',
    '--network',
    'none',
    '--entrypoint',
    'dpkg-query',
    ref,
    '--showformat=${Version}',
    '--show',
    debianPackage,
  ];
}

/** `docker image inspect` printing `<id> <key label>`, or failing when the image is absent. */
export function inspectKeyArgs(ref: string): string[] {
  return ['image', 'inspect', '--format', `{{.Id}} {{index .Config.Labels "${KEY_LABEL}"}}`, ref];
}

/** `npm pack <name>@<version> --json` into `dir`: the registry tarball, integrity-checked by npm. */
export function npmPackArgs(pkg: { name: string; version: string }, dir: string): string[] {
  return ['pack', `${pkg.name}@${pkg.version}`, '--json', '--pack-destination', dir];
}
