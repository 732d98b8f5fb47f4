/**
 * The local stack as a library: API replicas on 127.0.0.1, a local CA and server certificate, a random
 * password, and the system nginx with the rendered config, all under one directory. `npm run dev`
 * and the integration tests both start it through `startLocalStack`.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { htpasswdLine } from '../nginx/htpasswd';
import { renderNginxConf } from '../nginx/render';
import { type NginxSettings, type NginxSettingsInput, resolveNginxSettings } from '../nginx/settings';
import { API_ROUTES, type ApiVariant, GATEWAY_PATHS, SERVICE } from '../names';
import { httpRequest } from './http-client';
import { type NginxInstance, findNginx, nginxConfigTest, nginxServiceSpec } from './nginx';
import { freePorts } from './ports';
import { type ServiceHandle, type ServiceSpec, Supervisor } from './supervisor';
import { type LocalTls, createLocalTls } from './tls';

/** The repository root (this file is deployments/local/stack.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Layout of the stack directory. */
export const STACK_LAYOUT = {
  devJson: 'dev.json',
  /** curl's `--netrc-file`: the credentials for the printed examples, so no password is echoed. */
  netrc: 'netrc',
  htpasswd: 'htpasswd',
  tls: 'tls',
  nginx: 'nginx',
  logs: 'logs',
  accessLog: 'logs/access.log',
} as const;

/** A v1 or v2 API replica of the stack. */
export interface ReplicaInfo {
  /** `api-v1-1`, `api-v1-2`, ..., `api-v2` (the REPLICA_ID the API echoes in `replica`). */
  readonly id: string;
  readonly variant: ApiVariant;
  readonly host: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (direct, bypassing the gateway). */
  readonly url: string;
}

/** A replica with its process: `kill('SIGKILL')`, `restart()`, `stop()`. */
export type ReplicaHandle = ReplicaInfo & { readonly process: ServiceHandle };

/** What a component (e.g. monitoring) sees when it plans its processes. */
export interface StackContext {
  readonly dir: string;
  readonly host: string;
  readonly repoRoot: string;
  readonly gateway: {
    readonly httpsUrl: string;
    readonly httpUrl: string;
    /** `host:port` of the internal stub_status listener. */
    readonly statusAddress: string;
    /** Full stub_status URL (for the nginx exporter). */
    readonly statusUrl: string;
    readonly accessLogPath: string;
  };
  readonly replicas: readonly ReplicaInfo[];
  /** A free port on the stack's host. */
  freePort(): Promise<number>;
  /** Writes `content` to `<dir>/<relativePath>` (parents created) and returns the absolute path. */
  writeFile(relativePath: string, content: string, mode?: number): Promise<string>;
}

/** What a component runs, and the URLs it adds to dev.json and the summary. */
export interface ComponentPlan {
  readonly services: readonly ServiceSpec[];
  readonly urls?: Readonly<Record<string, string>>;
}

/** An optional part of the stack started after the gateway, e.g. the exporter and Prometheus. */
export interface StackComponent {
  readonly name: string;
  /** The processes to run, or `{ skipped: reason }` (e.g. a binary is not installed). */
  plan(context: StackContext): Promise<ComponentPlan | { readonly skipped: string }>;
}

export interface LocalStackOptions {
  /** Directory for all state: TLS, htpasswd, nginx prefix, logs, dev.json. Created with mode 0700. */
  readonly dir: string;
  /** Address everything binds to. Default 127.0.0.1. */
  readonly host?: string;
  /** Host name in the published URLs (covered by the certificate). Default localhost. */
  readonly publicHost?: string;
  /** Gateway ports; 0 or absent picks a free port. */
  readonly ports?: { readonly https?: number; readonly http?: number; readonly status?: number };
  /** Number of v1 replicas. Default 3. */
  readonly v1Replicas?: number;
  /** Number of v2 replicas. Default 1. */
  readonly v2Replicas?: number;
  /** nginx setting overrides applied over the local ones (rate limit, burst, canary, workers...). */
  readonly nginx?: NginxSettingsInput;
  /** Basic-auth user. Default `api`. */
  readonly user?: string;
  /** Basic-auth password. Default: 32 random characters. */
  readonly password?: string;
  /** Model for the replicas. Default `$MODEL_PATH` or the repository's model/sentiment.onnx. */
  readonly modelPath?: string;
  /** API LOG_LEVEL. Default warn. */
  readonly apiLogLevel?: string;
  /** Keep an existing CA in `<dir>/tls`. Default true. */
  readonly reuseCa?: boolean;
  /** Started after the gateway, in order. */
  readonly components?: readonly StackComponent[];
  /** Deadline for each process to become ready. Default 60 s. */
  readonly readyTimeoutMs?: number;
}

