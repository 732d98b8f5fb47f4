/**
 * `npm run airgap:images`: builds every image the stack runs with no container registry, in order:
 * a Debian base from debootstrap, the Debian-packaged services, an offline Node base, the API. Each
 * step prints its duration, is skipped when the engine already holds its image with the same cache
 * key (keys.ts), and a failure names the step, the cause and the step's log. At the end it writes
 * `<cacheDir>/images.json` and prints the `pulumi config set` lines that select the images.
 *
 * The thin I/O runner: what to build, with which arguments and under which key is decided by the pure
 * modules beside it (settings, tags, keys, commands, manifest, rootfs).
 */
import { airgapCacheRoot } from '../cache';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  BUILD_ENV,
  DOCKER,
  buildArgs,
  debootstrapArgs,
  importArgs,
  inspectKeyArgs,
  npmPackArgs,
  packageVersionArgs,
  rootfsTarArgs,
} from './commands';
import {
  cacheKey,
  contextDigest,
  dockerignoreAllowList,
  integrityOf,
  KEY_LABEL,
  type ContextFile,
} from './keys';
import {
  AIRGAP_STACK_FILE,
  parseManifest,
  pulumiConfigLines,
  renderManifest,
  syncStackConfig,
  type BuiltImage,
  type ImagesManifest,
  type StepId,
} from './manifest';
import { baseRootfsFiles, chrootAptSteps, HOST_FILES_TO_EMPTY } from './rootfs';
import {
  DEBIAN_IMAGES,
  resolveAirgapImagesSettings,
  type AirgapImagesSettings,
  type DebianImageSpec,
  type PinnedNpmPackage,
} from './settings';
import { apiTag, baseTag, debianVersionTag, imageRef, nodeTag } from './tags';

const REPO = path.resolve(__dirname, '../..');
const HERE = __dirname;

/** A failed step: the runner prints the step, the cause and where its full log is. */
class StepError extends Error {
  constructor(
    readonly step: string,
    cause: string,
    readonly log?: string,
  ) {
    super(cause);
    this.name = 'StepError';
  }
}

interface RunOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Append stdout and stderr here (the step's log). */
  readonly log?: WriteStream;
}

/** Runs argv (no shell); resolves to stdout; rejects with the exit status and the output's last lines. */
function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    options.log?.write(`\n$ ${[command, ...args].join(' ')}\n`);
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const tail: string[] = [];
    const keep = (chunk: Buffer) => {
      options.log?.write(chunk);
      tail.push(...chunk.toString().split('\n'));
      tail.splice(0, Math.max(0, tail.length - 40));
    };
    child.stdout.on('data', (chunk: Buffer) => {
      out.push(chunk);
      keep(chunk);
    });
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString());
      const last = tail.filter((l) => l.trim() !== '').slice(-15);
      reject(
        new Error(
          `${path.basename(command)} ${args[0] ?? ''} exited with ${code ?? signal}\n${last.map((l) => `    ${l}`).join('\n')}`,
        ),
      );
    });
  });
}

const docker = (args: readonly string[], options: RunOptions = {}) => run(DOCKER, args, options);

const seconds = (startMs: number) => `${((Date.now() - startMs) / 1000).toFixed(1)} s`;

/** The image with this key, if the engine holds `ref` carrying that key label. */
async function cachedImage(ref: string | undefined, key: string): Promise<string | undefined> {
  if (ref === undefined) return undefined;
  const out = await docker(inspectKeyArgs(ref)).catch(() => '');
  const [id, label] = out.trim().split(' ');
  return label === key ? id : undefined;
}

