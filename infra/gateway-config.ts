/**
 * Delivers the gateway's configuration to the engine without replacing the nginx container: a
 * Pulumi dynamic resource (it runs in the Node language host; no provider plugin) that writes each
 * new generation into the config volume, has the running nginx check it (`nginx -t`), makes it
 * live, reloads nginx (`nginx -s reload`: new workers, old ones finish their requests) and waits until nginx
 * answers with the new generation. Rate limits, certificates, passwords and upstream lists change
 * this way with no dropped request.
 *
 * It talks to the engine through the `docker` CLI (`$DOCKER` if set), so it honours DOCKER_HOST and
 * docker contexts the same way the user's own commands do. Contents go over stdin, never argv.
 */
import * as pulumi from '@pulumi/pulumi';
import { spawn } from 'node:child_process';
import { GATEWAY_PATHS, PORTS } from '../deployments/names';
import {
  activateGenerationScript,
  GATEWAY_CONFIG_DIR,
  LIVE_CONF,
  writeGenerationScript,
  type GatewayFile,
} from './gateway-files';

/** Inputs of the dynamic resource, resolved. */
export interface GatewayConfigInputs {
  /** Docker volume holding the generations (mounted read-only in the nginx container). */
  volume: string;
  /** Image the short-lived writer container runs (the nginx image: it has sh and base64). */
  image: string;
  /** Name of the nginx container to reload when it runs with this volume. */
  container: string;
  generation: string;
  files: GatewayFile[];
}

/** What the resource records: never the files (they hold the key and the password hash). */
interface GatewayConfigOutputs {
  volume: string;
  image: string;
  container: string;
  generation: string;
  /** Whether the last change was applied by a reload of a running nginx (false: none was running). */
  reloaded: boolean;
}

const WRITER_MOUNT = '/conf';
const RELOAD_WAIT_MS = 30_000;

function docker(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // `DOCKER` names a particular CLI (CI pins Debian's); otherwise the one on PATH.
    const child = spawn(process.env.DOCKER || 'docker', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error) =>
      reject(new Error(`gateway config: cannot run docker (${error.message}); is the docker CLI on PATH?`)),
    );
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

async function mustDocker(what: string, args: string[], stdin?: string): Promise<string> {
  const result = await docker(args, stdin);
  if (result.code !== 0) {
    throw new Error(`gateway config: ${what} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Runs a script in a throwaway container with only the volume: no network, root with CHOWN only. */
function inWriter(what: string, inputs: GatewayConfigInputs, script: string): Promise<string> {
  return mustDocker(
    what,
    [
      'run',
      '--rm',
      '-i',
      '--network',
      'none',
      '--log-driver',
      'none',
      '--user',
      '0:0',
      '--cap-drop',
      'ALL',
      '--cap-add',
      'CHOWN',
      '--security-opt',
      'no-new-privileges:true',
      '--mount',
      `type=volume,source=${inputs.volume},target=${WRITER_MOUNT}`,
      '--entrypoint',
      'sh',
      inputs.image,
      '-s',
    ],
    script,
  );
}

/** True when `container` is running with `volume` mounted: the nginx that must reload. */
async function runningWithVolume(container: string, volume: string): Promise<boolean> {
  const result = await docker([
    'inspect',
    '--type',
    'container',
    '--format',
    '{{.State.Running}} {{range .Mounts}}{{.Name}} {{end}}',
    container,
  ]);
  if (result.code !== 0) return false;
  const [running, ...mounts] = result.stdout.trim().split(/\s+/);
  return running === 'true' && mounts.includes(volume);
}

async function servedGeneration(container: string): Promise<string | null> {
  const url = `http://127.0.0.1:${PORTS.gatewayStatus}${GATEWAY_PATHS.configGeneration}`;
  const result = await docker(['exec', container, 'wget', '-q', '-O', '-', url]);
  return result.code === 0 ? result.stdout.trim() : null;
}

async function apply(inputs: GatewayConfigInputs, previous: string | null): Promise<GatewayConfigOutputs> {
  const { volume, image, container, generation } = inputs;
  await inWriter(
    'writing the new generation',
    inputs,
    writeGenerationScript(WRITER_MOUNT, generation, inputs.files),
  );
  const reload = await runningWithVolume(container, volume);
  if (reload) {
    const conf = `${GATEWAY_CONFIG_DIR}/${generation}/nginx.conf`;
    const check = await docker(['exec', container, 'nginx', '-t', '-q', '-c', conf]);
    if (check.code !== 0) {
      throw new Error(
        `gateway config: nginx rejected generation ${generation}; the running config is unchanged:\n${check.stderr.trim()}`,
      );
    }
  }
  const keep = previous !== null && previous !== generation ? previous : null;
  await inWriter(
    'making the new generation live',
    inputs,
    activateGenerationScript(WRITER_MOUNT, generation, keep),
  );
  if (reload) {
    // nginx's own `-s reload` (SIGHUP to the master from inside), not `docker kill --signal HUP`:
    // Docker 20.10 records any `docker kill` as a manual stop, and `unless-stopped` then neither
    // restarts the gateway after a crash nor after an engine restart (found by the e2e-faults tier).
    await mustDocker('reloading nginx', [
      'exec',
      container,
      'nginx',
      '-c',
      `${GATEWAY_CONFIG_DIR}/${LIVE_CONF}`,
      '-s',
      'reload',
    ]);
    const deadline = Date.now() + RELOAD_WAIT_MS;
    let served = await servedGeneration(container);
    while (served !== generation) {
      if (Date.now() > deadline) {
        throw new Error(
          `gateway config: nginx still serves generation ${served ?? '(none)'} ${RELOAD_WAIT_MS / 1000} s after the reload of ${generation}; see \`docker logs ${container}\``,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
      served = await servedGeneration(container);
    }
  }
  return { volume, image, container, generation, reloaded: reload };
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: GatewayConfigInputs) {
    return { id: `${inputs.volume}/${inputs.generation}`, outs: await apply(inputs, null) };
  },
  async diff(_id: string, olds: GatewayConfigOutputs, news: GatewayConfigInputs) {
    const changed = (['volume', 'image', 'container', 'generation'] as const).filter(
      (k) => olds[k] !== news[k],
    );
    // A new volume starts empty: write into it as a new resource.
    return { changes: changed.length > 0, replaces: changed.includes('volume') ? ['volume'] : [] };
  },
  async update(_id: string, olds: GatewayConfigOutputs, news: GatewayConfigInputs) {
    return { outs: await apply(news, olds.generation) };
  },
  // The volume goes with its own resource; nothing to undo here.
  async delete() {},
};

/** Arguments of {@link GatewayConfig}. */
export interface GatewayConfigArgs {
  volume: pulumi.Input<string>;
  image: pulumi.Input<string>;
  container: pulumi.Input<string>;
  generation: pulumi.Input<string>;
  /** Secret: the key and the htpasswd are among them. */
  files: pulumi.Input<GatewayFile[]>;
}

/** The gateway's live configuration generation; see the module comment. */
export class GatewayConfig extends pulumi.dynamic.Resource {
  declare readonly generation: pulumi.Output<string>;
  declare readonly reloaded: pulumi.Output<boolean>;

  constructor(name: string, args: GatewayConfigArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      provider,
      name,
      // `reloaded` is an output only: declared so the SDK exposes it.
      { ...args, files: pulumi.secret(args.files), reloaded: undefined },
      opts,
      'sentiment-gateway',
      'GatewayConfig',
    );
  }
}
