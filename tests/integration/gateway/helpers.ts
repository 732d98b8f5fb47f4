/** Shared by the gateway integration tests: a local stack in a temp dir, and request helpers. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type HttpRequest, type HttpResponse, httpRequest } from '../../../deployments/local/http-client';
import { pollUntil } from '../../../deployments/local/readiness';
import {
  type GatewayClient,
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from '../../../deployments/local/stack';

export type { GatewayClient };
import { API_ROUTES } from '../../../deployments/names';

/** Starts a stack in a fresh temp dir; `stop()` also removes the dir. */
export async function startTestStack(options: Omit<LocalStackOptions, 'dir'> = {}): Promise<LocalStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gateway-it-'));
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ readyTimeoutMs: 90_000, ...options, dir });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const stop = stack.stop;
  return Object.assign(stack, {
    stop: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

/** `https://127.0.0.1:<port>`: loopback by address, so a chosen source address (127.0.0.2) can reach it. */
export const httpsBase = (stack: GatewayClient): string => `https://${stack.host}:${stack.ports.https}`;

export interface Prediction {
  prediction: string;
  version: string;
  replica: string;
}

/** POST /predict through the gateway with the stack's CA and credentials (override any of it). */
export function predict(
  stack: GatewayClient,
  sentence: unknown,
  req: Omit<HttpRequest, 'url'> = {},
): Promise<HttpResponse> {
  return httpRequest({
    url: `${httpsBase(stack)}${API_ROUTES.predict}`,
    ca: stack.tls.caCertPem,
    auth: stack.auth,
    body: { sentence },
    ...req,
  });
}

/** A keep-alive agent trusting the stack's CA (steady load without a handshake per request). */
export function keepAliveAgent(stack: LocalStack, maxSockets: number): https.Agent {
  return new https.Agent({ keepAlive: true, maxSockets, ca: stack.tls.caCertPem });
}

/** Runs `total` calls of `task` with at most `concurrency` in flight; results in call order. */
export async function runPool<T>(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = new Array<T>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

/** Counts of each value. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) {
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

/** The JSON access-log entry of the request with this X-Request-ID (polled: nginx writes it after the response). */
export function accessLogEntry(stack: LocalStack, requestId: string): Promise<Record<string, unknown>> {
  return pollUntil(
    async () => {
      const lines = (await readFile(stack.accessLogPath, 'utf8')).trim().split('\n');
      const line = lines.find((l) => l.includes(`"request_id":"${requestId}"`));
      return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
    },
    { what: `the access log entry of ${requestId}`, timeoutMs: 5_000 },
  );
}
