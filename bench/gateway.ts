/**
 * `npm run bench:gateway`: the local stack (3 v1 replicas behind the real nginx, TLS, basic auth) under
 * wrk load at several concurrencies, against one replica called directly, and with auth turned off.
 *
 * Per concurrency, three runs back to back so drift on a shared machine hits them alike: one replica
 * direct (plain HTTP, keep-alive), the gateway (HTTPS keep-alive, auth on), the gateway with the
 * `auth_basic` lines removed (nginx reloaded, checked with a request without credentials). The rate
 * limit is raised for the run; everything else is the rendered production config (access log on).
 * wrk (C, one thread) is the load generator: it needs far less CPU per request than a Node client, and
 * the 2-core machine is shared with the system under test.
 *
 * The cost of auth is a difference of two throughputs on a saturated 2-core machine, where one 10 s
 * run can differ from the next by 10-15 %. So it is judged on its own: at the highest concurrency,
 * `--auth-rounds` pairs of auth-on and auth-off runs in alternating order (on-off, off-on, ...), the
 * cost taken per pair and the median reported with the range.
 *
 * Options: --duration <s> (default 10), --connections 1,16,64, --warmup <s> (default 3),
 * --auth-rounds <n> (default 3), --json <file> (write the results). Prints a markdown table and the
 * targets with pass/miss.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { httpRequest } from '../deployments/local/http-client';
import { findNginx } from '../deployments/local/nginx';
import { pollUntil } from '../deployments/local/readiness';
import { type LocalStack, startLocalStack } from '../deployments/local/stack';
import { API_ROUTES } from '../deployments/names';

const run = promisify(execFile);

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

export type Target = 'direct' | 'gateway' | 'gateway-noauth';

/** One wrk run. Latencies in ms. */
export interface RunResult {
  readonly target: Target;
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Socket errors and timeouts. */
  readonly errors: number;
  /** Responses other than 2xx/3xx. */
  readonly non2xx: number;
  /** 1-minute load average when the run started. */
  readonly load1: number;
}

/** One pair of the auth-cost measurement: the same load with auth on and off, back to back. */
export interface AuthRound {
  readonly order: 'on-off' | 'off-on';
  readonly withAuthRps: number;
  readonly withoutAuthRps: number;
  /** (without - with) / without, in percent. */
  readonly costPercent: number;
}

/** A target of issue 7, measured. */
export interface TargetCheck {
  readonly name: string;
  readonly measured: number;
  readonly unit: string;
  readonly goal: string;
  readonly pass: boolean;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly openssl: string;
  readonly wrk: string;
}

export interface GatewayBenchResult {
  readonly date: string;
  readonly machine: Machine;
  readonly settings: {
    readonly durationSeconds: number;
    readonly v1Replicas: number;
    readonly nginxWorkers: string;
    readonly loadGenerator: string;
    readonly request: string;
  };
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
  readonly runs: readonly RunResult[];
  /** Alternating auth-on/auth-off pairs at the highest concurrency (absent in results before 2026-11-29). */
  readonly authRounds?: { readonly connections: number; readonly rounds: readonly AuthRound[] };
  readonly targets: readonly TargetCheck[];
}

const WRK_MARK = 'WRK_RESULT ';

/** wrk script: POSTs the sentences in turn (with `WRK_AUTH` as Authorization when set), prints JSON. */
/** The wrk Lua script: POST /predict with rotating sentences, basic auth from WRK_AUTH, figures as JSON. */
export function wrkScript(): string {
  const bodies = SENTENCES.map((s) => {
    const json = JSON.stringify({ sentence: s });
    if (json.includes(']]')) throw new Error(`sentence ${JSON.stringify(s)} cannot go in a Lua long string`);
    return `  [[${json}]],`;
  });
  return [
    '-- Generated by bench/gateway.ts.',
    'local bodies = {',
    ...bodies,
    '}',
    'local auth = os.getenv("WRK_AUTH")',
    'local requests = {}',
    'local n = 0',
    'function init(args)',
    '  local headers = { ["Content-Type"] = "application/json" }',
    '  if auth ~= nil and auth ~= "" then headers["Authorization"] = auth end',
    '  for i, body in ipairs(bodies) do requests[i] = wrk.format("POST", nil, headers, body) end',
    'end',
    'function request()',
    '  n = n % #requests + 1',
    '  return requests[n]',
    'end',
    'function done(summary, latency, _)',
    '  local e = summary.errors',
    `  io.write(string.format('${WRK_MARK}{"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..`,
    `    '"errors":%d,"non2xx":%d}\\n', summary.requests, summary.duration, latency:percentile(50),`,
    '    latency:percentile(90), latency:percentile(99), latency.max,',
    '    e.connect + e.read + e.write + e.timeout, e.status))',
    'end',
    '',
  ].join('\n');
}

