/** The system nginx binary for the local stack and the tests: locate it, check a config, run it. */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ServiceSpec } from './supervisor';

const run = promisify(execFile);

/** Where to look when `NGINX_BIN` is unset and nginx is not on PATH (Debian puts it in /usr/sbin). */
const FALLBACK_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/opt/homebrew/bin'];

/** Raised when no nginx binary is found; the message says how to install one. */
export class NginxNotFoundError extends Error {
  constructor() {
    super(
      [
        'nginx was not found (looked at $NGINX_BIN, $PATH and /usr/sbin).',
        'Install it: Debian/Ubuntu `sudo apt-get install nginx`, Fedora `sudo dnf install nginx`,',
        'macOS `brew install nginx`; or point NGINX_BIN at the binary.',
      ].join('\n'),
    );
    this.name = 'NginxNotFoundError';
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of the nginx binary: `$NGINX_BIN`, else `$PATH`, else the sbin directories. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.NGINX_BIN;
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit)) {
      throw new NginxNotFoundError();
    }
    return explicit;
  }
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...FALLBACK_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'nginx');
    if (isExecutable(candidate)) {
      return candidate;
    }
  }
  throw new NginxNotFoundError();
}

/** Files of an nginx instance run with its own prefix (`-p`), away from /etc/nginx and /var. */
export interface NginxInstance {
  readonly binary: string;
  readonly prefix: string;
  readonly confPath: string;
}

function baseArgs(nginx: NginxInstance): string[] {
  // -e: the error log is given before the config is read (the built-in default may be unwritable).
  return ['-p', `${nginx.prefix}/`, '-c', nginx.confPath, '-e', 'stderr'];
}

/** Runs `nginx -t`; resolves with its output, rejects with it if the config is refused. */
export async function nginxConfigTest(nginx: NginxInstance): Promise<string> {
  try {
    const { stdout, stderr } = await run(nginx.binary, [...baseArgs(nginx), '-t'], { timeout: 30_000 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`nginx -t rejected ${nginx.confPath}:\n${e.stderr ?? ''}${e.stdout ?? e.message}`, {
      cause: error,
    });
  }
}

/** Spec for the supervisor: nginx in the foreground (`daemon off`) with its master process. */
export function nginxServiceSpec(
  nginx: NginxInstance,
  options: { name?: string; ready?: () => Promise<boolean> } = {},
): ServiceSpec {
  return {
    name: options.name ?? 'nginx',
    command: nginx.binary,
    args: [...baseArgs(nginx), '-g', 'daemon off;'],
    ready: options.ready,
    // SIGQUIT: graceful shutdown, in-flight requests finish.
    stopSignal: 'SIGQUIT',
  };
}