/** Contents of `<dir>/dev.json`, read by `npm run smoke` and people. */
export interface DevJson {
  readonly urls: { readonly https: string; readonly http: string } & Readonly<Record<string, string>>;
  readonly caCert: string;
  readonly auth: { readonly user: string; readonly password: string };
  readonly replicas: { readonly v1: number; readonly v2: number };
  /** The gateway's per-client limit (the smoke check paces itself below it). */
  readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  /** Internal stub_status URL. */
  readonly status: string;
}

/** A running local stack. */
export interface LocalStack {
  readonly dir: string;
  readonly host: string;
  readonly urls: DevJson['urls'] & { readonly status: string };
  readonly ports: { readonly https: number; readonly http: number; readonly status: number };
  readonly tls: LocalTls;
  readonly auth: { readonly user: string; readonly password: string };
  readonly replicas: readonly ReplicaHandle[];
  readonly nginx: ServiceHandle & { readonly settings: NginxSettings; readonly confPath: string };
  readonly accessLogPath: string;
  readonly devJsonPath: string;
  readonly devJson: DevJson;
  /** netrc file (0600) with the gateway credentials, for `curl --netrc-file`. */
  readonly netrcPath: string;
  /** Component name -> started services, URLs, or the reason it was skipped. */
  readonly components: Readonly<
    Record<string, { services: ServiceHandle[]; urls: Record<string, string> } | { skipped: string }>
  >;
  readonly supervisor: Supervisor;
  /** Asks nginx to reload its config (SIGHUP to the master); returns once the signal is sent. */
  reloadNginx(): void;
  /** Stops every process, last started first. */
  stop(): Promise<void>;
}

/** What a client needs of a gateway: the local stack, or a deployed one (airgap/deployment.ts). */
export type GatewayClient = Pick<LocalStack, 'host' | 'auth'> & {
  ports: Pick<LocalStack['ports'], 'https'>;
  tls: Pick<LocalStack['tls'], 'caCertPem'>;
};

/** Throws if `port` on `host` is taken, naming what it was meant for. */
async function assertPortFree(host: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `${what} port ${host}:${port} is not available (${error.code ?? error.message}); choose another one`,
        ),
      ),
    );
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

async function httpOk(url: string, ca?: string): Promise<boolean> {
  const response = await httpRequest({ url, ca, timeoutMs: 2_000 });
  return response.status === 200;
}

/** Generates a random password: 32 URL-safe characters (192 bits). */
export function randomPassword(): string {
  return randomBytes(24).toString('base64url');
}

function replicaSpec(
  info: ReplicaInfo,
  modelPath: string,
  logLevel: string,
  readyTimeoutMs: number,
): ServiceSpec {
  return {
    name: info.id,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, 'services', 'api', 'src', 'server.ts')],
    cwd: REPO_ROOT,
    env: {
      PORT: String(info.port),
      HOST: info.host,
      API_VARIANT: info.variant,
      REPLICA_ID: info.id,
      MODEL_PATH: modelPath,
      LOG_LEVEL: logLevel,
    },
    ready: () => httpOk(`${info.url}${API_ROUTES.ready}`),
    readyTimeoutMs,
  };
}

