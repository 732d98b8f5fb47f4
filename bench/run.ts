/**
 * `npm run bench`: the model, API and gateway benchmarks one after another (each in its own process,
 * never two at once), then `bench/results/<date>.json` and `<date>.md`, the markdown printed and
 * copied into the README's Performance section.
 *
 * Options: --duration <s> (API and gateway, default 10 per point), --connections 1,16,64,
 * --only model,api,gateway (default; add `docker` or run `--only docker` for the deployed stack), --skip-train (model: skip the full training run), --no-readme,
 * --auth-rounds <n> (gateway: alternating auth on/off pairs for the auth-cost target, default 3).
 * A benchmark that fails is recorded with its error and the others still run; the exit code is 1 then.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { type GatewayBenchResult, type Machine, describeMachine, gatewayMarkdown } from './gateway';
import { type DockerBenchResult, dockerMarkdown } from './docker';

const ROOT = path.resolve(__dirname, '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const README = path.join(ROOT, 'README.md');
/** The README's Performance section holds the latest table between these markers. */
export const README_MARKERS = ['<!-- bench:start -->', '<!-- bench:end -->'] as const;

type Part = 'model' | 'api' | 'gateway' | 'docker';
const PARTS: readonly Part[] = ['model', 'api', 'gateway', 'docker'];
/** `docker` deploys the stack (toolchain, images and an engine needed): only with `--only docker`. */
const DEFAULT_PARTS: readonly Part[] = ['model', 'api', 'gateway'];

/** Runs `bench/<script> ... --json <file>` and returns what it wrote there. */
async function scriptJson<T>(script: string, args: string[]): Promise<T> {
  const work = await mkdtemp(path.join(tmpdir(), 'bench-run-'));
  try {
    const json = path.join(work, 'result.json');
    await runScript(script, [...args, '--json', json]);
    return JSON.parse(await readFile(json, 'utf8')) as T;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs `bench/<script>` with tsx, echoing its output, and returns its stdout. */
function runScript(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench', script), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      process.stdout.write(chunk);
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`bench/${script} exited with code ${code}`)),
    );
  });
}

/** Rows of the first markdown table whose header row starts with `firstHeader`, keyed by header. */
export function parseMarkdownTable(text: string, firstHeader: string): Record<string, string>[] {
  const lines = text.split('\n').map((l) => l.trim());
  const start = lines.findIndex((l) => new RegExp(`^\\|\\s*${firstHeader}\\s*\\|`).test(l));
  if (start === -1) throw new Error(`no table with a "${firstHeader}" column in the output`);
  const cells = (line: string) =>
    line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
  const header = cells(lines[start]!);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(Object.fromEntries(cells(line).map((c, i) => [header[i] ?? String(i), c])));
  }
  return rows;
}

interface PartResult<T> {
  readonly ok: boolean;
  readonly error?: string;
  readonly data?: T;
  /** When the part ran, and the 1/5/15-minute load average before and after it. */
  readonly startedAt: string;
  readonly loadAverage: { readonly start: number[]; readonly end: number[] };
}

const loadNow = () => loadavg().map((l) => Math.round(l * 100) / 100);

