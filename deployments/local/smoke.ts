/**
 * `npm run smoke`: end-to-end checks of a running stack, one line per check, then `N passed, M failed`.
 *
 *   npm run smoke                       # the local stack (.stack/dev.json)
 *   npm run smoke -- --stack-file <f>   # another dev.json
 *   npm run smoke -- --stack dev        # a Pulumi stack's outputs (Docker deployment)
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { DEFAULT_NGINX_SETTINGS } from '../nginx/settings';
import { type CheckResult, type SmokeTarget, runSmokeChecks, summarize } from './smoke-checks';
import { OFFLINE_PULUMI_ENV } from '../../airgap/toolchain/env';
import { type DevJson, REPO_ROOT, STACK_LAYOUT } from './stack';

const USAGE = `Usage: npm run smoke -- [--stack-file .stack/dev.json | --stack <pulumi-stack>]
       [--v1-replicas N] [--rate R] [--burst-requests N]`;

/** Reads a local stack's dev.json into a smoke target. */
export async function targetFromDevJson(file: string): Promise<SmokeTarget> {
  let dev: Partial<DevJson> & Pick<DevJson, 'urls' | 'caCert' | 'auth'>;
  try {
    dev = JSON.parse(await readFile(file, 'utf8')) as typeof dev;
  } catch (error) {
    throw new Error(
      `cannot read ${file} (${(error as Error).message}); is the stack running (npm run dev)?`,
      {
        cause: error,
      },
    );
  }
  return {
    httpsUrl: dev.urls.https,
    httpUrl: dev.urls.http,
    caCert: await readFile(dev.caCert, 'utf8'),
    auth: dev.auth,
    v1Replicas: dev.replicas?.v1 ?? 3,
    rateLimitPerSecond: dev.rateLimit?.perSecond ?? DEFAULT_NGINX_SETTINGS.rateLimitPerSecond,
  };
}

interface PulumiOutputs {
  urls?: { gateway?: string; http?: string };
  caCertificate?: string;
  apiUser?: string;
  apiPassword?: string;
  v1Replicas?: number;
}

/** Reads a Pulumi stack's outputs (`pulumi stack output --json --show-secrets`) into a smoke target. */
export async function targetFromPulumi(stack: string): Promise<SmokeTarget> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(
      'pulumi',
      ['stack', 'output', '--json', '--show-secrets', '--stack', stack],
      { cwd: REPO_ROOT, maxBuffer: 10 * 1024 * 1024, env: { ...process.env, ...OFFLINE_PULUMI_ENV } },
    ));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    throw new Error(
      e.code === 'ENOENT'
        ? 'the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)'
        : `pulumi stack output failed: ${e.stderr ?? e.message}`,
      { cause: error },
    );
  }
  const outputs = JSON.parse(stdout) as PulumiOutputs;
  const missing = (['urls.gateway', 'caCertificate', 'apiUser', 'apiPassword'] as const).filter((key) =>
    key === 'urls.gateway' ? outputs.urls?.gateway === undefined : outputs[key] === undefined,
  );
  if (missing.length > 0) {
    throw new Error(`stack ${stack} has no output ${missing.join(', ')}`);
  }
  return {
    httpsUrl: outputs.urls!.gateway!,
    httpUrl: outputs.urls?.http,
    caCert: outputs.caCertificate!,
    auth: { user: outputs.apiUser!, password: outputs.apiPassword! },
    v1Replicas: outputs.v1Replicas ?? 3,
    rateLimitPerSecond: DEFAULT_NGINX_SETTINGS.rateLimitPerSecond,
  };
}

function line(result: CheckResult): string {
  const mark = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  return `${mark}  ${result.name}: ${result.detail}`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      stack: { type: 'string' },
      'stack-file': { type: 'string' },
      'v1-replicas': { type: 'string' },
      rate: { type: 'string' },
      'burst-requests': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  const positive = (flag: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer (got ${value})`);
    return n;
  };
  const base =
    values.stack !== undefined
      ? await targetFromPulumi(values.stack)
      : await targetFromDevJson(
          path.resolve(values['stack-file'] ?? path.join(REPO_ROOT, '.stack', STACK_LAYOUT.devJson)),
        );
  const target: SmokeTarget = {
    ...base,
    v1Replicas: positive('v1-replicas', values['v1-replicas']) ?? base.v1Replicas,
    rateLimitPerSecond: positive('rate', values.rate) ?? base.rateLimitPerSecond,
    burstRequests: positive('burst-requests', values['burst-requests']),
  };
  console.log(`Smoke-checking ${target.httpsUrl}`);
  const results = await runSmokeChecks(target, (result) => console.log(line(result)));
  console.log(summarize(results));
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`smoke: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(2);
    },
  );
}
