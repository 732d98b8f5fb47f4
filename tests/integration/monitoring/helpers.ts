/** Helpers for the monitoring integration tests: run real binaries, temp dirs, processes polled for readiness. */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Result of a finished command. */
export interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** Runs `command` to completion (bounded by `timeoutMs`), capturing stdout + stderr. */
export function run(command: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      [...args],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          reject(new Error(`${command} failed to run: ${error.message}`));
          return;
        }
        resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** A fresh temp directory, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `content` to `dir/relative` (parents created) and returns the absolute path. */
export async function put(dir: string, relative: string, content: string): Promise<string> {
  const target = path.join(dir, relative);
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, content);
  return target;
}

/** A free TCP port on 127.0.0.1, asked of the OS. */
export function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Calls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function poll<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) {
        return value;
      }
    } catch (error) {
      if ((error as { fatal?: boolean }).fatal === true) {
        throw error;
      }
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A started process with its captured output. */
export interface Proc {
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Spawns `command`, then polls `ready` until it resolves true (failing early if the process exits). */
export async function startProcess(
  command: string,
  args: readonly string[],
  ready: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<Proc> {
  const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const proc: Proc = {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    await poll(
      `${path.basename(command)} to be ready`,
      async () => {
        if (child.exitCode !== null) {
          throw Object.assign(new Error(`${command} exited with ${child.exitCode}: ${output.slice(-2000)}`), {
            fatal: true,
          });
        }
        return ready();
      },
      timeoutMs,
    );
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return proc;
}

/** GET `url`; resolves the status and body, or throws on a connection error. */
export async function httpGet(url: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}

/** true if GET `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  try {
    return (await httpGet(url, 2_000)).status === 200;
  } catch {
    return false;
  }
}
