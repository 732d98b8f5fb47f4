/**
 * `npm run bench -- --only docker`: the deployed gateway (the air-gapped stack on the Docker engine:
 * nginx, HTTPS, basic auth, 3 v1 replicas) side by side with the local stack's gateway (the same
 * rendered config, processes on this machine), under the same wrk load at the same concurrencies as
 * `bench:gateway`. Per concurrency the two run back to back, local first. Reports req/s, p50 and p99
 * for both and the ratio deployed / local.
 *
 * Then, on the same deployment: how long `pulumi up` takes to roll a new API image out (3 + 1
 * replicas, one at a time) and to reload a gateway setting, and a memory soak (`bench/soak.ts`: wrk
 * at 64 connections, each container's peak memory next to its limit, OOM kills and restarts).
 *
 * Needs `npm run airgap:toolchain`, `npm run airgap:images` and a running engine. Deploys a fresh
 * stack (rate limit raised for the run, as bench:gateway does) and always destroys it.
 * Options: --duration <s> (default 10), --connections 1,16,64, --warmup <s> (default 3),
 * --soak <s> (default 60), --json <file>.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prepareDeployment } from '../airgap/deployment';
import { dockerExec, relabelImage } from '../airgap/engine';
import { startLocalStack } from '../deployments/local/stack';
import { API_ROUTES } from '../deployments/names';
import { describeMachine, parseList, round, wrk, wrkScript, type Machine, type WrkOutput } from './gateway';
import { memorySoak, soakMarkdown, type SoakResult } from './soak';

/** One side of a row. */
export interface DockerBenchFigures {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  load1: number;
}

export interface DockerBenchRow {
  connections: number;
  local: DockerBenchFigures;
  docker: DockerBenchFigures;
  /** Deployed req/s over local req/s. */
  rpsRatio: number;
}

export interface DockerBenchResult {
  date: string;
  machine: Machine;
  durationSeconds: number;
  /** `pulumi up` of the benchmarked stack from nothing, seconds. */
  upSeconds: number;
  loadAverage: { start: number[]; end: number[] };
  rows: DockerBenchRow[];
  /** `pulumi up` durations of updates, seconds (no load running). Absent in results from before them. */
  updates?: {
    /** A new API image: 3 v1 + 1 v2 replicas created one at a time, the gateway reloaded, the old ones removed. */
    apiRolloutSeconds: number;
    /** A new rate limit: a new gateway config generation and an nginx reload. */
    gatewayReloadSeconds: number;
  };
  soak?: SoakResult;
}

const RATE = '100000';

function figures(out: WrkOutput, load1: number): DockerBenchFigures {
  const seconds = out.duration_us / 1e6;
  return {
    rps: round(out.requests / seconds, 1),
    p50Ms: round(out.p50_us / 1000, 3),
    p99Ms: round(out.p99_us / 1000, 3),
    errors: out.errors + out.non2xx,
    load1: round(load1, 2),
  };
}

/** Markdown table of a result (README Performance section and bench/results). */
export function dockerMarkdown(result: DockerBenchResult): string {
  const rows = result.rows.map(
    (r) =>
      `| ${r.connections} | ${r.local.rps} | ${r.local.p50Ms} | ${r.local.p99Ms} | ${r.docker.rps} | ${r.docker.p50Ms} | ${r.docker.p99Ms} | ${r.rpsRatio} | ${r.local.errors + r.docker.errors} |`,
  );
  return [
    '| connections | local req/s | local p50 ms | local p99 ms | deployed req/s | deployed p50 ms | deployed p99 ms | deployed / local | errors |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    `\`pulumi up\` of the benchmarked stack from nothing: ${result.upSeconds} s.` +
      (result.updates
        ? ` Rolling a new API image out: ${result.updates.apiRolloutSeconds} s; a gateway setting (reload): ${result.updates.gatewayReloadSeconds} s.`
        : ''),
    ...(result.soak ? ['', soakMarkdown(result.soak)] : []),
  ].join('\n');
}

