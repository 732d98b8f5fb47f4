/**
 * The airgap tier's access to the real engine: Debian's /usr/bin/docker, the images recorded in
 * images.json (never built here: `npm run airgap:images` runs first), and a scope that names every
 * container, network and volume with one unique prefix and removes them all at the end.
 */
import { docker, dockerExec, type Exec } from '../../airgap/engine';
import { PollAbort, pollUntil } from '../../deployments/local/readiness';
import { uploadTar, type Upload } from './uploads';

export { builtImages, docker, dockerExec, MANIFEST, type Exec } from '../../airgap/engine';
/** Every Docker object a test file makes, under one prefix, removed by {@link Scope.cleanup}. */
export class Scope {
  readonly prefix = `sg-airgap-${process.pid}-${Date.now().toString(36)}`;
  private readonly containers: string[] = [];
  private readonly networks: string[] = [];
  private readonly volumes: string[] = [];

  name(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  async network(suffix: string): Promise<string> {
    const name = this.name(suffix);
    this.networks.push(name);
    await docker(['network', 'create', '--label', `sentiment-gateway.test=${this.prefix}`, name]);
    return name;
  }

  async volume(suffix: string): Promise<string> {
    const name = this.name(suffix);
    this.volumes.push(name);
    await docker(['volume', 'create', '--label', `sentiment-gateway.test=${this.prefix}`, name]);
    return name;
  }

  /**
   * `docker create` + uploads + `docker start`: the files are in place before the process starts,
   * as with the Pulumi provider. `options` are `docker create` flags; `command` follows the image.
   */
  async run(
    suffix: string,
    options: readonly string[],
    image: string,
    command: readonly string[] = [],
    uploads: readonly Upload[] = [],
  ): Promise<string> {
    const name = this.name(suffix);
    this.containers.push(name);
    await docker([
      'create',
      '--name',
      name,
      '--label',
      `sentiment-gateway.test=${this.prefix}`,
      ...options,
      image,
      ...command,
    ]);
    if (uploads.length > 0) {
      await docker(['cp', '--archive', '-', `${name}:/`], uploadTar(uploads, Date.now() / 1000));
    }
    await docker(['start', name]);
    return name;
  }

  /** Removes every container (with anonymous volumes), then the networks and volumes; collects errors. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    const attempt = async (args: string[]) => {
      const result = await dockerExec(args);
      if (result.code !== 0 && !/No such/i.test(result.stderr)) errors.push(result.stderr.trim());
    };
    if (this.containers.length > 0) await attempt(['rm', '--force', '--volumes', ...this.containers]);
    for (const network of this.networks) await attempt(['network', 'rm', network]);
    if (this.volumes.length > 0) await attempt(['volume', 'rm', '--force', ...this.volumes]);
    if (errors.length > 0) throw new Error(`cleanup of ${this.prefix} failed: ${errors.join('; ')}`);
  }
}

/** Host port a container publishes `port` on (127.0.0.1). */
export async function publishedPort(container: string, port: number): Promise<number> {
  const out = await docker(['port', container, `${port}/tcp`]);
  const match = /127\.0\.0\.1:(\d+)/.exec(out);
  if (match === null) throw new Error(`${container} publishes ${port} on no 127.0.0.1 port (${out})`);
  return Number(match[1]);
}

/** Polls a command inside the container until it exits 0; fails early if the container stopped. */
export async function untilExecPasses(
  container: string,
  command: readonly string[],
  timeoutMs = 60_000,
): Promise<Exec> {
  let last: Exec | undefined;
  try {
    return await pollUntil(
      async () => {
        last = await dockerExec(['exec', container, ...command]);
        if (last.code === 0) return last;
        const running = await docker(['inspect', '--format', '{{.State.Running}}', container]);
        if (running !== 'true') {
          const logs = await dockerExec(['logs', '--tail', '20', container]);
          throw new StoppedError(`${container} stopped:\n${logs.stdout}${logs.stderr}`);
        }
        return undefined;
      },
      { what: `${command.join(' ')} in ${container}`, timeoutMs, intervalMs: 500 },
    );
  } catch (error) {
    if (error instanceof StoppedError) throw error;
    const logs = await dockerExec(['logs', '--tail', '20', container]);
    throw new Error(
      `${(error as Error).message}\nlast exit ${last?.code}: ${last?.stderr.trim()}\n${container} logs:\n${logs.stdout}${logs.stderr}`,
      { cause: error },
    );
  }
}

/** Ends the poll at once: a stopped container will not pass later. */
class StoppedError extends PollAbort {}
