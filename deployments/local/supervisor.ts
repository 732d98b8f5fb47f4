/**
 * A process supervisor for the local stack: starts services from specs, waits for their readiness,
 * writes each one's output to a log file, and stops every process group it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PollAbort, pollUntil } from './readiness';

/** How to run one service. */
export interface ServiceSpec {
  /** Unique name: log file name and label in messages (e.g. `api-v1-1`, `nginx`, `prometheus`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the supervisor's environment. */
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Resolves true once the service serves; polled until `readyTimeoutMs`. None: ready once spawned. */
  readonly ready?: () => Promise<boolean>;
  /** Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** Signal for a graceful stop. Default SIGTERM. */
  readonly stopSignal?: NodeJS.Signals;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running (or stopped) service. */
export interface ServiceHandle {
  readonly name: string;
  readonly spec: ServiceSpec;
  /** Combined stdout/stderr of every run, appended. */
  readonly logPath: string;
  /** pid of the current run (undefined before the first start). */
  readonly pid: number | undefined;
  running(): boolean;
  /** Sends `signal` to the process now and returns (no waiting): `kill('SIGKILL')` is kill -9. */
  kill(signal?: NodeJS.Signals): void;
  /** Resolves when the current run exits. */
  exited(): Promise<ExitInfo>;
  /** Graceful stop: `stopSignal`, then SIGKILL to the process group after `timeoutMs` (default 10 s). */
  stop(timeoutMs?: number): Promise<void>;
  /** Starts the service again with the same spec (after a kill or stop) and waits for readiness. */
  restart(): Promise<void>;
}

/** Events: `exit` (handle, info, expected) whenever a service's process ends. */
export class Supervisor extends EventEmitter {
  private readonly services = new Map<string, ManagedService>();
  private readonly exitHook = () => this.killAllNow();

  /** @param logDir directory for `<name>.log` files (must exist). */
  constructor(private readonly logDir: string) {
    super();
    // Last resort if the owner dies without stop(): children live in their own process groups.
    process.once('exit', this.exitHook);
  }

  /** Starts a service and waits until it is ready; fails (with its log tail) if it exits first. */
  async start(spec: ServiceSpec): Promise<ServiceHandle> {
    if (this.services.has(spec.name)) {
      throw new Error(`service ${spec.name} is already supervised`);
    }
    const service = new ManagedService(spec, path.join(this.logDir, `${spec.name}.log`), this);
    this.services.set(spec.name, service);
    await service.launch();
    return service;
  }

  /** The handle of a started service. */
  get(name: string): ServiceHandle | undefined {
    return this.services.get(name);
  }

  /** Every started service, in start order. */
  list(): ServiceHandle[] {
    return [...this.services.values()];
  }

  /** Stops every service, last started first, and forgets them. */
  async stopAll(timeoutMs = 10_000): Promise<void> {
    const services = [...this.services.values()].reverse();
    for (const service of services) {
      await service.stop(timeoutMs);
    }
    this.services.clear();
    process.removeListener('exit', this.exitHook);
  }

  private killAllNow(): void {
    for (const service of this.services.values()) {
      service.killGroup('SIGKILL');
    }
  }
}

class ManagedService implements ServiceHandle {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<ExitInfo> = Promise.resolve({ code: null, signal: null });
  private alive = false;
  private stopping = false;

  constructor(
    readonly spec: ServiceSpec,
    readonly logPath: string,
    private readonly events: EventEmitter,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  running(): boolean {
    return this.alive;
  }

  exited(): Promise<ExitInfo> {
    return this.exitPromise;
  }

  async launch(): Promise<void> {
    const log = openSync(this.logPath, 'a', 0o600);
    let child: ChildProcess;
    try {
      child = spawn(this.spec.command, [...this.spec.args], {
        cwd: this.spec.cwd,
        env: { ...process.env, ...this.spec.env },
        stdio: ['ignore', log, log],
        // Own process group: stop() reaches grandchildren (nginx workers) and Ctrl-C in a terminal
        // reaches only the supervisor, which then stops services in order.
        detached: true,
      });
    } finally {
      closeSync(log);
    }
    this.child = child;
    this.stopping = false;
    this.alive = true;
    this.exitPromise = new Promise<ExitInfo>((resolve) => {
      child.once('error', (error) => {
        this.alive = false;
        this.events.emit('spawn-error', this, error);
        resolve({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => {
        this.alive = false;
        const info = { code, signal };
        this.events.emit('exit', this, info, this.stopping);
        resolve(info);
      });
    });
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    let exited: ExitInfo | undefined;
    void this.exitPromise.then((info) => (exited = info));
    const ready = this.spec.ready;
    await pollUntil(
      async () => {
        if (exited !== undefined || !this.alive) {
          throw new PollAbort(this.describeExit(exited));
        }
        return ready === undefined ? true : await ready();
      },
      { what: `${this.name} to be ready`, timeoutMs: this.spec.readyTimeoutMs ?? 30_000 },
    ).catch((error: unknown) => {
      this.killGroup('SIGKILL');
      const tail = this.logTail();
      throw new Error(
        `${this.name} did not start: ${(error as Error).message}\n--- ${this.logPath} ---\n${tail}`,
      );
    });
  }

  private describeExit(info: ExitInfo | undefined): string {
    if (info === undefined) {
      return 'it could not be spawned';
    }
    return `it exited (${info.signal === null ? `code ${info.code}` : `signal ${info.signal}`})`;
  }

  private logTail(lines = 20): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.alive && this.child?.pid !== undefined) {
      process.kill(this.child.pid, signal);
    }
  }

  killGroup(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined) {
      return;
    }
    try {
      process.kill(-pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.stopping = true;
    if (this.alive) {
      this.kill(this.spec.stopSignal ?? 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([this.exitPromise, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.killGroup('SIGKILL');
        await this.exitPromise;
      }
    }
    // Leftovers of the group (e.g. workers of a SIGKILLed nginx master) go too.
    this.killGroup('SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.alive) {
      await this.stop();
    }
    await this.launch();
  }
}
