/**
 * The memory soak of a deployed stack: wrk at a fixed concurrency through the gateway for a fixed
 * time, then, per container, the peak memory its cgroup saw during the soak next to its limit, and
 * whether the engine OOM-killed or restarted it meanwhile. Used by `npm run bench -- --only docker`
 * and by the e2e-faults tier, which asserts on it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { containerMemory, docker, resetMemoryPeak } from '../airgap/engine';
import { inspect } from '../airgap/deployment';
import { wrk, wrkScript, type WrkOutput } from './gateway';

/** One container's figures over the soak. */
export interface SoakContainer {
  readonly name: string;
  readonly limitMb: number;
  /** Peak from the container's start to the soak's (model load and warm-up for the API). */
  readonly startPeakMb: number;
  /** Peak during the soak. */
  readonly peakMb: number;
  /** Peak as a share of the limit, percent. */
  readonly peakPercent: number;
  readonly oomKilled: boolean;
  /** Restarts the engine made during the soak. */
  readonly restarts: number;
}

export interface SoakResult {
  readonly connections: number;
  readonly seconds: number;
  readonly wrk: WrkOutput;
  readonly containers: readonly SoakContainer[];
}

const MB = 1024 * 1024;
const round1 = (n: number) => Math.round(n * 10) / 10;

/** Soaks the stack whose containers start with `prefix` through `url` (POST /predict, basic auth). */
export async function memorySoak(options: {
  prefix: string;
  url: string;
  authorization: string;
  connections: number;
  seconds: number;
}): Promise<SoakResult> {
  const names = (await docker(['ps', '--format', '{{.Names}}']))
    .split('\n')
    .filter((n) => n.startsWith(`${options.prefix}-`))
    .sort();
  const before = new Map<string, { id: string; restarts: number; startPeak: number }>();
  for (const name of names) {
    const state = await inspect(name);
    const { peak } = await containerMemory(state.Id);
    before.set(name, { id: state.Id, restarts: state.RestartCount, startPeak: peak });
    await resetMemoryPeak(state.Id);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'soak-'));
  try {
    const script = path.join(dir, 'soak.lua');
    await writeFile(script, wrkScript());
    const out = await wrk(options.url, options.connections, options.seconds, script, options.authorization);
    const containers: SoakContainer[] = [];
    for (const name of names) {
      const { id, restarts, startPeak } = before.get(name)!;
      const state = await inspect(name);
      const memory = await containerMemory(id);
      containers.push({
        // Without the replicas' spec hash: names that read the same from run to run.
        name: name.slice(options.prefix.length + 1).replace(/-[0-9a-f]{10}$/, ''),
        limitMb: round1(memory.limit / MB),
        startPeakMb: round1(startPeak / MB),
        peakMb: round1(memory.peak / MB),
        peakPercent: round1((100 * memory.peak) / memory.limit),
        oomKilled: state.State.OOMKilled,
        restarts: state.RestartCount - restarts + (state.Id === id ? 0 : 1),
      });
    }
    return { connections: options.connections, seconds: options.seconds, wrk: out, containers };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The soak as a Markdown table, one row per container. */
export function soakMarkdown(result: SoakResult): string {
  const rows = result.containers.map(
    (c) =>
      `| ${c.name} | ${c.startPeakMb} | ${c.peakMb} | ${c.limitMb} | ${c.peakPercent} % | ${c.oomKilled ? 'yes' : 'no'} | ${c.restarts} |`,
  );
  const rate = result.wrk.requests / (result.wrk.duration_us / 1e6);
  return [
    `${result.seconds} s at ${result.connections} connections through the gateway: ${Math.round(rate)} req/s, ` +
      `${result.wrk.errors} socket errors, ${result.wrk.non2xx} non-2xx.`,
    '',
    '| container | peak MiB before (start-up) | peak MiB in the soak | limit MiB | soak peak/limit | OOM-killed | restarts |',
    '| --- | ---: | ---: | ---: | ---: | --- | ---: |',
    ...rows,
  ].join('\n');
}