export async function benchDocker(options: {
  durationSeconds: number;
  connections: readonly number[];
  warmupSeconds: number;
  soakSeconds: number;
  log?: (line: string) => void;
}): Promise<DockerBenchResult> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const machine = await describeMachine();
  const start = loadavg();
  const work = await mkdtemp(path.join(tmpdir(), 'bench-docker-'));
  const deployment = await prepareDeployment({ rateLimitPerSecond: RATE, rateLimitBurst: RATE });
  const images: string[] = [];
  try {
    /** `pulumi up` of the deployment as it is configured now, in seconds. */
    const timedUp = async () => {
      const started = Date.now();
      await deployment.pulumi(['up', '--yes', '--skip-preview'], { timeoutMs: 400_000 });
      return round((Date.now() - started) / 1000, 1);
    };
    log('pulumi up of the air-gapped stack');
    const upSeconds = await timedUp();
    const outputs = await deployment.outputs();
    const local = await startLocalStack({
      dir: path.join(work, 'stack'),
      nginx: { rateLimitPerSecond: Number(RATE), rateLimitBurst: Number(RATE) },
      reuseCa: false,
    });
    try {
      const scriptPath = path.join(work, 'predict.lua');
      await writeFile(scriptPath, wrkScript());
      const basic = (user: string, password: string) =>
        `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      const targets = {
        local: {
          url: `https://${local.host}:${local.ports.https}${API_ROUTES.predict}`,
          auth: basic(local.auth.user, local.auth.password),
        },
        docker: {
          url: `https://127.0.0.1:${new URL(outputs.urls.gateway).port}${API_ROUTES.predict}`,
          auth: basic(outputs.apiUser, outputs.apiPassword),
        },
      };
      log(`warm-up: ${options.warmupSeconds} s each at 16 connections`);
      for (const t of Object.values(targets)) await wrk(t.url, 16, options.warmupSeconds, scriptPath, t.auth);
      const rows: DockerBenchRow[] = [];
      for (const connections of options.connections) {
        const measured: Partial<Record<'local' | 'docker', DockerBenchFigures>> = {};
        for (const side of ['local', 'docker'] as const) {
          log(`${side} gateway: ${options.durationSeconds} s at ${connections} connections`);
          const load1 = loadavg()[0]!;
          const out = await wrk(
            targets[side].url,
            connections,
            options.durationSeconds,
            scriptPath,
            targets[side].auth,
          );
          measured[side] = figures(out, load1);
        }
        rows.push({
          connections,
          local: measured.local!,
          docker: measured.docker!,
          rpsRatio: round(measured.docker!.rps / measured.local!.rps, 2),
        });
      }
      log('rolling a new API image out');
      const release = await relabelImage(
        (await deployment.pulumi(['config', 'get', 'apiImage'])).trim(),
        'sentiment-gateway/api',
      );
      images.push(release);
      await deployment.pulumi(['config', 'set', 'apiImage', release]);
      const apiRolloutSeconds = await timedUp();
      log('reloading the gateway with a new rate limit');
      await deployment.pulumi(['config', 'set', 'rateLimitPerSecond', String(Number(RATE) - 1)]);
      const gatewayReloadSeconds = await timedUp();
      log(`memory soak: ${options.soakSeconds} s at 64 connections`);
      const soak = await memorySoak({
        prefix: deployment.prefix,
        url: targets.docker.url,
        authorization: targets.docker.auth,
        connections: 64,
        seconds: options.soakSeconds,
      });
      return {
        date: new Date().toISOString(),
        machine,
        durationSeconds: options.durationSeconds,
        upSeconds,
        loadAverage: { start: start.map((l) => round(l)), end: loadavg().map((l) => round(l)) },
        rows,
        updates: { apiRolloutSeconds, gatewayReloadSeconds },
        soak,
      };
    } finally {
      await local.stop();
    }
  } finally {
    await deployment.discard();
    for (const image of images) await dockerExec(['rmi', image]);
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '1,16,64' },
      warmup: { type: 'string', default: '3' },
      soak: { type: 'string', default: '60' },
      json: { type: 'string' },
    },
  });
  const [durationSeconds, warmupSeconds, soakSeconds] = [values.duration, values.warmup, values.soak].map(
    (v, i) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`--${['duration', 'warmup', 'soak'][i]} must be an integer >= 1 (got ${v})`);
      return n;
    },
  ) as [number, number, number];
  const result = await benchDocker({
    durationSeconds,
    connections: parseList(values.connections, '--connections'),
    warmupSeconds,
    soakSeconds,
  });
  console.log(dockerMarkdown(result));
  if (values.json !== undefined) await writeFile(values.json, `${JSON.stringify(result, null, 2)}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
