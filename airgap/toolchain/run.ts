/**
 * `npm run airgap:toolchain`: builds the Pulumi CLI, the Node.js language host and the docker, tls
 * and random resource plugins from the Go module proxy only, into
 * `~/.cache/sentiment-gateway/airgap/toolchain/<versions>_<digest>/` (see airgap/cache.ts), and installs the plugins into that folder's
 * PULUMI_HOME with `pulumi plugin install resource NAME VERSION --file`. A complete folder is
 * reused: the second run only checks it. Prints the PATH entry and PULUMI_HOME to use.
 *
 * Options: --quiet (only the `export` lines, all four; for scripts: `eval "$(npm run -s airgap:toolchain -- --quiet)"`).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { airgapCacheRoot } from '../cache';
import { DYNAMIC_PROVIDER_LAUNCHER, exportLines, pulumiEnv, TOOLCHAIN_CACHE, toolchainLayout } from './env';
import { goFailure, type GoStep } from './failures';
import { sdkVersions } from './lockfile';
import { DEFAULT_PINS, PLUGINS, toolchainPlan, type GoBinary, type ToolchainPlan } from './plan';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const PROVIDER_SOURCES = path.join(REPO_ROOT, 'airgap', 'providers');

interface Result {
  code: number | null;
  output: string;
}

/** Runs a command, collecting stdout and stderr together; never rejects on a non-zero exit. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

/** Digest of each plugin's Go sources (file names and bytes), so editing them gets a new cache folder. */
async function sourceDigests(): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const name of PLUGINS) {
    const hash = createHash('sha256');
    for (const file of await goFiles(path.join(PROVIDER_SOURCES, name))) {
      hash.update(`${path.relative(PROVIDER_SOURCES, file)}\0`).update(await readFile(file));
    }
    digests[name] = hash.digest('hex');
  }
  return digests;
}

async function goFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(async (e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return goFiles(full);
        return e.name.endsWith('.go') ? [full] : [];
      }),
  );
  return files.flat();
}

/** The complete toolchain folder for the lockfile, if it has been built; null otherwise. */
export async function builtToolchain(root = REPO_ROOT): Promise<string | null> {
  const { dir, plan } = await currentPlan(root);
  return (await isComplete(dir, plan)) ? dir : null;
}

async function currentPlan(root: string): Promise<{ dir: string; plan: ToolchainPlan }> {
  const sdk = sdkVersions(await readFile(path.join(root, 'package-lock.json'), 'utf8'));
  const plan = toolchainPlan({ ...DEFAULT_PINS, sdk }, await sourceDigests());
  return { dir: path.join(airgapCacheRoot(), TOOLCHAIN_CACHE, plan.key), plan };
}

async function isComplete(dir: string, plan: ToolchainPlan): Promise<boolean> {
  const layout = toolchainLayout(dir);
  const expected = [
    layout.manifest,
    ...plan.binaries.filter((b) => !b.plugin).map((b) => path.join(layout.bin, b.name)),
    ...plan.binaries.flatMap((b) =>
      b.plugin ? [path.join(layout.home, 'plugins', `resource-${b.plugin.name}-v${b.plugin.version}`)] : [],
    ),
  ];
  return expected.every((file) => existsSync(file));
}

class StepError extends Error {}

/** The environment of every `go` command: no toolchain download, static binaries, wrapper go.sum written. */
const goEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GOTOOLCHAIN: 'local',
  CGO_ENABLED: '0',
  GOFLAGS: '-mod=mod',
});

async function go(step: GoStep, binary: GoBinary, args: string[], cwd: string): Promise<void> {
  const result = await run('go', args, { cwd, env: goEnv() }).catch((error: NodeJS.ErrnoException) => {
    throw new StepError(
      error.code === 'ENOENT'
        ? 'the `go` command is not on PATH: install Go 1.25 or newer (https://go.dev/doc/install)'
        : `cannot run go: ${error.message}`,
    );
  });
  if (result.code !== 0) {
    throw new StepError(
      goFailure(step, binary.name, `${binary.from.path}@${binary.from.version}`, result.output),
    );
  }
}

/** Writes a binary's wrapper module (generated files, plus the plugin's Go sources). */
async function writeWrapper(binary: GoBinary, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  if (binary.sources !== undefined) {
    const from = path.join(PROVIDER_SOURCES, binary.sources);
    for (const file of await goFiles(from)) {
      const to = path.join(dir, path.relative(from, file));
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(file, to);
    }
    // Placeholders for the first build, which generates the real ones.
    await writeFile(path.join(dir, 'schema.json'), '{}\n');
    await writeFile(path.join(dir, 'bridge-metadata.json'), '{}\n');
  }
  for (const file of binary.files) {
    await mkdir(path.dirname(path.join(dir, file.path)), { recursive: true });
    await writeFile(path.join(dir, file.path), file.content);
  }
}

