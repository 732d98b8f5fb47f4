/**
 * The Docker engine as the air-gapped tools and tests drive it: Debian's /usr/bin/docker, and the
 * images `npm run airgap:images` recorded in images.json (checked to be in the engine, never built here).
 */
import { execFile, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
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

const DOCKERD_PIDFILE = '/var/run/docker.pid';

async function engineAnswers(): Promise<boolean> {
  return (
    (await dockerExec(['version', '--format', '{{.Server.Version}}']).catch(() => ({ code: 1 }))).code === 0
  );
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Restarts the Docker engine as its owner would: `systemctl restart docker` under systemd, else
 * SIGTERM to the dockerd of the pid file and the same command line started again (detached, its log
 * in the temp folder), the way `.ci/run` started it. Resolves once the new engine answers.
 */
export async function restartEngine(): Promise<{ pid: number; log: string | null }> {
  const systemd = await new Promise<boolean>((resolve) =>
    execFile('systemctl', ['is-active', '--quiet', 'docker'], (error) => resolve(!error)),
  );
  if (systemd) {
    await new Promise<void>((resolve, reject) =>
      execFile('systemctl', ['restart', 'docker'], (error) => (error ? reject(error) : resolve())),
    );
    await waitFor('the engine after systemctl restart docker', 120_000, engineAnswers);
    return { pid: Number((await readFile(DOCKERD_PIDFILE, 'utf8')).trim()), log: null };
  }
  const pid = Number((await readFile(DOCKERD_PIDFILE, 'utf8')).trim());
  const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  if (!/dockerd$/.test(argv[0] ?? ''))
    throw new Error(`pid ${pid} of ${DOCKERD_PIDFILE} is not dockerd: ${argv.join(' ')}`);
  process.kill(pid, 'SIGTERM');
  const alive = () =>
    readFile(`/proc/${pid}/cmdline`, 'utf8').then(
      () => true,
      () => false,
    );
  await waitFor(`dockerd ${pid} to exit`, 120_000, async () => !(await alive()));
  const log = path.join(tmpdir(), 'dockerd-restarted.log');
  const out = openSync(log, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
  child.unref();
  await waitFor('the restarted engine', 120_000, engineAnswers);
  return { pid: child.pid!, log };
}

/** A container's memory: limit, current and peak use (bytes) from its cgroup, v1 or v2. */
export interface ContainerMemory {
  readonly limit: number;
  readonly peak: number;
}

function cgroupDirs(id: string): { v1: string; v2: string[] } {
  return {
    v1: `/sys/fs/cgroup/memory/docker/${id}`,
    v2: [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`],
  };
}

async function firstReadable(paths: string[]): Promise<string | null> {
  for (const p of paths) {
    const text = await readFile(p, 'utf8').catch(() => null);
    if (text !== null) return p;
  }
  return null;
}

/** Peak memory since the last {@link resetMemoryPeak} (or the container's start) and the limit. */
export async function containerMemory(id: string): Promise<ContainerMemory> {
  const { v1, v2 } = cgroupDirs(id);
  const peakFile = await firstReadable([
    `${v1}/memory.max_usage_in_bytes`,
    ...v2.map((d) => `${d}/memory.peak`),
  ]);
  if (peakFile === null) throw new Error(`no memory cgroup found for container ${id}`);
  const dir = path.dirname(peakFile);
  const limitFile = peakFile.endsWith('max_usage_in_bytes')
    ? `${dir}/memory.limit_in_bytes`
    : `${dir}/memory.max`;
  const number = async (file: string) => Number((await readFile(file, 'utf8')).trim());
  return { limit: await number(limitFile), peak: await number(peakFile) };
}

/** Starts a new peak measurement (cgroup v1 resets on write; v2 on kernels that allow it, else the peak since start). */
export async function resetMemoryPeak(id: string): Promise<void> {
  const { v1, v2 } = cgroupDirs(id);
  for (const file of [`${v1}/memory.max_usage_in_bytes`, ...v2.map((d) => `${d}/memory.peak`)]) {
    if (
      await writeFile(file, '0').then(
        () => true,
        () => false,
      )
    )
      return;
  }
}

/**
 * A copy of image `from` with one more label, tagged `<repository>:e2e-<time>`: a new image id with
 * the same content, which to the Pulumi program is exactly what a new release is. Returns the tag.
 */
export async function relabelImage(from: string, repository: string): Promise<string> {
  const tag = `${repository}:e2e-${Date.now().toString(36)}`;
  await docker(
    ['build', '--quiet', '--tag', tag, '-'],
    Buffer.from(`FROM ${from}\nLABEL sentiment-gateway.e2e="${tag}"\n`),
  );
  return tag;
}

/** A container event of the engine (`docker events`), its time in ms. */
export interface ContainerEvent {
  readonly status: string;
  readonly id: string;
  readonly time: number;
  /** The container's name, the exit code of a `die`, ... */
  readonly attributes: Readonly<Record<string, string>>;
}

/** The engine's container events between two instants (ms, a second of margin each side), filtered. */
export async function containerEvents(
  since: number,
  until: number,
  filters: readonly string[] = [],
): Promise<ContainerEvent[]> {
  const text = await docker([
    'events',
    '--since',
    String(Math.floor(since / 1000) - 1),
    '--until',
    String(Math.ceil(until / 1000) + 1),
    ...['type=container', ...filters].flatMap((f) => ['--filter', f]),
    '--format',
    '{{json .}}',
  ]);
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const e = JSON.parse(line) as {
        status: string;
        id: string;
        timeNano: number;
        Actor: { Attributes: Record<string, string> };
      };
      return { status: e.status, id: e.id, time: e.timeNano / 1e6, attributes: e.Actor.Attributes };
    });
}
