/**
 * The gateway's configuration as a set of files in generations, and the shell steps that install one
 * into the config volume. Pure: no Pulumi, no I/O. `gateway-config.ts` runs the steps on the engine.
 *
 * Layout of the volume (mounted read-only at {@link GATEWAY_CONFIG_DIR} in the nginx container):
 *
 *     nginx.conf            the live config: a copy of one generation's nginx.conf, swapped by rename
 *     <generation>/         nginx.conf, server.crt, server.key, htpasswd of one rendering
 *
 * A generation's nginx.conf names its own files by absolute path, so `nginx -t -c <generation>/nginx.conf`
 * checks exactly what a reload will load, and installing a new generation never touches the files
 * the running workers read (htpasswd is read on every request).
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { renderNginxConf, resolveNginxSettings, type NginxSettingsInput } from '../deployments/nginx';

/** Where the config volume is mounted in the nginx container; nginx runs `-c <this>/nginx.conf`. */
export const GATEWAY_CONFIG_DIR = '/etc/nginx/sg';
/** The live config, relative to the volume. */
export const LIVE_CONF = 'nginx.conf';

/** uid/gid of the `nginx` user in the official and the Debian images alike. */
export const NGINX_GID = 101;

/** One file of a generation; `path` is relative to the volume. */
export interface GatewayFile {
  readonly path: string;
  readonly content: string;
  /** Octal mode, e.g. `0444`. */
  readonly mode: string;
  /** Numeric group (owner is always root). */
  readonly gid: number;
}

/** One rendering of the gateway: its id, the nginx.conf in it (no secrets) and all its files. */
export interface GatewayGeneration {
  /** 16 hex digits of a SHA-256 over every file: equal renderings share it, any change makes a new one. */
  readonly generation: string;
  readonly nginxConf: string;
  readonly files: readonly GatewayFile[];
}

/** The secret and certificate material of a generation. */
export interface GatewayMaterial {
  readonly certificatePem: string;
  readonly certificateKeyPem: string;
  readonly htpasswd: string;
}

const FILE_NAMES = {
  conf: 'nginx.conf',
  certificate: 'server.crt',
  certificateKey: 'server.key',
  htpasswd: 'htpasswd',
} as const;

/** Settings the generation owns: its file paths and its id. */
type OwnedSettings = 'certificatePath' | 'certificateKeyPath' | 'htpasswdPath' | 'configGeneration';

function render(settings: Omit<NginxSettingsInput, OwnedSettings>, generation: string): string {
  const dir = posix.join(GATEWAY_CONFIG_DIR, generation);
  return renderNginxConf(
    resolveNginxSettings({
      ...settings,
      certificatePath: posix.join(dir, FILE_NAMES.certificate),
      certificateKeyPath: posix.join(dir, FILE_NAMES.certificateKey),
      htpasswdPath: posix.join(dir, FILE_NAMES.htpasswd),
      configGeneration: generation,
    }),
  );
}

/**
 * The generation for these settings and material. Its id hashes the config rendered with a
 * placeholder id plus the material, so the id never depends on itself. Only a prefix of a hash of
 * the key and password hash is revealed: nothing an attacker can use.
 */
export function gatewayGeneration(
  settings: Omit<NginxSettingsInput, OwnedSettings>,
  material: GatewayMaterial,
): GatewayGeneration {
  const hash = createHash('sha256');
  for (const part of [
    render(settings, '0'),
    material.certificatePem,
    material.certificateKeyPem,
    material.htpasswd,
  ]) {
    hash.update(`${part.length}:${part}`);
  }
  const generation = hash.digest('hex').slice(0, 16);
  const nginxConf = render(settings, generation);
  const file = (name: string, content: string, mode: string, gid = 0): GatewayFile => ({
    path: `${generation}/${name}`,
    content,
    mode,
    gid,
  });
  return {
    generation,
    nginxConf,
    files: [
      file(FILE_NAMES.conf, nginxConf, '0444'),
      file(FILE_NAMES.certificate, material.certificatePem, '0444'),
      // Read by the root master only.
      file(FILE_NAMES.certificateKey, material.certificateKeyPem, '0400'),
      // Read by the workers (group nginx) on every request.
      file(FILE_NAMES.htpasswd, material.htpasswd, '0440', NGINX_GID),
    ],
  };
}

const GENERATION = /^[0-9a-f]{1,64}$/;
const MODE = /^0[0-7]{3}$/;
const FILE_PATH = /^[0-9a-f]{1,64}\/[A-Za-z0-9._-]+$/;

function checkGeneration(generation: string): void {
  if (!GENERATION.test(generation)) {
    throw new Error(`a gateway generation is 1-64 lowercase hex digits (got ${JSON.stringify(generation)})`);
  }
}

/**
 * A POSIX sh script (dash and busybox alike) that writes a generation into the volume mounted at
 * `root`. It is fed on stdin, never argv, so secrets stay out of process lists; contents travel in
 * base64, so no quoting can break. Files are written to a temporary name and renamed.
 */
export function writeGenerationScript(
  root: string,
  generation: string,
  files: readonly GatewayFile[],
): string {
  checkGeneration(generation);
  const lines = [
    'set -eu',
    'umask 077',
    `mkdir -p '${root}/${generation}'`,
    `chmod 0755 '${root}/${generation}'`,
  ];
  for (const f of files) {
    if (!FILE_PATH.test(f.path) || !f.path.startsWith(`${generation}/`)) {
      throw new Error(`gateway file ${JSON.stringify(f.path)} is not "<generation>/<name>"`);
    }
    if (!MODE.test(f.mode) || !Number.isInteger(f.gid) || f.gid < 0) {
      throw new Error(`gateway file ${f.path}: bad mode ${f.mode} or gid ${f.gid}`);
    }
    const target = `${root}/${f.path}`;
    const b64 = Buffer.from(f.content, 'utf8').toString('base64');
    lines.push(
      `printf '%s' '${b64}' | base64 -d > '${target}.tmp'`,
      `chown 0:${f.gid} '${target}.tmp'`,
      `chmod ${f.mode} '${target}.tmp'`,
      `mv -f '${target}.tmp' '${target}'`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A script that makes `generation` the live config (a rename: nginx sees the old file or the new,
 * never half of one) and deletes every other generation but `keep` (the one the old workers may
 * still read while they finish).
 */
export function activateGenerationScript(root: string, generation: string, keep: string | null): string {
  checkGeneration(generation);
  if (keep !== null) checkGeneration(keep);
  const kept = [generation, ...(keep === null ? [] : [keep])].map((g) => `'${root}/${g}/'`).join('|');
  return `${[
    'set -eu',
    `cp '${root}/${generation}/${FILE_NAMES.conf}' '${root}/.${LIVE_CONF}.tmp'`,
    `chmod 0444 '${root}/.${LIVE_CONF}.tmp'`,
    `mv -f '${root}/.${LIVE_CONF}.tmp' '${root}/${LIVE_CONF}'`,
    `for d in '${root}'/*/; do case "$d" in ${kept}) ;; *) rm -rf "$d" ;; esac; done`,
  ].join('\n')}\n`;
}
