/**
 * `npm run bench:api`: one API replica on 127.0.0.1 under autocannon load at several concurrencies.
 *
 * Builds the API (tsc, as the image does) and runs the image's CMD on the build, pinned to one CPU when `taskset`
 * exists; autocannon runs in a separate process pinned to the other CPU. Prints req/s, p50/p99 latency
 * and the replica's peak RSS (VmHWM from /proc) per run, and names the machine.
 *
 * Options: --duration <s> (default 10), --connections 1,16,64, --variant v1|v2, --batch (adds a run
 * with 64-sentence batches). Env MODEL_PATH overrides the committed model.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { API_ROUTES } from '../deployments/names';

const ROOT = resolve(__dirname, '..');

// Short texts of the kind the model sees (written for the benchmark, not taken from the data set).
const SENTENCES = [
  'I love this!',
  'so tired of waiting for the bus again',
  'happy birthday to my best friend, have a great day',
  'this is the worst monday ever',
  'just got home from work',
  "can't believe the concert is finally tonight!!",
  'missing you so much right now',
  'why does my phone always die when I need it',
  'what a beautiful morning',
  'ugh, stuck in traffic for an hour',
  'thank you all for the kind messages',
  'nothing to do today, so bored',
  'watching the rain and drinking tea',
  'I hate when people cancel plans last minute',
  'cannot stop laughing at this video',
  'feeling a bit under the weather today',
];

interface LoadSpec {
  url: string;
  connections: number;
  duration: number;
  batch: boolean;
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  /** CPU used by the load generator, in % of one core: near 100 means it, not the replica, is the limit. */
  loadCpu: number;
}