/** A tagged image in `repository` carrying the key label (images.json may be missing or stale). */
async function findByKey(repository: string, key: string): Promise<string | undefined> {
  const out = await docker([
    'image',
    'ls',
    '--filter',
    `label=${KEY_LABEL}=${key}`,
    '--format',
    '{{.Repository}}:{{.Tag}}',
  ]);
  return out
    .split('\n')
    .map((l) => l.trim())
    .find((ref) => ref.startsWith(`${repository}:`) && !ref.endsWith(':<none>') && !/:build-/.test(ref));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

interface Context {
  readonly settings: AirgapImagesSettings;
  readonly cacheDir: string;
  readonly logDir: string;
  readonly rebuild: boolean;
  /** images.json of the previous run, if any (a hint only: the engine is checked). */
  readonly previous: Partial<Record<StepId, BuiltImage>>;
  readonly builds: Partial<Record<StepId, BuiltImage>>;
  readonly rows: { step: string; ref: string; status: string; time: string; imageId: string }[];
}

async function openLog(ctx: Context, step: string): Promise<{ log: WriteStream; file: string }> {
  const file = path.join(ctx.logDir, `${step}.log`);
  return { log: createWriteStream(file, { flags: 'w' }), file };
}

async function closeLog(log: WriteStream): Promise<void> {
  await new Promise<void>((resolve) => log.end(resolve));
}

/** Runs one step with its log, its timing line and its error wrapping. */
async function step(
  ctx: Context,
  id: StepId,
  label: string,
  body: (log: WriteStream) => Promise<{ built: BuiltImage; cached: boolean }>,
): Promise<BuiltImage> {
  const start = Date.now();
  process.stdout.write(`- ${label} ...\n`);
  const { log, file } = await openLog(ctx, id);
  try {
    const { built, cached } = await body(log);
    ctx.builds[id] = built;
    const time = seconds(start);
    ctx.rows.push({
      step: label,
      ref: built.ref,
      status: cached ? 'cached' : 'built',
      time,
      imageId: built.imageId,
    });
    process.stdout.write(`  ${cached ? 'cached' : 'built '} ${built.ref} (${time})\n`);
    return built;
  } catch (error) {
    throw error instanceof StepError
      ? error
      : new StepError(label, error instanceof Error ? error.message : String(error), file);
  } finally {
    await closeLog(log);
  }
}

/** Step 0: an engine must answer through /usr/bin/docker. */
async function preflight(): Promise<string> {
  if (!existsSync(DOCKER)) {
    throw new StepError(
      'preflight',
      `${DOCKER} is missing: install Debian's docker.io (its CLI speaks API 1.41)`,
    );
  }
  try {
    return (await docker(['version', '--format', '{{.Server.Version}} (API {{.Server.APIVersion}})'])).trim();
  } catch (error) {
    throw new StepError(
      'preflight',
      `no Docker engine reachable through ${DOCKER} (start it: nohup /usr/sbin/dockerd >/tmp/dockerd.log 2>&1 &): ${(error as Error).message}`,
    );
  }
}

interface RootfsMeta {
  readonly inputsKey: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly createdAt: string;
}

/** The debootstrap root filesystem as a tar in the cache, made once per inputs. */
async function rootfsTar(
  ctx: Context,
  log: WriteStream,
): Promise<{ tar: string; meta: RootfsMeta; made: boolean }> {
  const { settings } = ctx;
  const files = baseRootfsFiles(settings);
  const inputsKey = cacheKey('debian-rootfs', {
    suite: settings.suite,
    mirror: settings.mirror,
    securityMirror: settings.securityMirror,
    files: JSON.stringify(files),
    chroot: JSON.stringify(chrootAptSteps()),
  });
  const tar = path.join(ctx.cacheDir, `debian-${settings.suite}-minbase.tar`);
  const metaFile = `${tar}.json`;
  const previous = (await exists(metaFile))
    ? (JSON.parse(await readFile(metaFile, 'utf8')) as RootfsMeta)
    : undefined;
  if (
    previous?.inputsKey === inputsKey &&
    (await stat(tar).catch(() => undefined))?.size === previous.bytes
  ) {
    return { tar, meta: previous, made: false };
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      'debootstrap needs root (it creates device nodes and chroots): run as root, or under sudo',
    );
  }
  const debootstrap = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap'].find((p) => existsSync(p));
  if (debootstrap === undefined) throw new Error('debootstrap is not installed: apt-get install debootstrap');
  const rootfs = path.join(ctx.cacheDir, 'rootfs.tmp');
  await rm(rootfs, { recursive: true, force: true });
  process.stdout.write(`  debootstrap ${settings.suite} from ${settings.mirror} (about 80 s)\n`);
  await run(debootstrap, debootstrapArgs(settings, rootfs), { log });
  for (const file of files) {
    const target = path.join(rootfs, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, file.content);
    await chmod(target, file.mode);
  }
  for (const { argv, env } of chrootAptSteps())
    await run('/usr/sbin/chroot', [rootfs, ...argv], { log, env });
  await rm(path.join(rootfs, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(path.join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  for (const file of HOST_FILES_TO_EMPTY) await writeFile(path.join(rootfs, file), '');
  const partial = `${tar}.partial`;
  await run('tar', rootfsTarArgs(rootfs, partial), { log });
  await rm(rootfs, { recursive: true, force: true });
  const meta: RootfsMeta = {
    inputsKey,
    sha256: await sha256File(partial),
    bytes: (await stat(partial)).size,
    createdAt: new Date().toISOString(),
  };
  await rename(partial, tar);
  await writeFile(metaFile, `${JSON.stringify(meta, null, 2)}\n`);
  return { tar, meta, made: true };
}

async function buildDebianBase(ctx: Context): Promise<BuiltImage> {
  return step(ctx, 'debianBase', `debian-base (debootstrap ${ctx.settings.suite} minbase)`, async (log) => {
    const { tar, meta, made } = await rootfsTar(ctx, log);
    const key = cacheKey('debian-base', { rootfs: meta.sha256 });
    const ref = imageRef(
      ctx.settings.repository,
      'debian-base',
      baseTag(ctx.settings.suite, new Date(meta.createdAt)),
    );
    const cachedId = made ? undefined : await cachedImage(ref, key);
    if (cachedId !== undefined) return { built: { ref, key, imageId: cachedId }, cached: true };
    const replaced = await imageIdOf(ref);
    await docker(importArgs(tar, ref, key), { log });
    const imageId = (await docker(inspectKeyArgs(ref))).split(' ')[0]!;
    if (replaced !== undefined && replaced !== imageId) await removeIfUnused(replaced, log);
    return { built: { ref, key, imageId }, cached: false };
  });
}

/** Builds `spec` under a temporary tag, then tags it with what `finalTag` reads from the image. */
async function buildImage(
  ctx: Context,
  log: WriteStream,
  spec: {
    repository: string;
    key: string;
    dockerfile: string;
    context: string;
    buildArgs: Record<string, string>;
    secrets?: { id: string; src: string }[];
    finalTag: (tmpRef: string) => Promise<string>;
  },
): Promise<{ ref: string; imageId: string }> {
  const tmp = `${spec.repository}:build-${spec.key.slice(0, 12)}`;
  await docker(
    buildArgs({
      dockerfile: spec.dockerfile,
      context: spec.context,
      tag: tmp,
      key: spec.key,
      buildArgs: spec.buildArgs,
      secrets: spec.secrets,
      noCache: ctx.rebuild,
    }),
    { log, env: BUILD_ENV },
  );
  const ref = `${spec.repository}:${await spec.finalTag(tmp)}`;
  const replaced = await imageIdOf(ref);
  await docker(['tag', tmp, ref], { log });
  await docker(['image', 'rm', tmp], { log });
  const imageId = (await docker(inspectKeyArgs(ref))).split(' ')[0]!;
  if (replaced !== undefined && replaced !== imageId) await removeIfUnused(replaced, log);
  return { ref, imageId };
}

async function imageIdOf(ref: string): Promise<string | undefined> {
  const out = await docker(['image', 'inspect', '--format', '{{.Id}}', ref]).catch(() => '');
  return out.trim() === '' ? undefined : out.trim();
}

/**
 * Removes the image a rebuilt tag moved away from, now untagged. The engine refuses while a container
 * or a child image uses it, or another tag names it: then it stays, and so does the error in the log.
 */
async function removeIfUnused(imageId: string, log: WriteStream): Promise<void> {
  await docker(['image', 'rm', imageId], { log }).catch(() => undefined);
}

/** A previous build with this key still in the engine, under its recorded tag or any tag of the repository. */
async function reuse(
  ctx: Context,
  id: StepId,
  repository: string,
  key: string,
): Promise<BuiltImage | undefined> {
  if (ctx.rebuild) return undefined;
  const previous = ctx.previous[id];
  const candidates = [previous?.key === key ? previous.ref : undefined, await findByKey(repository, key)];
  for (const ref of candidates) {
    const imageId = await cachedImage(ref, key);
    if (ref !== undefined && imageId !== undefined) {
      return { ...(previous?.ref === ref ? previous : {}), ref, key, imageId };
    }
  }
  return undefined;
}

async function buildDebianImage(ctx: Context, spec: DebianImageSpec, base: BuiltImage): Promise<BuiltImage> {
  return step(ctx, spec.id, `${spec.dir} (Debian ${spec.debianPackage})`, async (log) => {
    const dockerfile = path.join(HERE, spec.dir, 'Dockerfile');
    const key = cacheKey(spec.dir, {
      dockerfile: await readFile(dockerfile, 'utf8'),
      base: base.key,
      package: spec.debianPackage,
    });
    const repository = `${ctx.settings.repository}/${spec.dir}`;
    const readVersion = async (ref: string) =>
      (await docker(packageVersionArgs(ref, spec.debianPackage))).trim();
    const cached = await reuse(ctx, spec.id, repository, key);
    if (cached !== undefined) {
      const version = cached.version ?? (await readVersion(cached.ref));
      return { built: { ...cached, debianPackage: spec.debianPackage, version }, cached: true };
    }
    let version = '';
    const { ref, imageId } = await buildImage(ctx, log, {
      repository,
      key,
      dockerfile,
      context: path.dirname(dockerfile),
      buildArgs: { BASE_IMAGE: base.ref },
      finalTag: async (tmp) => {
        version = await readVersion(tmp);
        return debianVersionTag(version);
      },
    });
    return { built: { ref, key, imageId, debianPackage: spec.debianPackage, version }, cached: false };
  });
}

/** `npm pack`s a pinned package into the cache once, and checks its integrity every run. */
async function packed(ctx: Context, pkg: PinnedNpmPackage, log: WriteStream): Promise<string> {
  const dir = path.join(ctx.cacheDir, 'npm');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${pkg.name}-${pkg.version}.tgz`);
  if (!(await exists(file))) {
    await run('npm', npmPackArgs(pkg, dir), { log });
  }
  const integrity = integrityOf(await readFile(file));
  if (integrity !== pkg.integrity) {
    await rm(file, { force: true });
    throw new Error(
      `${pkg.name}@${pkg.version}: tarball integrity ${integrity} is not the pinned ${pkg.integrity}`,
    );
  }
  return file;
}

async function buildNodeBase(ctx: Context, base: BuiltImage): Promise<BuiltImage> {
  const { node, npm } = ctx.settings;
  return step(ctx, 'nodeBase', `node ${node.version} + npm ${npm.version} (npm packages)`, async (log) => {
    const dockerfile = path.join(HERE, 'node', 'Dockerfile');
    const key = cacheKey('node', {
      dockerfile: await readFile(dockerfile, 'utf8'),
      base: base.key,
      node: node.integrity,
      npm: npm.integrity,
    });
    const ref = imageRef(ctx.settings.repository, 'node', nodeTag(node.version, ctx.settings.suite));
    const cachedId = ctx.rebuild ? undefined : await cachedImage(ref, key);
    if (cachedId !== undefined) return { built: { ref, key, imageId: cachedId }, cached: true };
    const context = path.join(ctx.cacheDir, 'node-context');
    await rm(context, { recursive: true, force: true });
    await mkdir(context, { recursive: true });
    await copyFile(await packed(ctx, node, log), path.join(context, 'node.tgz'));
    await copyFile(await packed(ctx, npm, log), path.join(context, 'npm.tgz'));
    const built = await buildImage(ctx, log, {
      repository: `${ctx.settings.repository}/node`,
      key,
      dockerfile,
      context,
      buildArgs: { BASE_IMAGE: base.ref, NODE_VERSION: node.version, NPM_VERSION: npm.version },
      finalTag: async () => nodeTag(node.version, ctx.settings.suite),
    });
    return { built: { ...built, key }, cached: false };
  });
}

/** The files of the API build context (the .dockerignore allow-list), hashed. */
async function apiContextFiles(): Promise<ContextFile[]> {
  const allowed = dockerignoreAllowList(await readFile(path.join(REPO, '.dockerignore'), 'utf8'));
  const files: ContextFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    const absolute = path.join(REPO, relative);
    const info = await stat(absolute);
    if (info.isDirectory()) {
      for (const entry of await readdir(absolute)) await walk(`${relative}/${entry}`);
    } else {
      files.push({ path: relative, sha256: await sha256File(absolute) });
    }
  };
  for (const entry of allowed) await walk(entry);
  return files;
}

async function buildApi(ctx: Context, nodeBase: BuiltImage): Promise<BuiltImage> {
  return step(ctx, 'api', 'api (services/api/Dockerfile)', async (log) => {
    const dockerfile = path.join(REPO, 'services/api/Dockerfile');
    const { npmRegistry, npmCaBundle } = ctx.settings;
    const key = cacheKey('api', {
      dockerfile: await readFile(dockerfile, 'utf8'),
      dockerignore: await readFile(path.join(REPO, '.dockerignore'), 'utf8'),
      context: contextDigest(await apiContextFiles()),
      nodeBase: nodeBase.key,
      npmRegistry: npmRegistry ?? '',
    });
    const version = (
      JSON.parse(await readFile(path.join(REPO, 'services/api/package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
    const ref = imageRef(ctx.settings.repository, 'api', apiTag(version, key));
    const cachedId = ctx.rebuild ? undefined : await cachedImage(ref, key);
    if (cachedId !== undefined) return { built: { ref, key, imageId: cachedId }, cached: true };
    if (npmCaBundle !== null && !(await exists(npmCaBundle))) {
      throw new Error(`the npm CA bundle ${npmCaBundle} does not exist (--npm-ca, or NODE_EXTRA_CA_CERTS)`);
    }
    const built = await buildImage(ctx, log, {
      repository: `${ctx.settings.repository}/api`,
      key,
      dockerfile,
      context: REPO,
      buildArgs: { NODE_IMAGE: nodeBase.ref, ...(npmRegistry === null ? {} : { NPM_REGISTRY: npmRegistry }) },
      secrets: npmCaBundle === null ? [] : [{ id: 'npm-ca', src: npmCaBundle }],
      finalTag: async () => apiTag(version, key),
    });
    return { built: { ...built, key }, cached: false };
  });
}

async function imageSize(ref: string): Promise<string> {
  const bytes = Number((await docker(['image', 'inspect', '--format', '{{.Size}}', ref])).trim());
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

const USAGE = `Usage: npm run airgap:images -- [--rebuild] [--npm-registry <url>] [--npm-ca <pem file>]
  --rebuild        rebuild every image without the layer cache (picks up new Debian packages);
                   the debootstrap tar is kept (delete it from the cache directory to refresh it)
  --npm-registry   registry (mirror) the API build's npm ci uses
  --npm-ca         CA bundle for that registry or a TLS-intercepting proxy (default $NODE_EXTRA_CA_CERTS),
                   handed to the build stages as a BuildKit secret, never stored in an image`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rebuild: { type: 'boolean', default: false },
      'npm-registry': { type: 'string' },
      'npm-ca': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  const ca = values['npm-ca'] ?? process.env.NODE_EXTRA_CA_CERTS;
  const settings = resolveAirgapImagesSettings({
    npmRegistry: values['npm-registry'] ?? null,
    npmCaBundle: ca === undefined || ca === '' ? null : path.resolve(ca),
  });
  const cacheDir = path.join(airgapCacheRoot(), settings.cacheDir);
  const logDir = path.join(cacheDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const manifestFile = path.join(cacheDir, 'images.json');
  let previous: Partial<Record<StepId, BuiltImage>> = {};
  if (await exists(manifestFile)) {
    try {
      previous = parseManifest(await readFile(manifestFile, 'utf8'), manifestFile).builds;
    } catch {
      previous = {};
    }
  }
  const ctx: Context = {
    settings,
    cacheDir,
    logDir,
    rebuild: values.rebuild === true,
    previous,
    builds: {},
    rows: [],
  };

  const start = Date.now();
  const engine = await preflight();
  console.log(`airgap:images: Docker ${engine} via ${DOCKER}; cache ${cacheDir}/`);
  const base = await buildDebianBase(ctx);
  for (const spec of DEBIAN_IMAGES) await buildDebianImage(ctx, spec, base);
  const nodeBase = await buildNodeBase(ctx, base);
  await buildApi(ctx, nodeBase);

  await writeFile(manifestFile, renderManifest(ctx.builds));
  console.log(`\nairgap:images: done in ${seconds(start)}; wrote ${manifestFile}`);
  for (const row of ctx.rows) {
    console.log(
      `  ${row.status.padEnd(6)} ${row.time.padStart(8)}  ${(await imageSize(row.ref)).padStart(7)}  ${row.ref}`,
    );
  }
  const images = (JSON.parse(renderManifest(ctx.builds)) as ImagesManifest).images;
  console.log('\nSelect them in a stack:');
  for (const line of pulumiConfigLines(images)) console.log(`  ${line}`);
  const stackFile = path.join(REPO, AIRGAP_STACK_FILE);
  const synced = syncStackConfig(await readFile(stackFile, 'utf8'), images);
  if (synced.changed.length === 0) {
    console.log(`${AIRGAP_STACK_FILE} selects exactly these.`);
  } else {
    await writeFile(stackFile, synced.text);
    console.log(`${AIRGAP_STACK_FILE} now selects them:\n  ${synced.changed.join('\n  ')}`);
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof StepError) {
      console.error(`\nairgap:images: step "${error.step}" failed: ${error.message}`);
      if (error.log !== undefined) console.error(`  full log: ${path.relative(process.cwd(), error.log)}`);
    } else {
      console.error(`\nairgap:images: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exit(1);
  });
}
