/**
 * The Pulumi SDK versions the program was locked to, read from package-lock.json: the toolchain
 * builds the CLI and every plugin at exactly these versions, so they are never typed twice.
 */

/** The npm packages whose versions pick the toolchain. */
export const SDK_PACKAGES = {
  pulumi: '@pulumi/pulumi',
  docker: '@pulumi/docker',
  tls: '@pulumi/tls',
  random: '@pulumi/random',
} as const;

export type SdkName = keyof typeof SDK_PACKAGES;
export type SdkVersions = Record<SdkName, string>;

const SEMVER = /^\d+\.\d+\.\d+$/;

/**
 * Reads the installed version of each SDK from a package-lock.json (lockfileVersion 2 or 3) text.
 * Throws naming the package when one is missing or not an exact release version.
 *
 * @example sdkVersions(readFileSync('package-lock.json', 'utf8')).docker // '5.2.0'
 */
export function sdkVersions(lockfileText: string): SdkVersions {
  let lock: { lockfileVersion?: unknown; packages?: Record<string, { version?: unknown }> };
  try {
    lock = JSON.parse(lockfileText) as typeof lock;
  } catch (error) {
    throw new Error(`package-lock.json is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof lock.packages !== 'object' || lock.packages === null) {
    throw new Error(
      `package-lock.json has no "packages" map (lockfileVersion ${String(lock.lockfileVersion)}; npm 7+ writes version 2 or 3)`,
    );
  }
  const versions = {} as SdkVersions;
  for (const [name, pkg] of Object.entries(SDK_PACKAGES) as [SdkName, string][]) {
    const version = lock.packages[`node_modules/${pkg}`]?.version;
    if (typeof version !== 'string' || !SEMVER.test(version)) {
      throw new Error(
        `package-lock.json has no exact version of ${pkg} (got ${JSON.stringify(version ?? null)}); run npm install`,
      );
    }
    versions[name] = version;
  }
  return versions;
}
