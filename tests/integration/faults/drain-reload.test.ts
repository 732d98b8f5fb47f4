/**
 * Planned operations under closed-loop load on a real nginx (rate limit raised so only the operation
 * can fail a request): a replica's SIGTERM drain seen through the gateway, and `nginx -s reload`.
 * The API's own drain mechanics (a half-sent request finishing after SIGTERM) are proven directly in
 * tests/integration/api/server.test.ts; here the question is what clients of the gateway see.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import { pollUntil } from '../../../deployments/local/readiness';
import type { LocalStack } from '../../../deployments/local/stack';
import { API_ROUTES } from '../../../deployments/names';
import { type Prediction, httpsBase, keepAliveAgent, predict, startTestStack } from '../gateway/helpers';
import { childPids, nginxReload, restartStopped } from './helpers';

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({
    nginx: { rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await restartStopped(stack);
}, 120_000);

const v1 = () => stack.replicas.filter((r) => r.variant === 'v1');

interface Outcome {
  readonly id: string;
  readonly status: number;
  readonly replica?: string;
  readonly error?: string;
  /** Epoch ms, set by `closedLoop`. */
  readonly sentAt?: number;
  readonly doneAt?: number;
}

/** Closed-loop load: `workers` loops each sending the next request as soon as the last one answered. */
function closedLoop(label: string, workers: number, send: (id: string) => Promise<Outcome>) {
  const outcomes: Outcome[] = [];
  let stopped = false;
  let next = 0;
  const loops = Array.from({ length: workers }, async () => {
    while (!stopped) {
      const sentAt = Date.now();
      const outcome = await send(`${label}-${next++}`);
      outcomes.push({ ...outcome, sentAt, doneAt: Date.now() });
    }
  });
  return {
    outcomes,
    stop: async () => {
      stopped = true;
      await Promise.all(loops);
      return outcomes;
    },
  };
}

/** Sockets of a listener on `port` holding bytes its (stopped) process has not read: requests waiting for it. */
async function unreadConnections(port: number): Promise<number> {
  const table = await readFile('/proc/net/tcp', 'utf8');
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([, local, , state, queues]) => {
      const localPort = parseInt(local?.split(':')[1] ?? '', 16);
      const unread = parseInt(queues?.split(':')[1] ?? '0', 16);
      return localPort === port && state === '01' && unread > 0;
    }).length;
}

test('SIGTERM to a v1 replica with requests in flight: they complete on it, no request fails, and it exits 0', async () => {
  const victim = v1()[2]!;
  const agent = keepAliveAgent(stack, 12);
  const load = closedLoop('drain', 12, async (id) => {
    try {
      const response = await predict(stack, `drain ${id}`, { agent, headers: { 'X-Request-ID': id } });
      return {
        id,
        status: response.status,
        replica: response.status === 200 ? response.json<Prediction>().replica : undefined,
      };
    } catch (error) {
      return { id, status: 0, error: String(error) };
    }
  });
  let exit: Awaited<ReturnType<typeof victim.process.exited>>;
  let signalledAt = Number.NaN;
  let drainMs: number;
  try {
    await pollUntil(async () => load.outcomes.filter((o) => o.replica === victim.id).length >= 5, {
      what: `${victim.id} to serve the load`,
      timeoutMs: 30_000,
    });
    // Freeze the replica until nginx has requests waiting on it, so some are surely in flight at SIGTERM.
    victim.process.kill('SIGSTOP');
    try {
      await pollUntil(async () => (await unreadConnections(victim.port)) >= 2, {
        what: `requests waiting on the stopped ${victim.id}`,
        timeoutMs: 5_000,
        intervalMs: 20,
      });
      signalledAt = Date.now();
      victim.process.kill('SIGTERM');
    } finally {
      victim.process.kill('SIGCONT');
    }
    exit = await victim.process.exited();
    drainMs = Date.now() - signalledAt;
    const served = load.outcomes.length;
    await pollUntil(async () => load.outcomes.length >= served + 20, {
      what: 'load after the exit',
      timeoutMs: 30_000,
    });
  } finally {
    await load.stop();
    agent.destroy();
  }
  expect(exit).toEqual({ code: 0, signal: null });
  expect(drainMs).toBeLessThan(10_000);
  expect(load.outcomes.filter((o) => o.status !== 200)).toEqual([]);
  // Requests sent before SIGTERM and answered after it by the victim itself: in flight, completed.
  const inFlight = load.outcomes.filter(
    (o) => o.sentAt! < signalledAt && o.doneAt! > signalledAt && o.replica === victim.id,
  );
  expect(inFlight.length).toBeGreaterThan(0);
  // After its exit nobody is answered by it.
  const exitedAt = load.outcomes
    .filter((o) => o.replica === victim.id)
    .reduce((t, o) => Math.max(t, o.doneAt!), 0);
  expect(load.outcomes.filter((o) => o.sentAt! > exitedAt).every((o) => o.replica !== victim.id)).toBe(true);
}, 120_000);

