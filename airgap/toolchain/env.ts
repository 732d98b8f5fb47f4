/**
 * Where the air-gapped toolchain lives and the environment every `pulumi` the project runs gets.
 * Pure path and environment arithmetic; `run.ts` builds what these name.
 */
import path from 'node:path';

/** The toolchain's folder under the air-gapped cache root (`airgapCacheRoot()`). One folder per version set inside. */
export const TOOLCHAIN_CACHE = 'toolchain';
/** The manifest written last: its presence means the folder is complete. */
export const MANIFEST = 'toolchain.json';

/** The layout of one toolchain folder. */
export function toolchainLayout(dir: string) {
  return {
    dir,
    /** `pulumi` and `pulumi-language-nodejs`: the PATH entry. */
    bin: path.join(dir, 'bin'),
    /** PULUMI_HOME: the installed plugins (`plugins/resource-<name>-v<version>/`). */
    home: path.join(dir, 'home'),
    /** Plugin binaries as built (installed into `home`; kept off PATH so only the installed ones load). */
    plugins: path.join(dir, 'plugins'),
    /** Generated wrapper modules, one per binary. */
    src: path.join(dir, 'src'),
    manifest: path.join(dir, MANIFEST),
    /** `source` it for the exports below. */
    envFile: path.join(dir, 'env.sh'),
  };
}

/**
 * The plugin the CLI runs for Pulumi dynamic resources (infra/gateway-config.ts), on PATH beside
 * `pulumi` as in Pulumi's own distribution: it starts the Node SDK's dynamic provider from the
 * project's node_modules (the CLI runs plugins in the project folder).
 */
export const DYNAMIC_PROVIDER_LAUNCHER = {
  name: 'pulumi-resource-pulumi-nodejs',
  content: [
    '#!/bin/sh',
    'script=$(node -e "process.stdout.write(require.resolve(\'@pulumi/pulumi/cmd/dynamic-provider\'))") || exit 1',
    'exec node "$script" "$@"',
    '',
  ].join('\n'),
} as const;

/** What keeps any `pulumi` offline: no update check, and a missing plugin is an error, never a download. */
export const OFFLINE_PULUMI_ENV = {
  PULUMI_SKIP_UPDATE_CHECK: 'true',
  PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
} as const;

/**
 * The variables every `pulumi` run by the project gets: the toolchain first on PATH, its plugin
 * home, no update check, and a missing plugin is an error, never a download attempt.
 */
export function pulumiEnv(toolchainDir: string, basePath: string | undefined): Record<string, string> {
  const layout = toolchainLayout(toolchainDir);
  return {
    PATH: basePath ? `${layout.bin}${path.delimiter}${basePath}` : layout.bin,
    PULUMI_HOME: layout.home,
    ...OFFLINE_PULUMI_ENV,
  };
}

/** The same as `export` lines for a shell, PATH last so it reads `$PATH`. */
export function exportLines(toolchainDir: string): string[] {
  const env = pulumiEnv(toolchainDir, '$PATH');
  const order = [
    'PULUMI_HOME',
    'PULUMI_SKIP_UPDATE_CHECK',
    'PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION',
    'PATH',
  ];
  return order.map((k) => `export ${k}="${env[k]}"`);
}
