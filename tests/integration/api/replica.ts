import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export const REPO = resolve(__dirname, '../../..');
/** The start command other tools use (the local stack spawns replicas this way). */
export const TSX_SERVER = ['--import', 'tsx', 'services/api/src/server.ts'];

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A replica process: its parsed JSON log lines, its stderr, and helpers to wait on both. */
export interface Replica {
  child: ChildProcess;
  lines: LogLine[];
  stderr(): string;
  exited: Promise<Exit>;
  /** Resolves with the first log line with this msg, or rejects at the deadline or on exit. */
  waitForLog(msg: string, timeoutMs?: number): Promise<LogLine>;
  /** SIGKILL if still running (test clean-up). */
  kill(): Promise<void>;
}

/** Env for a replica: the caller's env without API variables, plus the given ones. */
function replicaEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env };
  for (const name of [
    'PORT',
    'HOST',
    'API_VARIANT',
    'MODEL_PATH',
    'REPLICA_ID',
    'LOG_LEVEL',
    'NODE_OPTIONS',
  ]) {
    delete base[name];
  }
  return { ...base, ...env };
}

/** How to start the process: `node <args>` by default, or another command (e.g. npm) in its own group. */
export interface Launch {
  command?: string;
  args?: string[];
  cwd?: string;
  /** Own process group, so a signal can reach npm and everything it started. */
  detached?: boolean;
}

/** Spawns a replica from the repository root with PORT=0 on 127.0.0.1 unless overridden. */
export function spawnReplica(env: Record<string, string> = {}, launch: Launch = {}): Replica {
  const child = spawn(launch.command ?? process.execPath, launch.args ?? TSX_SERVER, {
    cwd: launch.cwd ?? REPO,
    env: replicaEnv({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: launch.detached ?? false,
  });
  const lines: LogLine[] = [];
  const waiters: { msg: string; resolve: (l: LogLine) => void }[] = [];
  let pending = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete) {
      // npm and tsx may print banners around the JSON log lines.
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as LogLine;
      lines.push(line);
      for (const w of waiters.filter((w) => w.msg === line.msg)) w.resolve(line);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<Exit>((done) => child.on('exit', (code, signal) => done({ code, signal })));

  // Generous: tsx start-up on a 2-core machine busy with other test tiers can take tens of seconds.
  const waitForLog = (msg: string, timeoutMs = 60_000) =>
    new Promise<LogLine>((done, fail) => {
      const seen = lines.find((l) => l.msg === msg);
      if (seen) return done(seen);
      const timer = setTimeout(
        () => fail(new Error(`no "${msg}" log within ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs,
      );
      waiters.push({
        msg,
        resolve: (line) => {
          clearTimeout(timer);
          done(line);
        },
      });
      void exited.then((exit) => {
        clearTimeout(timer);
        fail(new Error(`replica exited (${JSON.stringify(exit)}) before "${msg}"; stderr: ${stderr}`));
      });
    });

  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    waitForLog,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        if (launch.detached) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Starts a replica and waits until it listens; returns it with its base URL. */
export async function startReplica(
  env: Record<string, string> = {},
  launch: Launch = {},
): Promise<Replica & { url: string; port: number }> {
  const replica = spawnReplica(env, launch);
  try {
    const listening = await replica.waitForLog('listening');
    const port = listening.port as number;
    return { ...replica, port, url: `http://127.0.0.1:${port}` };
  } catch (error) {
    await replica.kill();
    throw error;
  }
}

/** Resolves with the exit, or rejects if the process is still running at the deadline. */
export function exitWithin(replica: Replica, timeoutMs: number): Promise<Exit> {
  return Promise.race([
    replica.exited,
    new Promise<Exit>((_, fail) =>
      setTimeout(() => fail(new Error(`still running after ${timeoutMs} ms`)), timeoutMs).unref(),
    ),
  ]);
}