export interface WrkOutput {
  requests: number;
  duration_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
  errors: number;
  non2xx: number;
}

/** Runs wrk in its own process and returns its figures. */
export async function wrk(
  url: string,
  connections: number,
  seconds: number,
  scriptPath: string,
  authorization: string | undefined,
): Promise<WrkOutput> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', scriptPath, url];
  const child = spawn('wrk', args, {
    // The credentials travel in the environment, not on the command line (visible in ps).
    env: { ...process.env, WRK_AUTH: authorization ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) =>
      reject(
        new Error(`cannot run wrk (${error.message}); install it: apt-get install wrk`, { cause: error }),
      ),
    );
    child.once('exit', resolve);
  });
  const line = stdout.split('\n').find((l) => l.startsWith(WRK_MARK));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk ${args.join(' ')} failed (exit ${code}):\n${stdout}`);
  }
  return JSON.parse(line.slice(WRK_MARK.length)) as WrkOutput;
}

/** The rendered config without its `auth_basic` lines: measures what auth costs, never served otherwise. */
export function withoutBasicAuth(conf: string): string {
  const lines = conf.split('\n');
  const kept = lines.filter((line) => !/^\s*auth_basic(?:_user_file)?\s/.test(line));
  if (kept.length === lines.length) {
    throw new Error('the rendered nginx.conf has no auth_basic directive to remove');
  }
  return kept.join('\n');
}

/** Swaps the stack's nginx.conf and reloads; returns once a request without credentials gets `expect`. */
async function switchAuth(stack: LocalStack, conf: string, expect: 200 | 401): Promise<void> {
  await writeFile(stack.nginx.confPath, conf, { mode: 0o600 });
  const prefix = path.dirname(stack.nginx.confPath);
  await run(findNginx(), ['-p', `${prefix}/`, '-c', stack.nginx.confPath, '-e', 'stderr', '-s', 'reload']);
  await pollUntil(
    async () => {
      const response = await httpRequest({
        url: `https://${stack.host}:${stack.ports.https}${API_ROUTES.predict}`,
        body: { sentence: 'auth?' },
        ca: stack.tls.caCertPem,
      });
      return response.status === expect;
    },
    { what: `a request without credentials to get ${expect} after the reload`, timeoutMs: 20_000 },
  );
}

async function versionOf(command: string, args: string[], pattern: RegExp): Promise<string> {
  const result = await run(command, args).catch((error: { stdout?: string; stderr?: string }) => error);
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  return pattern.exec(text)?.[0] ?? 'unknown';
}

/** CPU, memory and software versions, for the report. */
export async function describeMachine(): Promise<Machine> {
  const nginx = findNginx();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    node: process.version,
    nginx: await versionOf(nginx, ['-v'], /nginx\/[\d.]+/),
    openssl: await versionOf(nginx, ['-V'], /OpenSSL [\w.]+/),
    wrk: await versionOf('wrk', ['--version'], /wrk [^\s]+/),
  };
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/**
 * The three targets of issue 7 from the runs (lowest concurrency for latency, highest for
 * throughput); the auth cost from the alternating pairs when there are any, else from the runs.
 */
export function checkTargets(
  runs: readonly RunResult[],
  authRounds: readonly AuthRound[] = [],
): TargetCheck[] {
  const at = (target: Target, connections: number) =>
    runs.find((r) => r.target === target && r.connections === connections);
  const levels = [...new Set(runs.map((r) => r.connections))].sort((a, b) => a - b);
  const low = levels[0];
  const high = levels.at(-1);
  const checks: TargetCheck[] = [];
  const direct = low === undefined ? undefined : at('direct', low);
  const gatewayLow = low === undefined ? undefined : at('gateway', low);
  if (direct && gatewayLow) {
    const overhead = gatewayLow.p50Ms - direct.p50Ms;
    checks.push({
      name: `gateway p50 overhead over one replica called directly (${low} connection${low === 1 ? '' : 's'})`,
      measured: round(overhead, 3),
      unit: 'ms',
      goal: '<= 1 ms',
      pass: overhead <= 1,
    });
  }
  const withAuth = high === undefined ? undefined : at('gateway', high);
  const withoutAuth = high === undefined ? undefined : at('gateway-noauth', high);
  if (authRounds.length > 0) {
    const costs = authRounds.map((r) => r.costPercent);
    const cost = median(costs);
    checks.push({
      name:
        `cost of basic auth in gateway throughput (${high} connections, median of ${costs.length} ` +
        `alternating pairs, range ${round(Math.min(...costs), 1)} to ${round(Math.max(...costs), 1)} %)`,
      measured: round(cost, 1),
      unit: '%',
      goal: '<= 15 %',
      pass: cost <= 15,
    });
  } else if (withAuth && withoutAuth) {
    const cost = ((withoutAuth.rps - withAuth.rps) / withoutAuth.rps) * 100;
    checks.push({
      name: `cost of basic auth in gateway throughput (${high} connections)`,
      measured: round(cost, 1),
      unit: '%',
      goal: '<= 15 %',
      pass: cost <= 15,
    });
  }
  if (withAuth) {
    checks.push({
      name: `3-replica gateway throughput, single sentence (${high} connections)`,
      measured: Math.round(withAuth.rps),
      unit: 'req/s',
      goal: '>= 3000 req/s',
      pass: withAuth.rps >= 3000,
    });
  }
  return checks;
}

