/**
 * One throw-away deployment (the end-to-end tier, `npm run bench -- --only docker`): the air-gapped toolchain's `pulumi` on a `file://`
 * backend in a temporary folder, a fresh stack with the air-gapped config (images from images.json,
 * free host ports, a name prefix of its own), and the engine objects it made, found by that prefix.
 */
import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { freePorts } from '../deployments/local/ports';
import type { GatewayClient } from '../deployments/local/stack';
import { builtImages, docker, dockerExec } from './engine';
import { pulumiProject, requireToolchain, type PulumiProject } from './pulumi-project';

/** The stack's outputs, as `pulumi stack output --json --show-secrets` gives them. */
export interface StackOutputs {
  urls: { gateway: string; http: string; prometheus: string; alertmanager: string; grafana?: string };
  caCertificate: string;
  apiUser: string;
  apiPassword: string;
  v1Replicas: number;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
}

export interface Deployment {
  readonly stack: string;
  /** Prefix of every container, network and volume name. */
  readonly prefix: string;
  readonly project: PulumiProject;
  /** Runs pulumi for this stack; throws with the output on a non-zero exit. */
  pulumi(args: readonly string[], options?: { timeoutMs?: number }): Promise<string>;
  outputs(): Promise<StackOutputs>;
  /** The gateway as a test client sees it (127.0.0.1, the CA, the credentials). */
  client(outputs: StackOutputs): GatewayClient;
  /**
   * Ends the deployment: `pulumi destroy` and removal of whatever destroy left unless `destroyed`
   * (it already ran and was checked), then the temporary project.
   */
  discard(options?: { destroyed?: boolean }): Promise<void>;
}

export const STACK = 'airgap';

/**
 * Checks what it needs (toolchain, engine, images), then creates the project and the stack with
 * the air-gapped config, its own ports and prefix, and `overrides` (config keys without the project
 * prefix). Nothing is deployed yet.
 */
export async function prepareDeployment(
  overrides: Readonly<Record<string, string>> = {},
): Promise<Deployment> {
  const toolchain = await requireToolchain();
  const { images } = await builtImages();
  const project = await pulumiProject(toolchain, ['Pulumi.airgap.yaml']);
  const prefix = `sg-e2e-${Date.now().toString(36)}`;
  const pulumi = async (args: readonly string[], options?: { timeoutMs?: number }) =>
    project.pulumiOk([...args, '--stack', STACK], options);
  await project.pulumiOk(['stack', 'init', STACK]);
  const [https, http, prometheus, alertmanager, grafana] = await freePorts(5);
  const config: Record<string, string> = {
    namePrefix: prefix,
    httpsPort: String(https),
    httpPort: String(http),
    prometheusPort: String(prometheus),
    alertmanagerPort: String(alertmanager),
    grafanaPort: String(grafana),
    apiImage: images.api,
    nginxImage: images.nginx,
    nginxExporterImage: images.nginxExporter,
    prometheusImage: images.prometheus,
    alertmanagerImage: images.alertmanager,
    gatewayMetricsImage: images.gatewayMetrics,
    ...overrides,
  };
  for (const [key, value] of Object.entries(config)) await pulumi(['config', 'set', key, value]);
  return {
    stack: STACK,
    prefix,
    project,
    pulumi,
    async outputs() {
      return JSON.parse(await pulumi(['stack', 'output', '--json', '--show-secrets'])) as StackOutputs;
    },
    client: (outputs) => ({
      host: '127.0.0.1',
      ports: { https: Number(new URL(outputs.urls.gateway).port) },
      tls: { caCertPem: outputs.caCertificate },
      auth: { user: outputs.apiUser, password: outputs.apiPassword },
    }),
    async discard({ destroyed = false } = {}) {
      if (!destroyed) {
        await project.pulumi(['destroy', '--yes', '--stack', STACK], { timeoutMs: 300_000 });
        await forceRemove(prefix);
      }
      await project.remove();
    },
  };
}

/** Names of the engine's containers, networks or volumes (containers in any state) starting with `prefix`, sorted. */
export async function namesStartingWith(
  kind: 'container' | 'network' | 'volume',
  prefix: string,
): Promise<string[]> {
  const format = kind === 'container' ? '{{.Names}}' : '{{.Name}}';
  return (await docker([kind, 'ls', ...(kind === 'container' ? ['-a'] : []), '--format', format]))
    .split('\n')
    .filter((n) => n.startsWith(prefix))
    .sort();
}

/** Names of the engine's containers, networks and volumes whose names start with `prefix`. */
export async function engineObjects(prefix: string): Promise<string[]> {
  const kinds = ['container', 'network', 'volume'] as const;
  const lists = await Promise.all(
    kinds.map(async (kind) => (await namesStartingWith(kind, prefix)).map((n) => `${kind} ${n}`)),
  );
  return lists.flat().sort();
}

/** Removes whatever is left under `prefix` (after a failed destroy): containers, then networks and volumes. */
export async function forceRemove(prefix: string): Promise<void> {
  for (const object of await engineObjects(prefix)) {
    const [kind, name] = object.split(' ') as [string, string];
    await dockerExec(kind === 'container' ? ['rm', '-f', '-v', name] : [kind, 'rm', name]);
  }
}

/** `docker inspect` of one container, parsed. */
export async function inspect(name: string): Promise<{
  Id: string;
  State: { Pid: number; Status: string; Health?: { Status: string }; OOMKilled: boolean };
  RestartCount: number;
  Config: { Env: string[] | null; Cmd: string[] | null; Entrypoint: string[] | null };
  NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
}> {
  return (JSON.parse(await docker(['inspect', name])) as never[])[0]!;
}

/** The address of a container on its first (for an API replica: its only) network. */
export const firstAddress = (state: Awaited<ReturnType<typeof inspect>>): string | undefined =>
  Object.values(state.NetworkSettings.Networks)[0]?.IPAddress;

/** The certificate the gateway presents over TLS to `client` (for `localhost`), and whether it verified. */
export function presentedCertificate(
  client: GatewayClient,
): Promise<{ pem: string; authorizationError: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: client.host, port: client.ports.https, servername: 'localhost', ca: client.tls.caCertPem },
      () => {
        const pem = socket.getPeerX509Certificate()!.toString();
        socket.end();
        resolve({ pem, authorizationError: socket.authorized ? null : String(socket.authorizationError) });
      },
    );
    socket.once('error', reject);
  });
}

/** True when the certificate the gateway presents chains to `caPem` (checked by the TLS client too). */
export function signedBy(certificatePem: string, caPem: string): boolean {
  const ca = new X509Certificate(caPem);
  const certificate = new X509Certificate(certificatePem);
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
}

/**
 * The Docker name of the stack's container `suffix` (e.g. `gateway`, `api-v1-2`): API replicas carry
 * a spec hash after it (`<prefix>-api-v1-2-0123456789`). Fails unless exactly one exists.
 */
export async function currentContainer(prefix: string, suffix: string): Promise<string> {
  const pattern = new RegExp(`^${prefix}-${suffix}(-[0-9a-f]{10})?$`);
  const names = (await namesStartingWith('container', `${prefix}-${suffix}`)).filter((n) => pattern.test(n));
  if (names.length !== 1)
    throw new Error(
      `expected one container ${prefix}-${suffix}[-hash], found: ${names.join(', ') || 'none'}`,
    );
  return names[0]!;
}
