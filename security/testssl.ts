/**
 * `npm run security`: testssl.sh (Debian package `testssl.sh`) against the gateway, summarised.
 *
 * Without `--url`, starts the local stack (the same renderer and TLS material as `npm run dev`, one v1
 * replica) in a temporary directory, scans it and stops it. Writes security/testssl-summary.md and
 * security/testssl-summary.json (counts, verdict, notable findings; no paths, keys or passwords) and
 * exits non-zero when a HIGH or CRITICAL finding is not in the reviewed ACCEPTED list, or a check
 * could not complete.
 *
 * Options: --url https://host:port and --ca <pem> (scan a running gateway instead, e.g. `npm run dev`
 * or the Docker stack), --checks full|focused (default full: everything testssl runs by default,
 * ~5-20 min; focused: protocols, cipher categories, server preference, vulnerabilities, server
 * defaults, headers), --out-dir <dir> (default security/), --timeout-min <n> (default 40).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { findNginx } from '../deployments/local/nginx';
import { REPO_ROOT, startLocalStack } from '../deployments/local/stack';
import { ACCEPTED } from './testssl-accepted';
import { parseTestsslJson, renderTestsslMarkdown, summarizeTestssl } from './testssl-report';

const CHECKS = {
  full: { args: [] as string[], description: 'testssl default run (everything except -E and -g)' },
  focused: {
    args: ['-p', '-s', '-P', '-U', '-S', '-h'],
    description:
      'protocols, cipher categories, server preference, vulnerabilities, server defaults, headers (-p -s -P -U -S -h)',
  },
} as const;

function versionOf(command: string, args: string[], pattern: RegExp): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  const match = pattern.exec(`${result.stdout ?? ''}${result.stderr ?? ''}`);
  return match?.[0].replace(/\s+/g, ' ') ?? `${command} (version unknown)`;
}

/** Runs testssl with a deadline; resolves when it exits (testssl's exit code is a count, not a verdict). */
function runTestssl(args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('testssl', args, { stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`testssl did not finish within ${timeoutMs / 60_000} min`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(`cannot run testssl (${error.message}); install it: apt-get install testssl.sh`, {
          cause: error,
        }),
      );
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      ca: { type: 'string' },
      checks: { type: 'string', default: 'full' },
      'out-dir': { type: 'string', default: path.join(REPO_ROOT, 'security') },
      'timeout-min': { type: 'string', default: '40' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(
      'Usage: npm run security -- [--url https://host:port --ca ca.pem] [--checks full|focused] [--out-dir dir]',
    );
    return;
  }
  const checks = CHECKS[values.checks as keyof typeof CHECKS];
  if (checks === undefined) throw new Error(`--checks must be full or focused (got ${values.checks})`);
  const timeoutMin = Number(values['timeout-min']);
  if (!(timeoutMin >= 1))
    throw new Error(`--timeout-min must be a number >= 1 (got ${values['timeout-min']})`);
  if ((values.url === undefined) !== (values.ca === undefined)) throw new Error('--url and --ca go together');

  const work = await mkdtemp(path.join(tmpdir(), 'testssl-'));
  const stack =
    values.url === undefined
      ? await startLocalStack({ dir: path.join(work, 'stack'), v1Replicas: 1, reuseCa: false })
      : undefined;
  try {
    const target = stack
      ? { hostPort: `localhost:${stack.ports.https}`, ca: stack.tls.caCertPath, ip: stack.host }
      : { hostPort: new URL(values.url!).host, ca: path.resolve(values.ca!), ip: undefined };
    const jsonPath = path.join(work, 'testssl.json');
    const args = [
      '--quiet',
      '--color',
      '0',
      '--warnings',
      'off',
      '--add-ca',
      target.ca,
      '--jsonfile',
      jsonPath,
      ...(target.ip === undefined ? [] : ['--ip', target.ip]),
      ...checks.args,
      target.hostPort,
    ];
    console.log(`testssl ${args.join(' ')}`);
    const started = Date.now();
    await runTestssl(args, timeoutMin * 60_000);
    const seconds = (Date.now() - started) / 1000;

    const summary = summarizeTestssl(parseTestsslJson(await readFile(jsonPath, 'utf8')), ACCEPTED);
    const context = {
      date: new Date().toISOString(),
      testssl: versionOf('testssl', ['--version'], /testssl\s+\d+\.\d+(\.\d+)?/),
      nginx: versionOf(findNginx(), ['-v'], /nginx\/\d+\.\d+\.\d+/),
      target: stack
        ? 'local stack (npm run dev layout: rendered nginx.conf, local ECDSA P-256 CA) on 127.0.0.1'
        : `a running gateway (${target.hostPort})`,
      checks: checks.description,
      seconds,
    };
    const markdown = renderTestsslMarkdown(summary, context);
    const outDir = path.resolve(values['out-dir']);
    // Formatted as Prettier would: the committed files pass `prettier --check`.
    const write = async (file: string, text: string) =>
      writeFile(file, await format(text, { ...(await resolveConfig(file)), filepath: file }));
    await write(path.join(outDir, 'testssl-summary.md'), markdown);
    await write(path.join(outDir, 'testssl-summary.json'), JSON.stringify({ context, ...summary }));
    console.log(`\n${markdown}`);
    console.log(`wrote ${path.relative(process.cwd(), outDir) || '.'}/testssl-summary.{md,json}`);
    if (!summary.passed) process.exitCode = 1;
  } finally {
    await stack?.stop();
    await rm(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