const percentile = (sorted: Float64Array, p: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

/** Load-generator mode: runs autocannon in this (separate) process and prints one JSON result line. */
async function runLoad(spec: LoadSpec): Promise<void> {
  let next = 0;
  const body = () =>
    JSON.stringify(
      spec.batch
        ? { sentences: Array.from({ length: 64 }, (_, i) => SENTENCES[(next + i) % SENTENCES.length]) }
        : { sentence: SENTENCES[next++ % SENTENCES.length] },
    );
  // autocannon's own histogram has 1 ms resolution; per-response times give sub-millisecond percentiles.
  const latencies: number[] = [];
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((done, fail) => {
    const instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.duration,
        requests: [
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => ({ ...request, body: body() }),
          },
        ],
      },
      (error: unknown, finished) => (error ? fail(error) : done(finished)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode === 200) latencies.push(responseTime);
    });
  });
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = Float64Array.from(latencies).sort();
  const out: LoadResult = {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    loadCpu: ((cpu.user + cpu.system) / 1000 / (performance.now() - started)) * 100,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

const cpuCount = cpus().length;
const pin = (cpu: number, command: string[]): string[] =>
  cpuCount >= 2 && existsSync('/usr/bin/taskset') ? ['taskset', '-c', String(cpu), ...command] : command;

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`replica exited with code ${child.exitCode} before becoming ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`replica not ready after ${deadlineMs} ms`);
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

/** User + system CPU seconds the process has used so far (/proc/<pid>/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

function memoryKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  const [command, ...args] = pin(1, [
    process.execPath,
    '--import',
    'tsx',
    __filename,
    '--load',
    JSON.stringify(spec),
  ]);
  const child = spawn(command!, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

/** The image's start command (the services/api/Dockerfile CMD), so the benchmark runs what ships. */
function imageCommand(): string[] {
  const dockerfile = readFileSync(resolve(ROOT, 'services/api/Dockerfile'), 'utf8');
  const cmd = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].at(-1)?.[1];
  const [node, ...args] = cmd === undefined ? [] : (JSON.parse(cmd) as string[]);
  if (node !== 'node') throw new Error('services/api/Dockerfile has no exec-form CMD ["node", ...]');
  return [process.execPath, ...args.map((arg) => (arg.startsWith('-') ? arg : resolve(ROOT, arg)))];
}

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu} x${cpuCount}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, Node ${process.version}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      load: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '1,16,64' },
      variant: { type: 'string', default: 'v1' },
      batch: { type: 'boolean', default: false },
    },
  });
  if (values.load !== undefined) return runLoad(JSON.parse(values.load) as LoadSpec);

  const duration = Number(values.duration);
  const connections = values.connections.split(',').map(Number);
  if (!(duration >= 1) || connections.some((c) => !(c >= 1))) {
    throw new Error('--duration must be >= 1 and --connections a list of integers >= 1');
  }
  process.stderr.write('building the API (tsc -p services/api/tsconfig.build.json)...\n');
  execFileSync(
    process.execPath,
    [resolve(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'services/api/tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const [command, ...args] = pin(0, imageCommand());
  // Logs go to /dev/null: writing them stays on the hot path, reading them would load the other core.
  const replica = spawn(command!, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_VARIANT: values.variant,
      REPLICA_ID: 'bench',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(`${base}${API_ROUTES.ready}`, replica, 30_000);
    const pid = replica.pid!;
    const rows: string[][] = [];
    const runs = [
      ...connections.map((c) => ({ connections: c, batch: false })),
      ...(values.batch ? [{ connections: 16, batch: true }] : []),
    ];
    process.stderr.write(`warm-up: 3 s at 16 connections\n`);
    await load({ url: `${base}${API_ROUTES.predict}`, connections: 16, duration: 3, batch: false });
    const loadBefore = loadavg()[0]!;
    for (const run of runs) {
      process.stderr.write(
        `${run.batch ? 'batch of 64' : 'single'}: ${duration} s at ${run.connections} connections\n`,
      );
      const cpuBefore = cpuSeconds(pid);
      const started = performance.now();
      const r = await load({
        url: `${base}${API_ROUTES.predict}`,
        connections: run.connections,
        duration,
        batch: run.batch,
      });
      const cpuUsed = cpuSeconds(pid) - cpuBefore;
      const replicaCpu = (cpuUsed / ((performance.now() - started) / 1000)) * 100;
      rows.push([
        run.batch ? 'batch(64)' : 'single',
        String(run.connections),
        r.rps.toFixed(0),
        r.p50.toFixed(2),
        r.p99.toFixed(2),
        String(r.errors + r.non2xx),
        (memoryKb(pid, 'VmHWM') / 1024).toFixed(1),
        replicaCpu.toFixed(0),
        ((cpuUsed / r.requests) * 1e6).toFixed(0),
        r.loadCpu.toFixed(0),
      ]);
    }
    const header = [
      'body',
      'connections',
      'req/s',
      'p50 ms',
      'p99 ms',
      'errors',
      'peak RSS MB',
      'replica CPU %',
      'CPU µs/req',
      'autocannon CPU %',
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padStart(widths[i]!)).join(' | ')} |`;
    console.log(`\nAPI benchmark: ${values.variant}, POST ${API_ROUTES.predict}, ${duration} s per run`);
    console.log(`machine: ${machine()}`);
    console.log(
      `1-min load average: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after ` +
        '(other work on the machine skews the figures)',
    );
    console.log(
      cpuCount >= 2 && existsSync('/usr/bin/taskset')
        ? 'pinning: replica on CPU 0, autocannon on CPU 1 (taskset)'
        : 'pinning: none (taskset or a second CPU missing)',
    );
    console.log(line(header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const row of rows) console.log(line(row));
    console.log(
      "peak RSS is the replica's VmHWM so far (a high-water mark, so it never decreases across rows)",
    );
    console.log(
      'CPU % is of one core over the run (replica pinned to one CPU: ~100 means the replica is saturated; ' +
        'autocannon near 100 means the load generator is the limit)',
    );
    console.log(
      'CPU µs/req is the replica CPU time per request, less sensitive to other load on the machine than req/s; ' +
        '1e6 / it approximates the req/s of one dedicated core',
    );
    console.log('targets (single, 64 connections): >= 4000 req/s, p99 <= 25 ms, peak RSS <= 150 MB');
  } finally {
    if (replica.exitCode === null) {
      const exited = new Promise((r) => replica.once('exit', r));
      replica.kill('SIGTERM');
      await exited;
    }
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
