/**
 * The Docker engine as the air-gapped tools and tests drive it: Debian's /usr/bin/docker, and the
 * images `npm run airgap:images` recorded in images.json (checked to be in the engine, never built here).
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { airgapCacheRoot } from './cache';
import { DOCKER } from './images/commands';
import { parseManifest, type ImagesManifest } from './images/manifest';
import { DEFAULT_AIRGAP_IMAGES_SETTINGS } from './images/settings';

const REPO = path.resolve(__dirname, '..');
export const MANIFEST = path.join(airgapCacheRoot(), DEFAULT_AIRGAP_IMAGES_SETTINGS.cacheDir, 'images.json');

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the Docker CLI; never rejects on a non-zero exit (the caller asserts on `code`). */
export function dockerExec(args: readonly string[], input?: Buffer): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const child = spawn(DOCKER, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      }),
    );
    child.stdin.end(input);
  });
}

/** Runs the Docker CLI and returns stdout; rejects with the command and its stderr on failure. */
export async function docker(args: readonly string[], input?: Buffer): Promise<string> {
  const result = await dockerExec(args, input);
  if (result.code !== 0) {
    throw new Error(`docker ${args.slice(0, 3).join(' ')} … exited ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout.trim();
}

/** The built images, or a message saying how to build them; every image must be in the engine. */
export async function builtImages(): Promise<ImagesManifest> {
  let text: string;
  try {
    text = await readFile(MANIFEST, 'utf8');
  } catch {
    throw new Error(
      `${path.relative(REPO, MANIFEST)} is missing: the airgap images are not built. ` +
        'Run `npm run airgap:images` first (this tier never builds them).',
    );
  }
  const manifest = parseManifest(text, path.relative(REPO, MANIFEST));
  await new Promise<void>((resolve, reject) =>
    execFile(DOCKER, ['version'], (error) =>
      error ? reject(new Error(`no Docker engine reachable through ${DOCKER}: ${error.message}`)) : resolve(),
    ),
  );
  for (const ref of Object.values(manifest.images)) {
    const found = await dockerExec(['image', 'inspect', '--format', '{{.Id}}', ref]);
    if (found.code !== 0) {
      throw new Error(`${ref} (from images.json) is not in the engine: run \`npm run airgap:images\``);
    }
  }
  return manifest;
}
