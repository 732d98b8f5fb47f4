/**
 * The airgap tier's access to the real engine: Debian's /usr/bin/docker, the images recorded in
 * images.json (never built here: `npm run airgap:images` runs first), and a scope that names every
 * container, network and volume with one unique prefix and removes them all at the end.
 */
import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DOCKER } from '../../airgap/images/commands';
import { parseManifest, type ImagesManifest } from '../../airgap/images/manifest';
import { airgapCacheRoot } from '../../airgap/cache';
import { DEFAULT_AIRGAP_IMAGES_SETTINGS } from '../../airgap/images/settings';
import { PollAbort, pollUntil } from '../../deployments/local/readiness';
import { uploadTar, type Upload } from './uploads';

const REPO = path.resolve(__dirname, '../..');
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

/** Every Docker object a test file makes, under one prefix, removed by {@link Scope.cleanup}. */
export class Scope {
  readonly prefix = `sg-airgap-${process.pid}-${Date.now().toString(36)}`;
  private readonly containers: string[] = [];
  private readonly networks: string[] = [];
  private readonly volumes: string[] = [];

  name(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  async network(suffix: string): Promise<string> {
    const name = this.name(suffix);
    this.networks.push(name);
    await docker(['network', 'create', '--label', `sentiment-gateway.test=${this.prefix}`, name]);
    return name;
  }

  async volume(suffix: string): Promise<string> {
    const name = this.name(suffix);
    this.volumes.push(name);
    await docker(['volume', 'create', '--label', `sentiment-gateway.test=${this.prefix}`, name]);
    return name;
  }

  /**
   * `docker create` + uploads + `docker start`: the files are in place before the process starts,
   * as with the Pulumi provider. `options` are `docker create` flags; `command` follows the image.
   */
  async run(
    suffix: string,
    options: readonly string[],
    image: string,
    command: readonly string[] = [],
    uploads: readonly Upload[] = [],
  ): Promise<string> {
    const name = this.name(suffix);
    this.containers.push(name);
    await docker([
      'create',
      '--name',
      name,
      '--label',
      `sentiment-gateway.test=${this.prefix}`,
      ...options,
      image,
      ...command,
    ]);
    if (uploads.length > 0) {
      await docker(['cp', '--archive', '-', `${name}:/`], uploadTar(uploads, Date.now() / 1000));
    }
    await docker(['start', name]);
    return name;
  }

  /** Removes every container (with anonymous volumes), then the networks and volumes; collects errors. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    const attempt = async (args: string[]) => {
      const result = await dockerExec(args);
      if (result.code !== 0 && !/No such/i.test(result.stderr)) errors.push(result.stderr.trim());
    };
    if (this.containers.length > 0) await attempt(['rm', '--force', '--volumes', ...this.containers]);
    for (const network of this.networks) await attempt(['network', 'rm', network]);
    if (this.volumes.length > 0) await attempt(['volume', 'rm', '--force', ...this.volumes]);
    if (errors.length > 0) throw new Error(`cleanup of ${this.prefix} failed: ${errors.join('; ')}`);
  }
}

/** Host port a container publishes `port` on (127.0.0.1). */
export async function publishedPort(container: string, port: number): Promise<number> {
  const out = await docker(['port', container, `${port}/tcp`]);
  const match = /127\.0\.0\.1:(\d+)/.exec(out);
  if (match === null) throw new Error(`${container} publishes ${port} on no 127.0.0.1 port (${out})`);
  return Number(match[1]);
}

/** Polls a command inside the container until it exits 0; fails early if the container stopped. */
export async function untilExecPasses(
  container: string,
  command: readonly string[],
  timeoutMs = 60_000,
): Promise<Exec> {
  let last: Exec | undefined;
  try {
    return await pollUntil(
      async () => {
        last = await dockerExec(['exec', container, ...command]);
        if (last.code === 0) return last;
        const running = await docker(['inspect', '--format', '{{.State.Running}}', container]);
        if (running !== 'true') {
          const logs = await dockerExec(['logs', '--tail', '20', container]);
          throw new StoppedError(`${container} stopped:\n${logs.stdout}${logs.stderr}`);
        }
        return undefined;
      },
      { what: `${command.join(' ')} in ${container}`, timeoutMs, intervalMs: 500 },
    );
  } catch (error) {
    if (error instanceof StoppedError) throw error;
    const logs = await dockerExec(['logs', '--tail', '20', container]);
    throw new Error(
      `${(error as Error).message}\nlast exit ${last?.code}: ${last?.stderr.trim()}\n${container} logs:\n${logs.stdout}${logs.stderr}`,
      { cause: error },
    );
  }
}

/** Ends the poll at once: a stopped container will not pass later. */
class StoppedError extends PollAbort {}