/**
 * Starts the whole local stack and returns once every process answers its readiness check.
 * On failure, everything already started is stopped before the error is rethrown.
 *
 * @example
 * const stack = await startLocalStack({ dir: await mkdtemp(...), nginx: { rateLimitPerSecond: 1000 } });
 * try { ... } finally { await stack.stop(); }
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const dir = path.resolve(options.dir);
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicHost ?? 'localhost';
  const v1Count = options.v1Replicas ?? 3;
  const v2Count = options.v2Replicas ?? 1;
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const modelPath = path.resolve(
    options.modelPath ?? process.env.MODEL_PATH ?? path.join(REPO_ROOT, 'model', 'sentiment.onnx'),
  );
  if (!Number.isInteger(v1Count) || v1Count < 1 || !Number.isInteger(v2Count) || v2Count < 1) {
    throw new Error(`v1Replicas and v2Replicas must be integers >= 1 (got ${v1Count}, ${v2Count})`);
  }
  const binary = findNginx();

  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const logsDir = path.join(dir, STACK_LAYOUT.logs);
  const tlsDir = path.join(dir, STACK_LAYOUT.tls);
  const prefix = path.join(dir, STACK_LAYOUT.nginx);
  const tempDir = path.join(prefix, 'temp');
  for (const sub of [logsDir, tlsDir, prefix, tempDir]) {
    await mkdir(sub, { recursive: true, mode: 0o700 });
  }

  // Ports: requested ones must be free; the rest (and every replica's) come from the OS.
  const requested = {
    https: options.ports?.https ?? 0,
    http: options.ports?.http ?? 0,
    status: options.ports?.status ?? 0,
  };
  for (const [what, port] of Object.entries(requested)) {
    if (port !== 0) {
      await assertPortFree(host, port, what.toUpperCase());
    }
  }
  const needed = Object.values(requested).filter((p) => p === 0).length + v1Count + v2Count;
  const pool = await freePorts(needed, host);
  const take = () => pool.shift()!;
  const ports = {
    https: requested.https === 0 ? take() : requested.https,
    http: requested.http === 0 ? take() : requested.http,
    status: requested.status === 0 ? take() : requested.status,
  };
  const replicaInfos: ReplicaInfo[] = [
    ...Array.from({ length: v1Count }, (_, i) => ({
      id: `${SERVICE.apiV1}-${i + 1}`,
      variant: 'v1' as const,
    })),
    ...Array.from({ length: v2Count }, (_, i) => ({
      id: v2Count === 1 ? SERVICE.apiV2 : `${SERVICE.apiV2}-${i + 1}`,
      variant: 'v2' as const,
    })),
  ].map(({ id, variant }) => {
    const port = take();
    return { id, variant, host, port, url: `http://${host}:${port}` };
  });

  const tls = await createLocalTls(tlsDir, {
    hosts: [...new Set([publicHost, 'localhost', host, '127.0.0.1', '::1'])],
    reuseCa: options.reuseCa ?? true,
    crlUrl: `http://${publicHost}:${ports.http}${GATEWAY_PATHS.crl}`,
  });
  const user = options.user ?? 'api';
  const password = options.password ?? randomPassword();
  const htpasswdPath = path.join(dir, STACK_LAYOUT.htpasswd);
  await writeFile(htpasswdPath, `${htpasswdLine(user, password, randomBytes(16))}\n`, { mode: 0o600 });
  await chmod(htpasswdPath, 0o600);

  const accessLogPath = path.join(dir, STACK_LAYOUT.accessLog);
  const settings = resolveNginxSettings({
    v1Upstreams: replicaInfos.filter((r) => r.variant === 'v1').map((r) => `${r.host}:${r.port}`),
    v2Upstreams: replicaInfos.filter((r) => r.variant === 'v2').map((r) => `${r.host}:${r.port}`),
    httpsListen: `${host}:${ports.https}`,
    httpListen: `${host}:${ports.http}`,
    statusListen: `${host}:${ports.status}`,
    statusAllow: [host],
    publicHttpsPort: ports.https,
    certificatePath: tls.certPath,
    certificateKeyPath: tls.keyPath,
    htpasswdPath,
    crlPath: tls.crlPath,
    // As root, the workers would switch to `nobody`, which cannot read the 0600 files in this 0700
    // directory; as another user the directive is ignored, so it is left out.
    workerUser: process.getuid?.() === 0 ? os.userInfo().username : null,
    pidPath: path.join(prefix, 'nginx.pid'),
    errorLog: 'stderr',
    accessLog: accessLogPath,
    tempDir,
    ...options.nginx,
  });
  const confPath = path.join(prefix, 'nginx.conf');
  await writeFile(confPath, renderNginxConf(settings), { mode: 0o600 });
  const instance: NginxInstance = { binary, prefix, confPath };
  await nginxConfigTest(instance);

  const supervisor = new Supervisor(logsDir);
  try {
    const replicaProcesses = await Promise.all(
      replicaInfos.map((info) =>
        supervisor.start(replicaSpec(info, modelPath, options.apiLogLevel ?? 'warn', readyTimeoutMs)),
      ),
    );
    const httpsUrl = `https://${publicHost}:${ports.https}`;
    const nginx = await supervisor.start({
      ...nginxServiceSpec(instance, {
        ready: () => httpOk(`https://${host}:${ports.https}${GATEWAY_PATHS.health}`, tls.caCertPem),
      }),
      readyTimeoutMs,
    });

    const statusUrl = `http://${host}:${ports.status}${GATEWAY_PATHS.stubStatus}`;
    const context: StackContext = {
      dir,
      host,
      repoRoot: REPO_ROOT,
      gateway: {
        httpsUrl,
        httpUrl: `http://${publicHost}:${ports.http}`,
        statusAddress: `${host}:${ports.status}`,
        statusUrl,
        accessLogPath,
      },
      replicas: replicaInfos,
      freePort: async () => (await freePorts(1, host))[0]!,
      writeFile: async (relativePath, content, mode = 0o644) => {
        const target = path.join(dir, relativePath);
        await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
        await writeFile(target, content, { mode });
        await chmod(target, mode);
        return target;
      },
    };
    const components: Record<
      string,
      { services: ServiceHandle[]; urls: Record<string, string> } | { skipped: string }
    > = {};
    const componentUrls: Record<string, string> = {};
    for (const component of options.components ?? []) {
      const plan = await component.plan(context);
      if ('skipped' in plan) {
        components[component.name] = { skipped: plan.skipped };
        continue;
      }
      const services: ServiceHandle[] = [];
      for (const spec of plan.services) {
        services.push(await supervisor.start({ readyTimeoutMs, ...spec }));
      }
      components[component.name] = { services, urls: { ...plan.urls } };
      Object.assign(componentUrls, plan.urls);
    }

    const devJson: DevJson = {
      urls: { ...componentUrls, https: httpsUrl, http: context.gateway.httpUrl },
      caCert: tls.caCertPath,
      auth: { user, password },
      replicas: { v1: v1Count, v2: v2Count },
      rateLimit: { perSecond: settings.rateLimitPerSecond, burst: settings.rateLimitBurst },
      status: statusUrl,
    };
    const devJsonPath = path.join(dir, STACK_LAYOUT.devJson);
    await writeFile(devJsonPath, `${JSON.stringify(devJson, null, 2)}\n`, { mode: 0o600 });
    await chmod(devJsonPath, 0o600);
    const netrcPath = path.join(dir, STACK_LAYOUT.netrc);
    await writeFile(netrcPath, `machine ${publicHost} login ${user} password ${password}\n`, { mode: 0o600 });
    await chmod(netrcPath, 0o600);

    return {
      dir,
      host,
      urls: { ...devJson.urls, status: statusUrl },
      ports,
      tls,
      auth: { user, password },
      replicas: replicaInfos.map((info, i) => ({ ...info, process: replicaProcesses[i]! })),
      nginx: Object.assign(nginx, { settings, confPath }),
      accessLogPath,
      devJsonPath,
      devJson,
      netrcPath,
      components,
      supervisor,
      reloadNginx: () => nginx.kill('SIGHUP'),
      stop: () => supervisor.stopAll(),
    };
  } catch (error) {
    await supervisor.stopAll();
    throw error;
  }
}
