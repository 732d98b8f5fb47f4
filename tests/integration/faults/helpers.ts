/** Shared by the fault tests: paced load from several client addresses, nginx worker pids, replica logs. */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import type { HttpRequestError } from '../../../deployments/local/http-client';
import { findNginx } from '../../../deployments/local/nginx';
import type { LocalStack } from '../../../deployments/local/stack';
import { type GatewayClient, type Prediction, predict } from '../gateway/helpers';

const run = promisify(execFile);

/** One request of a load run, as the client saw it. */
export interface LoadOutcome {
  readonly client: string;
  readonly requestId: string;
  /** When the request was sent (epoch ms). */
  readonly sentAt: number;
  /** Client-side duration (ms). */
  readonly ms: number;
  /** 0 when the request failed without a response. */
  readonly status: number;
  readonly contentType?: string;
  readonly body?: string;
  readonly replica?: string;
  readonly version?: string;
  readonly error?: string;
  /** Id of a first attempt reset before any answer and retried (see `retryResets`). */
  readonly resetRetried?: string;
}

export interface SteadyLoadOptions {
  /** Source addresses (127.0.0.0/8); each has its own rate-limit bucket at the gateway. */
  readonly clients: readonly string[];
  /** Requests per second sent by each client, open loop (a slow answer does not slow the pace). */
  readonly perClientRate: number;
  readonly durationMs: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Actions run once `atMs` into the load (e.g. a kill -9), while requests keep flowing. */
  readonly actions?: readonly { readonly atMs: number; readonly run: () => void | Promise<void> }[];
  /** Prefix of the X-Request-ID of every request. */
  readonly label?: string;
  /**
   * Stop sending `tailMs` (default 2000) after this settles, even before `durationMs` (then a cap):
   * load that lasts exactly as long as an operation of unknown length, such as a `pulumi up`.
   */
  readonly stopAfter?: Promise<unknown>;
  readonly tailMs?: number;
  /**
   * Retry once, on a new connection, a request reset before any answer (ECONNRESET): what a
   * reload's closing of idle connections does, mostly to reused keep-alive ones (see README,
   * Faults). The outcome then records the reset attempt's request id in `resetRetried`, for the
   * caller to check nginx never read it. Default false.
   */
  readonly retryResets?: boolean;
}

const until = (t0: number, atMs: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, t0 + atMs - Date.now())));

/**
 * Paced load through the gateway: each client sends `perClientRate` predictions per second over its
 * own keep-alive connections for `durationMs`. Resolves with every outcome once all have answered.
 */
export async function steadyLoad(stack: GatewayClient, options: SteadyLoadOptions): Promise<LoadOutcome[]> {
  const perClient = Math.floor((options.durationMs / 1000) * options.perClientRate);
  const intervalMs = 1000 / options.perClientRate;
  const label = options.label ?? 'load';
  const agents = options.clients.map(
    (localAddress) => new https.Agent({ keepAlive: true, ca: stack.tls.caCertPem, localAddress }),
  );
  const t0 = Date.now();
  const pending: Promise<LoadOutcome>[] = [];
  let stopped = false;
  void options.stopAfter
    ?.then(
      () => undefined,
      () => undefined,
    )
    .then(() => setTimeout(() => (stopped = true), options.tailMs ?? 2000));
  const actions = (options.actions ?? []).map(async (action) => {
    await until(t0, action.atMs);
    await action.run();
  });
  const send = async (
    client: string,
    agent: https.Agent | undefined,
    i: number,
    resetRetried?: string,
  ): Promise<LoadOutcome> => {
    const requestId = resetRetried === undefined ? `${label}-${client}-${i}` : `${resetRetried}-retry`;
    const sentAt = Date.now();
    try {
      const response = await predict(stack, `steady load ${i}`, {
        ...(agent && { agent }),
        localAddress: client,
        headers: { 'X-Request-ID': requestId, ...options.headers },
      });
      const ms = Date.now() - sentAt;
      const contentType = String(response.headers['content-type'] ?? '');
      const body = response.status === 200 ? response.json<Prediction>() : undefined;
      return {
        client,
        requestId,
        sentAt,
        ms,
        status: response.status,
        contentType,
        body: response.body,
        replica: body?.replica,
        version: body?.version,
        ...(resetRetried !== undefined && { resetRetried }),
      };
    } catch (error) {
      const e = error as HttpRequestError;
      if (options.retryResets && resetRetried === undefined && e.code === 'ECONNRESET') {
        return send(client, undefined, i, requestId);
      }
      return {
        client,
        requestId,
        sentAt,
        ms: Date.now() - sentAt,
        status: 0,
        error: String(error),
        ...(resetRetried !== undefined && { resetRetried }),
      };
    }
  };
  await Promise.all(
    options.clients.map(async (client, c) => {
      for (let i = 0; i < perClient; i++) {
        await until(t0, i * intervalMs);
        if (stopped) break;
        pending.push(send(client, agents[c]!, i));
      }
    }),
  );
  try {
    await Promise.all(actions);
    return await Promise.all(pending);
  } finally {
    agents.forEach((agent) => agent.destroy());
  }
}

/** What a failed outcome looks like in an assertion message. */
export const failures = (outcomes: readonly LoadOutcome[]) =>
  outcomes
    .filter((o) => o.status !== 200)
    .map((o) => ({ id: o.requestId, at: o.sentAt, status: o.status, error: o.error, body: o.body }));

/** pids of the direct children of `pid` (nginx workers of a master). */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.trim() === '' ? [] : text.trim().split(/\s+/).map(Number);
}

/** Runs the real `nginx -s reload` against the stack's nginx (pid file, prefix and config of the stack). */
export async function nginxReload(stack: LocalStack): Promise<void> {
  const prefix = path.dirname(stack.nginx.confPath);
  await run(findNginx(), ['-p', `${prefix}/`, '-c', stack.nginx.confPath, '-e', 'stderr', '-s', 'reload'], {
    timeout: 10_000,
  });
}

/** Restarts every replica that is not running (a previous test may have killed one). */
export async function restartStopped(stack: LocalStack): Promise<void> {
  for (const replica of stack.replicas) {
    if (!replica.process.running()) {
      await replica.process.restart();
    }
  }
}
