/**
 * images.json (what was built, for other tools and the airgap tests) and the Pulumi config lines
 * that select the images. Pure.
 */
import { parseDocument } from 'yaml';
import { API_CONFIG_KEY, DEBIAN_IMAGES, type StackImageId } from './settings';

/** Pulumi project name (Pulumi.yaml): the config namespace. */
export const PULUMI_PROJECT = 'sentiment-gateway';

/** One built image as recorded in images.json. */
export interface BuiltImage {
  /** `repository/name:tag`. */
  readonly ref: string;
  /** Cache key (also the image's `org.sentiment-gateway.airgap.key` label). */
  readonly key: string;
  /** Engine image id (`sha256:...`). */
  readonly imageId: string;
  /** The Debian package the tag's version comes from, for the Debian-packaged images. */
  readonly debianPackage?: string;
  /** That package's installed version, unsanitised. */
  readonly version?: string;
}

/** Build steps, in build order: the two bases, the Debian-packaged images, the API. */
export type StepId = 'debianBase' | 'nodeBase' | StackImageId;

/** Steps in build order. */
export const STEP_ORDER: readonly StepId[] = [
  'debianBase',
  ...DEBIAN_IMAGES.map((s) => s.id),
  'nodeBase',
  'api',
];

/** The content of images.json. */
export interface ImagesManifest {
  readonly generatedBy: 'npm run airgap:images';
  /** Image refs the stack selects, by `ImageVersions` field name (plus `api`): what to deploy. */
  readonly images: Readonly<Record<StackImageId, string>>;
  /** Every step's image, bases included. */
  readonly builds: Readonly<Partial<Record<StepId, BuiltImage>>>;
}

/** The config key of each stack image, in the order the lines are printed. */
export function configKeys(): [StackImageId, string][] {
  return [...DEBIAN_IMAGES.map((s): [StackImageId, string] => [s.id, s.configKey]), ['api', API_CONFIG_KEY]];
}

/**
 * `pulumi config set` lines selecting the built images.
 *
 * @example pulumiConfigLines(images)[0] // 'pulumi config set sentiment-gateway:nginxImage sentiment-gateway/nginx:1.22.1-9_deb12u11'
 */
export function pulumiConfigLines(images: Readonly<Record<StackImageId, string>>): string[] {
  return configKeys().map(([id, key]) => `pulumi config set ${PULUMI_PROJECT}:${key} ${images[id]}`);
}

/** The air-gapped stack's config file, which selects the images this command builds. */
export const AIRGAP_STACK_FILE = 'Pulumi.airgap.yaml';

/**
 * The stack config text with each image key set to the built image, comments and other keys kept,
 * and the keys that changed (`key: old -> new`). A tag follows the Debian package's version and the
 * API's inputs, so a Debian update or a code change gives new tags: the file follows them.
 */
export function syncStackConfig(
  text: string,
  images: Readonly<Record<StackImageId, string>>,
): { text: string; changed: string[] } {
  const doc = parseDocument(text);
  const changed: string[] = [];
  for (const [id, key] of configKeys()) {
    const path = ['config', `${PULUMI_PROJECT}:${key}`];
    const old = doc.getIn(path);
    if (old === images[id]) continue;
    doc.setIn(path, images[id]);
    changed.push(`${key}: ${old === undefined ? '(unset)' : String(old)} -> ${images[id]}`);
  }
  return { text: changed.length === 0 ? text : doc.toString(), changed };
}

/** images.json text (sorted keys, trailing newline) for `builds`; throws if a stack image is missing. */
export function renderManifest(builds: Readonly<Partial<Record<StepId, BuiltImage>>>): string {
  const images = {} as Record<StackImageId, string>;
  for (const [id] of configKeys()) {
    const built = builds[id];
    if (built === undefined) throw new Error(`images.json: no build recorded for ${id}`);
    images[id] = built.ref;
  }
  const ordered: Partial<Record<StepId, BuiltImage>> = {};
  for (const id of STEP_ORDER) if (builds[id] !== undefined) ordered[id] = builds[id];
  const manifest: ImagesManifest = { generatedBy: 'npm run airgap:images', images, builds: ordered };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/** Parses images.json, checking the fields readers rely on; the message says how to make it. */
export function parseManifest(text: string, source = 'images.json'): ImagesManifest {
  const fail = (why: string): never => {
    throw new Error(`${source} ${why}: run \`npm run airgap:images\` to (re)build the images`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return fail('is not JSON');
  }
  const manifest = data as Partial<ImagesManifest>;
  if (typeof manifest !== 'object' || manifest === null || typeof manifest.images !== 'object') {
    return fail('has no "images" object');
  }
  for (const [id] of configKeys()) {
    const ref = (manifest.images as Record<string, unknown>)[id];
    if (typeof ref !== 'string' || !/^[a-z0-9./-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(ref)) {
      fail(`has no image ref for ${id}`);
    }
  }
  if (typeof manifest.builds !== 'object' || manifest.builds === null) return fail('has no "builds" object');
  return manifest as ImagesManifest;
}