async function attempt<T>(part: Part, fn: () => Promise<T>): Promise<PartResult<T>> {
  process.stderr.write(`\n=== ${part} benchmark ===\n`);
  const startedAt = new Date().toISOString();
  const start = loadNow();
  try {
    const data = await fn();
    return { ok: true, data, startedAt, loadAverage: { start, end: loadNow() } };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${part} benchmark failed: ${message}\n`);
    return { ok: false, error: message, startedAt, loadAverage: { start, end: loadNow() } };
  }
}

/** The model benchmark's own result file (bench/model.ts writes it). */
interface ModelResult {
  singleMicros?: { p50?: number; p99?: number; calls?: number };
  batch64?: { perBatchMs?: number; sentencesPerSecond?: number };
  sessionLoadMs?: { firstMs?: number; medianMs?: number };
  training?: { rows?: number; wallSeconds?: number; cpuSeconds?: number };
}

const num = (v: unknown, digits = 1) => (typeof v === 'number' ? v.toFixed(digits) : 'n/a');

const loadNote = (part: Partial<PartResult<unknown>>) =>
  part.startedAt === undefined || part.loadAverage === undefined
    ? 'time and load not recorded'
    : `run ${part.startedAt.slice(0, 16).replace('T', ' ')} UTC, load average ${part.loadAverage.start[0]} → ${part.loadAverage.end[0]}`;

/** What bench/results/<date>.json holds. */
interface Report {
  date: string;
  machine: Machine;
  loadAverage: { start: number[]; end: number[] };
  durationSeconds: number;
  model?: PartResult<ModelResult>;
  api?: PartResult<Record<string, string>[]>;
  gateway?: PartResult<GatewayBenchResult>;
  docker?: PartResult<DockerBenchResult>;
}

/** The markdown written to bench/results/<date>.md and the README. */
export function benchMarkdown(report: Report): string {
  const m = report.machine;
  const lines = [
    `Measured ${report.date.slice(0, 10)} by \`npm run bench\` (${report.durationSeconds} s per point) on ` +
      `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.kernel}, Node ${m.node}, ${m.nginx} (${m.openssl}), ${m.wrk}. ` +
      `Load average (1/5/15 min) ${report.loadAverage.start.join(' / ')} at the start, ` +
      `${report.loadAverage.end.join(' / ')} at the end: figures taken while other work runs (load above ` +
      `the 2 cores) are low.`,
    '',
  ];
  if (report.model) {
    lines.push(`**Model** (in-process, onnxruntime-node, one thread; ${loadNote(report.model)})`, '');
    if (report.model.ok && report.model.data) {
      const d = report.model.data;
      lines.push(
        '| single sentence p50 | p99 | batch of 64 | session load | training (full data) |',
        '|--:|--:|--:|--:|--:|',
        `| ${num(d.singleMicros?.p50)} µs | ${num(d.singleMicros?.p99)} µs | ${num(d.batch64?.perBatchMs, 2)} ms (${num(d.batch64?.sentencesPerSecond, 0)} sentences/s) | ${num(d.sessionLoadMs?.medianMs)} ms | ${d.training ? `${num(d.training.wallSeconds)} s` : 'skipped'} |`,
        '',
        'Targets: p50 ≤ 100 µs per sentence, training on 40k rows ≤ 60 s.',
        '',
      );
    } else {
      lines.push(`Failed: ${report.model.error}`, '');
    }
  }
  if (report.api) {
    lines.push(
      `**API** (one replica, \`npm run bench:api\`: autocannon, replica and load generator pinned to one core each; ${loadNote(report.api)})`,
      '',
    );
    if (report.api.ok && report.api.data) {
      const keys = [
        'body',
        'connections',
        'req/s',
        'p50 ms',
        'p99 ms',
        'errors',
        'peak RSS MB',
        'CPU µs/req',
      ];
      const present = keys.filter((k) => report.api!.data!.some((row) => row[k] !== undefined));
      lines.push(
        `| ${present.join(' | ')} |`,
        `|${present.map(() => '--:').join('|')}|`,
        ...report.api.data.map((row) => `| ${present.map((k) => row[k] ?? '').join(' | ')} |`),
        '',
        'Targets (single sentence, 64 connections): ≥ 4,000 req/s, p99 ≤ 25 ms, peak RSS ≤ 150 MB.',
        '',
      );
    } else {
      lines.push(`Failed: ${report.api.error}`, '');
    }
  }
  if (report.gateway) {
    lines.push(
      `**Gateway** (local stack: nginx, TLS keep-alive, basic auth, 3 v1 replicas; \`npm run bench:gateway\`, wrk; ${loadNote(report.gateway)})`,
      '',
    );
    if (report.gateway.ok && report.gateway.data) {
      lines.push(gatewayMarkdown(report.gateway.data), '');
    } else {
      lines.push(`Failed: ${report.gateway.error}`, '');
    }
  }
  if (report.docker) {
    lines.push(
      `**Deployed gateway** (the air-gapped stack on the Docker engine: nginx container, HTTPS, basic auth, 3 v1 replica containers, published on 127.0.0.1; side by side with the local stack's gateway; then update times and a memory soak on the same deployment; \`npm run bench -- --only docker\`, wrk; ${loadNote(report.docker)})`,
      '',
    );
    if (report.docker.ok && report.docker.data) {
      lines.push(dockerMarkdown(report.docker.data), '');
    } else {
      lines.push(`Failed: ${report.docker.error}`, '');
    }
  }
  return lines.join('\n').trimEnd();
}