/** The master's worker pids once a reload has replaced all of them. */
async function reloadAndWait(masterPid: number): Promise<number[]> {
  const before = await childPids(masterPid);
  await nginxReload(stack);
  return pollUntil(
    async () => {
      const now = await childPids(masterPid);
      return now.length > 0 && now.every((pid) => !before.includes(pid)) ? now : undefined;
    },
    { what: 'new nginx workers to replace the old ones', timeoutMs: 20_000, intervalMs: 50 },
  );
}

/** Runs `reloads` reloads, one after another, while the load runs; returns every worker generation. */
async function reloadsDuring(load: { outcomes: readonly Outcome[] }, reloads: number): Promise<number[][]> {
  const masterPid = stack.nginx.pid!;
  const generations = [await childPids(masterPid)];
  for (let i = 0; i < reloads; i++) {
    const served = load.outcomes.length;
    await pollUntil(async () => load.outcomes.length >= served + 20, {
      what: 'load between reloads',
      timeoutMs: 30_000,
    });
    generations.push(await reloadAndWait(masterPid));
  }
  const served = load.outcomes.length;
  await pollUntil(async () => load.outcomes.length >= served + 20, {
    what: 'load after the reloads',
    timeoutMs: 30_000,
  });
  expect(stack.nginx.running()).toBe(true);
  return generations;
}

test('nginx -s reload during load: zero failed requests for clients opening a connection per request', async () => {
  const load = closedLoop('reload-fresh', 6, async (id) => {
    try {
      const response = await predict(stack, `reload ${id}`, { headers: { 'X-Request-ID': id } });
      return { id, status: response.status };
    } catch (error) {
      return { id, status: 0, error: String(error) };
    }
  });
  let generations: number[][];
  try {
    generations = await reloadsDuring(load, 3);
  } finally {
    await load.stop();
  }
  // Three reloads really happened: four disjoint generations of workers under one master.
  expect(new Set(generations.flat()).size).toBe(generations.flat().length);
  expect(load.outcomes.length).toBeGreaterThanOrEqual(80);
  expect(load.outcomes.filter((o) => o.status !== 200)).toEqual([]);
}, 120_000);

interface KeepAliveOutcome extends Outcome {
  readonly reusedSocket?: boolean;
  readonly code?: string;
}

/** One POST on `agent`, reporting whether the socket was a reused keep-alive one (Node's `reusedSocket`). */
function postOn(agent: https.Agent | false, id: string): Promise<KeepAliveOutcome> {
  const body = JSON.stringify({ sentence: `reload ${id}` });
  return new Promise((resolve) => {
    const request = https.request(
      `${httpsBase(stack)}${API_ROUTES.predict}`,
      {
        method: 'POST',
        agent,
        ca: stack.tls.caCertPem,
        auth: `${stack.auth.user}:${stack.auth.password}`,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'x-request-id': id,
        },
        timeout: 10_000,
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ id, status: response.statusCode ?? 0 }));
      },
    );
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ id, status: 0, error: error.message, code: error.code, reusedSocket: request.reusedSocket }),
    );
    request.end(body);
  });
}

test('nginx -s reload during keep-alive load: only idle connections are reset, before nginx reads the request, so one retry makes it zero', async () => {
  // nginx closes idle connections when old workers shut down: keep-alive ones, and, on a loaded
  // machine, ones an old worker accepted in that instant before their request arrived (seen on CI).
  // A request written at that moment is reset (nginx trac #1022; `keepalive_min_timeout` in nginx
  // 1.31 narrows it). Node's advice for such resets is to retry; this proves the retry is safe.
  const agent = new https.Agent({ keepAlive: true, maxSockets: 6 });
  const retried: { first: KeepAliveOutcome; retry: KeepAliveOutcome }[] = [];
  const load = closedLoop('reload-keepalive', 6, async (id) => {
    const first = await postOn(agent, id);
    if (first.status !== 0) return first;
    const retry = await postOn(false, `${id}-retry`);
    retried.push({ first, retry });
    return { ...retry, id };
  });
  try {
    await reloadsDuring(load, 3);
  } finally {
    await load.stop();
    agent.destroy();
  }
  expect(load.outcomes.filter((o) => o.status !== 200)).toEqual([]);
  // Every first attempt that failed was a reset (no answer), and its retry succeeded.
  expect(
    retried.filter(({ first, retry }) => !(first.code === 'ECONNRESET' && retry.status === 200)),
  ).toEqual([]);
  // nginx never read the reset requests: the access log has every answered request and none of them.
  const lastId = load.outcomes.at(-1)!.id;
  const log = await pollUntil(
    async () => {
      const text = await readFile(stack.accessLogPath, 'utf8');
      return text.includes(`"request_id":"${lastId}"`) ? text : undefined;
    },
    { what: 'the access log to catch up', timeoutMs: 5_000 },
  );
  for (const { first } of retried) {
    expect(log).not.toContain(`"request_id":"${first.id}"`);
  }
}, 120_000);
