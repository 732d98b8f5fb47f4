/**
 * Runs the air-gapped toolchain's `pulumi` against a throw-away copy of this project (tests, benchmarks): a temporary
 * folder that links every source of the repository but holds its own stack config files, and a
 * `file://` backend inside it, so a test never writes to the repository or to the toolchain's
 * plugin home.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pulumiEnv } from './toolchain/env';
import { builtToolchain } from './toolchain/run';

export const REPO_ROOT = path.resolve(__dirname, '..');

/** The built toolchain folder; fails with the command to run when there is none. */
export async function requireToolchain(): Promise<string> {
  const dir = await builtToolchain(REPO_ROOT);
  if (dir === null) {
    throw new Error(
      'the air-gapped toolchain is not built for this lockfile: run `npm run airgap:toolchain` first',
    );
  }
  return dir;
}

export interface PulumiResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PulumiProject {
  /** The project folder (links to the repository's sources). */
  dir: string;
  /** The environment its `pulumi` runs with (toolchain, backend, passphrase), for other commands. */
  env: NodeJS.ProcessEnv;
  /** Runs `pulumi args...` in the project with the toolchain's environment; never rejects on exit codes. */
  pulumi(args: readonly string[], options?: { timeoutMs?: number }): Promise<PulumiResult>;
  /** Like {@link pulumi}, but throws with the output when the exit code is not 0. */
  pulumiOk(args: readonly string[], options?: { timeoutMs?: number }): Promise<string>;
  /** Removes the folder (state included). */
  remove(): Promise<void>;
}

/** Entries of the repository root never linked into a project copy. */
const NOT_LINKED = new Set(['.git', '.cache', '.stack', 'coverage']);

/**
 * A copy of the project in a temporary folder: every top-level entry of the repository linked,
 * except the stack config files (`Pulumi.<stack>.yaml`), of which only `stackFiles` are copied.
 */
export async function pulumiProject(
  toolchainDir: string,
  stackFiles: readonly string[] = [],
): Promise<PulumiProject> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sg-pulumi-'));
  const project = path.join(dir, 'project');
  const state = path.join(dir, 'state');
  await Promise.all([project, state].map((d) => mkdir(d)));
  for (const entry of await readdir(REPO_ROOT)) {
    if (NOT_LINKED.has(entry) || /^Pulumi\..+\.yaml$/.test(entry)) continue;
    await symlink(path.join(REPO_ROOT, entry), path.join(project, entry));
  }
  for (const file of stackFiles) await copyFile(path.join(REPO_ROOT, file), path.join(project, file));

  const env = {
    ...process.env,
    ...pulumiEnv(toolchainDir, process.env.PATH),
    PULUMI_BACKEND_URL: `file://${state}`,
    // Encrypts the test stack's secrets; the state lives as long as the test.
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString('base64url'),
    PULUMI_SKIP_CONFIRMATIONS: 'true',
    PULUMI_COPILOT: 'false',
    NO_COLOR: '1',
  };
  const run = (args: readonly string[], options: { timeoutMs?: number } = {}) =>
    new Promise<PulumiResult>((resolve, reject) => {
      const child = spawn('pulumi', [...args, '--non-interactive'], {
        cwd: project,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 300_000);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  return {
    dir: project,
    env,
    pulumi: run,
    async pulumiOk(args, options) {
      const result = await run(args, options);
      if (result.code !== 0) {
        throw new Error(
          `pulumi ${args.join(' ')} exited ${result.code}:\n${result.stdout}\n${result.stderr}`,
        );
      }
      return result.stdout;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