async function buildBinary(binary: GoBinary, src: string, output: string): Promise<void> {
  await writeWrapper(binary, src);
  await go('download', binary, ['mod', 'tidy'], src);
  const build = [
    'build',
    '-trimpath',
    ...(binary.tags.length > 0 ? ['-tags', binary.tags.join(',')] : []),
    '-ldflags',
    ['-s', '-w', ...binary.ldflags].join(' '),
    '-o',
    output,
    binary.package,
  ];
  await go('build', binary, build, src);
  if (binary.plugin === undefined) return;
  // The schema the plugin serves is generated by the plugin itself, then embedded by a second build
  // (only the main package recompiles).
  const generated = path.join(src, 'generated');
  const tfgen = await run(output, ['tfgen', 'schema', '--out', generated], { cwd: src });
  if (tfgen.code !== 0) {
    throw new StepError(
      `${binary.name}: generating its schema failed:\n  ${tfgen.output.trim().split('\n').slice(-6).join('\n  ')}`,
    );
  }
  for (const file of ['schema.json', 'bridge-metadata.json']) {
    await copyFile(path.join(generated, file), path.join(src, file));
  }
  await go('build', binary, build, src);
}

async function pulumi(dir: string, args: string[]): Promise<string> {
  const result = await run(path.join(toolchainLayout(dir).bin, 'pulumi'), args, {
    env: { ...process.env, ...pulumiEnv(dir, process.env.PATH) },
  });
  if (result.code !== 0) throw new StepError(`pulumi ${args.join(' ')} failed:\n  ${result.output.trim()}`);
  return result.output.trim();
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quiet: { type: 'boolean', default: false } } });
  const log = values.quiet ? () => undefined : (line: string) => console.log(line);
  const started = Date.now();
  const { dir, plan } = await currentPlan(REPO_ROOT);
  const layout = toolchainLayout(dir);

  if (await isComplete(dir, plan)) {
    log(`airgap:toolchain: ${dir} is complete (checked in ${seconds(started)})`);
  } else {
    log(`airgap:toolchain: building into ${dir}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(layout.bin, { recursive: true });
    await mkdir(layout.plugins, { recursive: true });
    const durations: Record<string, number> = {};
    for (const [i, binary] of plan.binaries.entries()) {
      const t0 = Date.now();
      log(
        `[${i + 1}/${plan.binaries.length}] ${binary.name} ${binary.version} (${binary.from.path}@${binary.from.version})`,
      );
      const output = path.join(binary.plugin ? layout.plugins : layout.bin, binary.name);
      await buildBinary(binary, path.join(layout.src, binary.name), output);
      durations[binary.name] = Date.now() - t0;
      log(`      built in ${seconds(t0)}`);
    }

    const version = await pulumi(dir, ['version']);
    const pulumiBinary = plan.binaries[0]!;
    if (version !== `v${pulumiBinary.version}`) {
      throw new StepError(`the built pulumi reports ${version}, not v${pulumiBinary.version}`);
    }
    for (const binary of plan.binaries) {
      if (!binary.plugin) continue;
      const { name, version: pluginVersion } = binary.plugin;
      await pulumi(dir, [
        'plugin',
        'install',
        'resource',
        name,
        pluginVersion,
        '--file',
        path.join(layout.plugins, binary.name),
      ]);
      log(`      installed plugin resource ${name} ${pluginVersion}`);
    }
    await writeFile(layout.envFile, `${exportLines(dir).join('\n')}\n`);
    await chmod(layout.envFile, 0o644);
    await writeFile(
      layout.manifest,
      `${JSON.stringify(
        {
          key: plan.key,
          binaries: plan.binaries.map((b) => ({
            name: b.name,
            version: b.version,
            from: b.from,
            ms: durations[b.name],
          })),
          builtAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    log(`airgap:toolchain: done in ${seconds(started)}`);
  }

  // Written on every run, not part of the build: a folder built before it existed gains it.
  const launcher = path.join(layout.bin, DYNAMIC_PROVIDER_LAUNCHER.name);
  await writeFile(launcher, DYNAMIC_PROVIDER_LAUNCHER.content);
  await chmod(launcher, 0o755);

  const lines = exportLines(dir);
  if (values.quiet) {
    console.log(lines.join('\n'));
    return;
  }
  console.log(`\nUse it (\`source ${layout.envFile}\` also sets the two below, which keep pulumi offline):`);
  console.log(lines.filter((l) => /^export (PATH|PULUMI_HOME)=/.test(l)).join('\n'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(
      `airgap:toolchain: ${error instanceof StepError ? error.message : String((error as Error).stack ?? error)}`,
    );
    process.exit(1);
  });
}
