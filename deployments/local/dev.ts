/**
 * `npm run dev`: the whole gateway on this machine without Docker. 3 v1 + 1 v2 API replicas on
 * 127.0.0.1, a local CA and certificate, a random password and the system nginx, all in `.stack/`.
 * Ctrl-C or SIGTERM stops every process it started.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { localMonitoring } from '../monitoring/local';
import type { NginxSettingsInput } from '../nginx/settings';
import { NginxNotFoundError } from './nginx';
import { type LocalStack, REPO_ROOT, type StackComponent, startLocalStack } from './stack';

/**
 * Optional processes started after the gateway (monitoring adds its exporter, Prometheus and
 * Alertmanager here). Each may skip itself, e.g. when its binary is not installed.
 */
const COMPONENTS: StackComponent[] = [];

const USAGE = `Usage: npm run dev -- [options]
  --https-port N    HTTPS port (env HTTPS_PORT, default 8443)
  --http-port N     HTTP port, redirects to HTTPS (env HTTP_PORT, default 8080)
  --status-port N   internal stub_status port (env STATUS_PORT, default: a free port)
  --v1-replicas N   v1 replicas (default 3)
  --rate N          rate limit per client IP, requests/s (env RATE_LIMIT, default 10)
  --burst N         burst above the rate (env RATE_LIMIT_BURST, default 20)
  --canary P        percent of non-debug traffic sent to v2 (default 0)
  --dir PATH        state directory (default .stack)`;

function integerOption(
  name: string,
  value: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** `file` relative to the working directory when it lies inside it, else absolute. */
function display(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function summary(stack: LocalStack): string {
  const { user } = stack.auth;
  const ca = display(stack.tls.caCertPath);
  const predict = `${stack.urls.https}/predict`;
  const curl = (extra: string) =>
    `curl --cacert ${ca} --netrc-file ${display(stack.netrcPath)} -H 'Content-Type: application/json' ${extra}-d '{"sentence":"I love this!"}' ${predict}`;
  const extraUrls = Object.entries(stack.devJson.urls).filter(([key]) => key !== 'https' && key !== 'http');
  const skipped = Object.entries(stack.components).flatMap(([name, c]) =>
    'skipped' in c ? [`  ${name}: skipped (${c.skipped})`] : [],
  );
  return [
    '',
    'sentiment-gateway local stack is up',
    `  gateway     ${stack.urls.https}  (HTTP ${stack.urls.http} redirects here)`,
    `  replicas    ${stack.replicas.map((r) => `${r.id}@${r.port}`).join('  ')}`,
    `  stub_status ${stack.urls.status}  (internal)`,
    ...extraUrls.map(([name, url]) => `  ${name.padEnd(11)} ${url}`),
    ...skipped,
    `  CA cert     ${stack.tls.caCertPath}`,
    `  user        ${user}   password in ${display(stack.devJsonPath)} and ${display(stack.netrcPath)} (never printed)`,
    `  logs        ${display(path.dirname(stack.accessLogPath))}/`,
    '',
    'Try it:',
    `  ${curl('')}`,
    `  ${curl(`-H 'X-Experiment-Group: debug' `)}`,
    '  npm run smoke',
    '',
    `Ctrl-C (or kill ${process.pid}) stops everything.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'https-port': { type: 'string' },
      'http-port': { type: 'string' },
      'status-port': { type: 'string' },
      'v1-replicas': { type: 'string' },
      rate: { type: 'string' },
      burst: { type: 'string' },
      canary: { type: 'string' },
      dir: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const env = process.env;
  const nginx: NginxSettingsInput = {
    rateLimitPerSecond: integerOption('--rate', values.rate ?? env.RATE_LIMIT, 1, 100_000),
    rateLimitBurst: integerOption('--burst', values.burst ?? env.RATE_LIMIT_BURST, 0, 100_000),
    canaryPercent: values.canary === undefined ? undefined : Number(values.canary),
  };
  const dir = path.resolve(values.dir ?? path.join(REPO_ROOT, '.stack'));
  console.log(`Starting the local stack in ${dir} ...`);
  // Monitoring (mtail, nginx exporter, Alertmanager, Prometheus) when installed; nginx writes mtail's log.
  const monitoring = await localMonitoring({ dir });
  const stack = await startLocalStack({
    dir,
    ports: {
      https: integerOption('--https-port', values['https-port'] ?? env.HTTPS_PORT, 1, 65535) ?? 8443,
      http: integerOption('--http-port', values['http-port'] ?? env.HTTP_PORT, 1, 65535) ?? 8080,
      status: integerOption('--status-port', values['status-port'] ?? env.STATUS_PORT, 1, 65535),
    },
    v1Replicas: integerOption('--v1-replicas', values['v1-replicas'], 1, 32),
    nginx: {
      ...(Object.fromEntries(Object.entries(nginx).filter(([, v]) => v !== undefined)) as NginxSettingsInput),
      ...monitoring.nginx,
    },
    apiLogLevel: env.LOG_LEVEL ?? 'info',
    components: [...COMPONENTS, monitoring.component],
  });

  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${reason}: stopping every process ...`);
    await stack.stop();
    console.log('Stopped.');
    process.exit(code);
  };
  stack.supervisor.on(
    'exit',
    (handle: { name: string }, info: { code: number | null; signal: string | null }, expected: boolean) => {
      if (expected || stopping) return;
      const how = info.signal === null ? `code ${info.code}` : `signal ${info.signal}`;
      if (handle.name === stack.nginx.name) {
        void shutdown(`nginx exited (${how}); see ${path.join(stack.dir, 'logs', 'nginx.log')}`, 1);
      } else {
        console.error(
          `warning: ${handle.name} exited (${how}); nginx routes around it. Logs: ${stack.dir}/logs/${handle.name}.log`,
        );
      }
    },
  );
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void shutdown(signal, 0));
  }
  console.log(summary(stack));
}

main().catch((error: unknown) => {
  if (error instanceof NginxNotFoundError) {
    console.error(error.message);
  } else {
    console.error(`dev: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