const LABELS: Record<Target, string> = {
  direct: 'one replica, direct (HTTP)',
  gateway: 'gateway (HTTPS, auth)',
  'gateway-noauth': 'gateway (HTTPS, no auth)',
};

/** Markdown: the runs table and the targets table. */
export function gatewayMarkdown(result: GatewayBenchResult): string {
  const lines = [
    '| path | connections | req/s | p50 ms | p99 ms | errors | load avg |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...result.runs.map(
      (r) =>
        `| ${LABELS[r.target]} | ${r.connections} | ${Math.round(r.rps)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.errors + r.non2xx} | ${r.load1.toFixed(2)} |`,
    ),
    '',
    ...(result.authRounds === undefined || result.authRounds.rounds.length === 0
      ? []
      : [
          `Auth cost, alternating pairs at ${result.authRounds.connections} connections:`,
          '',
          '| pair | order | req/s auth on | req/s auth off | cost |',
          '|--:|---|--:|--:|--:|',
          ...result.authRounds.rounds.map(
            (r, i) =>
              `| ${i + 1} | ${r.order} | ${Math.round(r.withAuthRps)} | ${Math.round(r.withoutAuthRps)} | ${r.costPercent.toFixed(1)} % |`,
          ),
          '',
        ]),
    '| target | measured | goal | result |',
    '|---|--:|---|---|',
    ...result.targets.map(
      (t) => `| ${t.name} | ${t.measured} ${t.unit} | ${t.goal} | ${t.pass ? 'pass' : '**miss**'} |`,
    ),
  ];
  return lines.join('\n');
}

