/**
 * Cache keys: an image is rebuilt only when one of its inputs changes. Pure (hashing only).
 *
 * Each image carries its key as a label ({@link KEY_LABEL}); images.json records the tag per key.
 * A step is skipped when images.json has its key and the engine still holds that tag with the same
 * label, so a deleted or retagged image is rebuilt. Keys chain: a child's inputs include its
 * parent's key, so a new base rebuilds everything above it. What a key does not see: newer Debian
 * packages on the mirror (use `--rebuild` to pick up security updates).
 */
import { createHash } from 'node:crypto';

/** Image label holding the cache key. */
export const KEY_LABEL = 'org.sentiment-gateway.airgap.key';

/** Bump to invalidate every key when the build logic itself changes. */
export const KEY_SCHEMA = 1;

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/**
 * The key of one build step: sha256 over the schema, the step name and its inputs sorted by name.
 *
 * @example cacheKey('nginx', { dockerfile: text, base: baseKey, package: 'nginx' })
 */
export function cacheKey(step: string, inputs: Readonly<Record<string, string>>): string {
  const entries = Object.keys(inputs)
    .sort()
    .map((name) => [name, inputs[name]!]);
  return sha256(JSON.stringify([KEY_SCHEMA, step, entries]));
}

/** A file of a build context and its content hash. */
export interface ContextFile {
  /** Path relative to the context root, `/`-separated. */
  readonly path: string;
  readonly sha256: string;
}

/** One digest for a build context: its files' paths and hashes, in path order (the walk order does not matter). */
export function contextDigest(files: readonly ContextFile[]): string {
  const lines = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.path}\0${f.sha256}\n`);
  return sha256(lines.join(''));
}

/**
 * The paths a `.dockerignore` allow-list sends to the build: it must start with `*` (exclude all),
 * then list `!path` lines without wildcards. Anything else is refused rather than guessed at.
 */
export function dockerignoreAllowList(text: string): string[] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines[0] !== '*')
    throw new Error(`.dockerignore must start with "*" (an allow-list), got ${JSON.stringify(lines[0])}`);
  return lines.slice(1).map((line) => {
    if (!/^![A-Za-z0-9._/-]+$/.test(line) || line.includes('..')) {
      throw new Error(`.dockerignore line ${JSON.stringify(line)} is not a plain "!path" entry`);
    }
    return line.slice(1).replace(/\/$/, '');
  });
}

/** npm's `integrity` of a tarball: `sha512-` and the base64 digest (what `npm pack --json` reports). */
export function integrityOf(bytes: Uint8Array): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}