/** `text` formatted as Prettier would for `file` (lint runs `prettier --check .` on the README). */
async function prettier(file: string, text: string): Promise<string> {
  return format(text, { ...(await resolveConfig(file)), filepath: file });
}

/** Replaces the text between the README markers; throws if they are missing. */
export function replaceBetweenMarkers(readme: string, content: string): string {
  const [open, close] = README_MARKERS;
  const start = readme.indexOf(open);
  const end = readme.indexOf(close);
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`README.md needs ${open} ... ${close} in its Performance section`);
  }
  return `${readme.slice(0, start + open.length)}\n${content}\n${readme.slice(end)}`;
}

function parseParts(value: string): Part[] {
  const parts = value.split(',').map((p) => p.trim());
  const unknown = parts.filter((p) => !PARTS.includes(p as Part));
  if (unknown.length > 0) throw new Error(`--only takes ${PARTS.join(', ')} (got ${unknown.join(', ')})`);
  return parts as Part[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '1,16,64' },
      only: { type: 'string', default: DEFAULT_PARTS.join(',') },
      'skip-train': { type: 'boolean', default: false },
      'no-readme': { type: 'boolean', default: false },
      'auth-rounds': { type: 'string', default: '3' },
    },
  });
  const durationSeconds = Number(values.duration);
  if (!Number.isInteger(durationSeconds) || durationSeconds < 1) {
    throw new Error(`--duration must be an integer >= 1 (got ${values.duration})`);
  }
  const parts = parseParts(values.only);
  const machine = await describeMachine();
  const start = loadNow();
  const date = new Date().toISOString();
  const stem = path.join(RESULTS, date.slice(0, 10));
  // A partial run (--only) keeps the other parts of the latest results (today's, else the newest
  // day's), each with its own time and load, so the README table stays whole.
  const latest = (await readdir(RESULTS))
    .filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f))
    .sort()
    .at(-1);
  const previous: Partial<Report> =
    latest === undefined
      ? {}
      : (JSON.parse(await readFile(path.join(RESULTS, latest), 'utf8')) as Partial<Report>);
  const report: Report = {
    date,
    machine,
    loadAverage: { start, end: start },
    durationSeconds,
    model: parts.includes('model') ? undefined : previous.model,
    api: parts.includes('api') ? undefined : previous.api,
    gateway: parts.includes('gateway') ? undefined : previous.gateway,
    docker: parts.includes('docker') ? undefined : previous.docker,
  };

  if (parts.includes('model')) {
    report.model = await attempt('model', async () => {
      await runScript('model.ts', values['skip-train'] ? ['--skip-train'] : []);
      return JSON.parse(await readFile(path.join(RESULTS, 'model.json'), 'utf8')) as ModelResult;
    });
  }
  if (parts.includes('api')) {
    report.api = await attempt('api', async () =>
      parseMarkdownTable(
        await runScript('api.ts', [
          '--duration',
          String(durationSeconds),
          '--connections',
          values.connections,
        ]),
        'body',
      ),
    );
  }
  if (parts.includes('gateway')) {
    report.gateway = await attempt('gateway', () =>
      scriptJson<GatewayBenchResult>('gateway.ts', [
        '--duration',
        String(durationSeconds),
        '--connections',
        values.connections,
        '--auth-rounds',
        values['auth-rounds'],
      ]),
    );
  }
  if (parts.includes('docker')) {
    report.docker = await attempt('docker', () =>
      scriptJson<DockerBenchResult>('docker.ts', [
        '--duration',
        String(durationSeconds),
        '--connections',
        values.connections,
      ]),
    );
  }
  report.loadAverage.end = loadNow();

  const markdown = benchMarkdown(report);
  await writeFile(`${stem}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${stem}.md`, await prettier(`${stem}.md`, markdown));
  console.log(`\n${markdown}\n`);
  console.log(`wrote ${path.relative(ROOT, stem)}.json and .md`);
  if (!values['no-readme'] && existsSync(README)) {
    const readme = replaceBetweenMarkers(await readFile(README, 'utf8'), markdown);
    await writeFile(README, await prettier(README, readme));
    console.log('updated the Performance section of README.md');
  }
  if ([report.model, report.api, report.gateway, report.docker].some((r) => r !== undefined && !r.ok)) {
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