/** Runs the whole gateway benchmark. */
export async function benchGateway(options: {
  durationSeconds: number;
  connections: readonly number[];
  warmupSeconds: number;
  authRounds: number;
  log?: (line: string) => void;
}): Promise<GatewayBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = await describeMachine();
  const start = loadavg();
  const work = await mkdtemp(path.join(tmpdir(), 'bench-gateway-'));
  const stack = await startLocalStack({
    dir: path.join(work, 'stack'),
    nginx: { rateLimitPerSecond: 100_000, rateLimitBurst: 100_000 },
    reuseCa: false,
  });
  try {
    const scriptPath = path.join(work, 'predict.lua');
    await writeFile(scriptPath, wrkScript());
    const authorization = `Basic ${Buffer.from(`${stack.auth.user}:${stack.auth.password}`).toString('base64')}`;
    const withAuth = await readFile(stack.nginx.confPath, 'utf8');
    const noAuth = withoutBasicAuth(withAuth);
    const replica = stack.replicas.find((r) => r.variant === 'v1')!;
    const urls: Record<Target, string> = {
      direct: `${replica.url}${API_ROUTES.predict}`,
      gateway: `https://${stack.host}:${stack.ports.https}${API_ROUTES.predict}`,
      'gateway-noauth': `https://${stack.host}:${stack.ports.https}${API_ROUTES.predict}`,
    };
    log(`warm-up: ${options.warmupSeconds} s direct and through the gateway at 16 connections`);
    await wrk(urls.direct, 16, options.warmupSeconds, scriptPath, undefined);
    await wrk(urls.gateway, 16, options.warmupSeconds, scriptPath, authorization);

    /** One wrk run against `target` (auth switched off around the no-auth runs). */
    const measure = async (target: Target, connections: number): Promise<RunResult> => {
      if (target === 'gateway-noauth') await switchAuth(stack, noAuth, 200);
      const load1 = loadavg()[0]!;
      log(`${LABELS[target]}: ${options.durationSeconds} s at ${connections} connections`);
      const out = await wrk(
        urls[target],
        connections,
        options.durationSeconds,
        scriptPath,
        target === 'gateway' ? authorization : undefined,
      );
      if (target === 'gateway-noauth') await switchAuth(stack, withAuth, 401);
      const seconds = out.duration_us / 1e6;
      return {
        target,
        connections,
        seconds: round(seconds, 2),
        requests: out.requests,
        rps: round(out.requests / seconds, 1),
        p50Ms: round(out.p50_us / 1000, 3),
        p90Ms: round(out.p90_us / 1000, 3),
        p99Ms: round(out.p99_us / 1000, 3),
        maxMs: round(out.max_us / 1000, 3),
        errors: out.errors,
        non2xx: out.non2xx,
        load1: round(load1, 2),
      };
    };

    const runs: RunResult[] = [];
    for (const connections of options.connections) {
      for (const target of ['direct', 'gateway', 'gateway-noauth'] as const) {
        runs.push(await measure(target, connections));
      }
    }
    const high = Math.max(...options.connections);
    const rounds: AuthRound[] = [];
    for (let i = 0; i < options.authRounds; i++) {
      const order = i % 2 === 0 ? 'on-off' : 'off-on';
      log(`auth cost, pair ${i + 1} of ${options.authRounds} (${order})`);
      const targets =
        order === 'on-off'
          ? (['gateway', 'gateway-noauth'] as const)
          : (['gateway-noauth', 'gateway'] as const);
      const pair: Partial<Record<Target, RunResult>> = {};
      for (const target of targets) pair[target] = await measure(target, high);
      const on = pair.gateway!;
      const off = pair['gateway-noauth']!;
      if (on.errors + on.non2xx + off.errors + off.non2xx > 0) {
        throw new Error(
          `auth cost pair ${i + 1}: requests failed (auth on ${on.errors + on.non2xx}, off ${off.errors + off.non2xx})`,
        );
      }
      rounds.push({
        order,
        withAuthRps: on.rps,
        withoutAuthRps: off.rps,
        costPercent: round(((off.rps - on.rps) / off.rps) * 100, 2),
      });
    }
    return {
      date: new Date().toISOString(),
      machine,
      settings: {
        durationSeconds: options.durationSeconds,
        v1Replicas: stack.replicas.filter((r) => r.variant === 'v1').length,
        nginxWorkers: String(stack.nginx.settings.workerProcesses),
        loadGenerator: `${machine.wrk}, 1 thread, keep-alive connections`,
        request: `POST ${API_ROUTES.predict} {"sentence": ...} (16 short sentences in turn)`,
      },
      loadAverage: { start: start.map((l) => round(l)), end: loadavg().map((l) => round(l)) },
      runs,
      authRounds: { connections: high, rounds },
      targets: checkTargets(runs, rounds),
    };
  } finally {
    await stack.stop();
    await rm(work, { recursive: true, force: true });
  }
}

/** A comma-separated list of integers >= 1 (`--connections`). */
export function parseList(value: string, name: string): number[] {
  const list = value.split(',').map(Number);
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`${name} must be a comma-separated list of integers >= 1 (got ${JSON.stringify(value)})`);
  }
  return list;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '1,16,64' },
      warmup: { type: 'string', default: '3' },
      'auth-rounds': { type: 'string', default: '3' },
      json: { type: 'string' },
    },
  });
  const durationSeconds = Number(values.duration);
  const warmupSeconds = Number(values.warmup);
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1) {
    throw new Error(`--duration must be an integer >= 1 (got ${values.duration})`);
  }
  if (!Number.isInteger(warmupSeconds) || warmupSeconds < 1) {
    throw new Error(`--warmup must be an integer >= 1 (got ${values.warmup})`);
  }
  const authRounds = Number(values['auth-rounds']);
  if (!Number.isInteger(authRounds) || authRounds < 0) {
    throw new Error(`--auth-rounds must be an integer >= 0 (got ${values['auth-rounds']})`);
  }
  const result = await benchGateway({
    durationSeconds,
    warmupSeconds,
    authRounds,
    connections: parseList(values.connections, '--connections'),
  });
  const m = result.machine;
  console.log(`\nGateway benchmark: ${result.settings.request}, ${durationSeconds} s per run`);
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, ${m.nginx} (${m.openssl}), ${m.wrk}`,
  );
  console.log(
    `load average (1/5/15 min): ${result.loadAverage.start.join(' ')} at start, ${result.loadAverage.end.join(' ')} at end`,
  );
  console.log(gatewayMarkdown(result));
  if (values.json !== undefined) {
    await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${values.json}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
