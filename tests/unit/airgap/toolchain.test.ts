/**
 * The air-gapped toolchain's pure parts: SDK versions from the lockfile, pseudo-versions, the
 * generated wrapper go.mod files, the cache key, failure messages and the pulumi environment.
 * Building and running the binaries is tests/airgap/toolchain.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { airgapCacheRoot } from '../../../airgap/cache';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { DYNAMIC_PROVIDER_LAUNCHER, exportLines, pulumiEnv } from '../../../airgap/toolchain/env';
import { goFailure } from '../../../airgap/toolchain/failures';
import { pseudoVersion, renderGoMod } from '../../../airgap/toolchain/go-module';
import { sdkVersions } from '../../../airgap/toolchain/lockfile';
import { DEFAULT_PINS, toolchainPlan } from '../../../airgap/toolchain/plan';

const ROOT = path.join(__dirname, '..', '..', '..');
const SDK = { pulumi: '3.248.0', docker: '5.2.0', tls: '5.6.1', random: '4.21.2' };
const SOURCES = { docker: 'd'.repeat(64), tls: 't'.repeat(64), random: 'r'.repeat(64) };

const lockfile = (packages: Record<string, unknown>) => JSON.stringify({ lockfileVersion: 3, packages });
const FULL = {
  '': { name: 'x' },
  'node_modules/@pulumi/pulumi': { version: '3.248.0' },
  'node_modules/@pulumi/docker': { version: '5.2.0' },
  'node_modules/@pulumi/tls': { version: '5.6.1' },
  'node_modules/@pulumi/random': { version: '4.21.2' },
};

describe('sdkVersions', () => {
  test('reads the four SDK versions of this repository from its package-lock.json, as package.json pins them', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const versions = sdkVersions(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
    expect(versions).toEqual({
      pulumi: pkg.dependencies['@pulumi/pulumi'],
      docker: pkg.dependencies['@pulumi/docker'],
      tls: pkg.dependencies['@pulumi/tls'],
      random: pkg.dependencies['@pulumi/random'],
    });
  });

  test('reads exact versions from a lockfile', () => {
    expect(sdkVersions(lockfile(FULL))).toEqual(SDK);
  });

  test.each([
    ['not JSON', '{', /not JSON/],
    [
      'a lockfile v1 (no packages map)',
      JSON.stringify({ lockfileVersion: 1, dependencies: {} }),
      /no "packages" map.*lockfileVersion 1/,
    ],
    [
      'a missing SDK',
      lockfile({ ...FULL, 'node_modules/@pulumi/tls': undefined }),
      /no exact version of @pulumi\/tls \(got null\)/,
    ],
    [
      'a range',
      lockfile({ ...FULL, 'node_modules/@pulumi/random': { version: '^4.21.2' } }),
      /@pulumi\/random \(got "\^4.21.2"\)/,
    ],
  ])('refuses %s, naming the problem', (_, text, error) => {
    expect(() => sdkVersions(text)).toThrow(error);
  });
});

describe('pseudoVersion', () => {
  const path = 'example.com/m';
  test.each([
    [
      'no tag before the commit',
      { commit: '96d331c98ff4aa', time: '2026-09-16T20:14:41Z' },
      'v0.0.0-20260916201441-96d331c98ff4',
    ],
    [
      'no tag, major 4 module path',
      { commit: 'f47bc2d6f199', time: '2026-01-15T03:34:56Z', major: 4 },
      'v4.0.0-20260115033456-f47bc2d6f199',
    ],
    [
      'after the release v1.2.0',
      { commit: 'd044ca7c6f52', time: '2026-08-19T08:51:17Z', afterTag: 'v1.2.0' },
      'v1.2.1-0.20260819085117-d044ca7c6f52',
    ],
    [
      'after the pre-release v2.0.0-rc.1',
      { commit: 'abcdefabcdef', time: '2026-01-02T03:04:05Z', afterTag: 'v2.0.0-rc.1' },
      'v2.0.0-rc.1.0.20260102030405-abcdefabcdef',
    ],
    [
      'a commit time with an offset (converted to UTC)',
      { commit: 'e944612c4c970123d9a1', time: '2026-06-26T09:50:50-07:00' },
      'v0.0.0-20260626165050-e944612c4c97',
    ],
  ])('computes the version the proxy serves for %s', (_, commit, expected) => {
    expect(pseudoVersion({ path, ...commit })).toBe(expected);
  });

  test.each([
    ['a short hash', { commit: 'abc123', time: '2026-01-01T00:00:00Z' }, /commit must be 12 to 40/],
    ['an upper-case hash', { commit: 'ABCDEFABCDEF', time: '2026-01-01T00:00:00Z' }, /commit must be/],
    [
      'a time without a zone',
      { commit: 'abcdefabcdef', time: '2026-01-01T00:00:00' },
      /ISO 8601 with a zone/,
    ],
    [
      'a tag that is not semver',
      { commit: 'abcdefabcdef', time: '2026-01-01T00:00:00Z', afterTag: 'release-1' },
      /afterTag must be a semver tag/,
    ],
  ])('refuses %s, naming the module', (_, commit, error) => {
    expect(() => pseudoVersion({ path, ...commit })).toThrow(new RegExp(`^${path}: .*${error.source}`));
  });
});

describe('the wrapper modules', () => {
  const plan = toolchainPlan({ ...DEFAULT_PINS, sdk: SDK }, SOURCES);
  const binary = (name: string) => {
    const found = plan.binaries.find((b) => b.name === name);
    if (!found) throw new Error(`no ${name}`);
    return found;
  };
  const file = (name: string, file: string) => binary(name).files.find((f) => f.path === file)?.content;

  test('builds the CLI, the language host and the three plugins, in that order, at the lockfile versions', () => {
    expect(plan.binaries.map((b) => `${b.name} ${b.version}`)).toEqual([
      'pulumi 3.248.0',
      'pulumi-language-nodejs 3.68.0',
      'pulumi-resource-docker 5.2.0',
      'pulumi-resource-tls 5.6.1',
      'pulumi-resource-random 4.21.2',
    ]);
    expect(binary('pulumi').ldflags).toEqual([
      '-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v3.248.0',
    ]);
    expect(binary('pulumi-resource-tls').ldflags).toEqual(['-X main.version=5.6.1']);
    expect(binary('pulumi-resource-docker').tags).toEqual(['no_compose']);
    expect(binary('pulumi-resource-random').plugin).toEqual({ name: 'random', version: '4.21.2' });
  });

  test('the CLI wrapper requires pkg/v3 and sdk/v3 at the SDK version and repeats the clipboard replace', () => {
    expect(file('pulumi', 'go.mod')).toBe(
      [
        '// Generated by sentiment-gateway (npm run airgap:toolchain); do not edit.',
        'module sentiment-gateway.local/airgap/pulumi',
        '',
        'go 1.25.11',
        '',
        'require (',
        '\tgithub.com/pulumi/pulumi/pkg/v3 v3.248.0',
        '\tgithub.com/pulumi/pulumi/sdk/v3 v3.248.0',
        ')',
        '',
        'replace (',
        '\tgithub.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e',
        ')',
        '',
      ].join('\n'),
    );
    expect(file('pulumi', 'tools.go')).toContain('import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n');
  });

  test('the language host wrapper requires sdk/v3 v3.68.0 only', () => {
    expect(file('pulumi-language-nodejs', 'go.mod')).toBe(
      [
        '// Generated by sentiment-gateway (npm run airgap:toolchain); do not edit.',
        'module sentiment-gateway.local/airgap/pulumi-language-nodejs',
        '',
        'go 1.25.11',
        '',
        'require (',
        '\tgithub.com/pulumi/pulumi/sdk/v3 v3.68.0',
        ')',
        '',
      ].join('\n'),
    );
  });

  test('the docker plugin wrapper maps the upstream to the commit kreuzwerker publishes, under its declared path', () => {
    expect(file('pulumi-resource-docker', 'go.mod')).toBe(
      [
        '// Generated by sentiment-gateway (npm run airgap:toolchain); do not edit.',
        'module sentiment-gateway.local/airgap/pulumi-resource-docker',
        '',
        'go 1.25.11',
        '',
        'require (',
        '\tgithub.com/pulumi/pulumi-terraform-bridge/v3 v3.137.0',
        '\tgithub.com/terraform-providers/terraform-provider-docker/shim v0.0.0',
        ')',
        '',
        'replace (',
        '\tgithub.com/hashicorp/terraform-plugin-sdk/v2 => github.com/pulumi/terraform-plugin-sdk/v2 v2.0.0-20260318212141-5525259d096b',
        '\tgithub.com/terraform-providers/terraform-provider-docker => github.com/kreuzwerker/terraform-provider-docker v0.0.0-20260916201441-96d331c98ff4',
        '\tgithub.com/terraform-providers/terraform-provider-docker/shim => ./shim',
        ')',
        '',
      ].join('\n'),
    );
    expect(file('pulumi-resource-docker', 'shim/go.mod')).toBe(
      [
        '// Generated by sentiment-gateway (npm run airgap:toolchain); do not edit.',
        'module github.com/terraform-providers/terraform-provider-docker/shim',
        '',
        'go 1.25.11',
        '',
        'require (',
        '\tgithub.com/terraform-providers/terraform-provider-docker v0.0.0',
        ')',
        '',
      ].join('\n'),
    );
  });

  test('the tls plugin shim requires the upstream at its pseudo-version', () => {
    expect(file('pulumi-resource-tls', 'shim/go.mod')).toContain(
      'require (\n\tgithub.com/hashicorp/terraform-provider-tls v1.2.1-0.20260819085117-d044ca7c6f52\n)',
    );
    expect(file('pulumi-resource-tls', 'go.mod')).not.toContain(
      'github.com/hashicorp/terraform-provider-tls =>',
    );
  });

  test('names the cache folder after the versions, and changes it when a pin or a plugin source changes', () => {
    expect(plan.key).toMatch(/^pulumi-3\.248\.0_docker-5\.2\.0_tls-5\.6\.1_random-4\.21\.2_[0-9a-f]{10}$/);
    expect(toolchainPlan({ ...DEFAULT_PINS, sdk: SDK }, SOURCES).key).toBe(plan.key);
    expect(toolchainPlan({ ...DEFAULT_PINS, sdk: SDK }, { ...SOURCES, tls: 'x'.repeat(64) }).key).not.toBe(
      plan.key,
    );
    const bridge = { ...DEFAULT_PINS.bridge, version: 'v3.120.0' };
    expect(toolchainPlan({ ...DEFAULT_PINS, bridge, sdk: SDK }, SOURCES).key).not.toBe(plan.key);
    expect(toolchainPlan({ ...DEFAULT_PINS, sdk: { ...SDK, random: '4.21.1' } }, SOURCES).key).toMatch(
      /_random-4\.21\.1_/,
    );
  });
});

describe('renderGoMod', () => {
  test('sorts requires and replaces by path and leaves out empty blocks', () => {
    expect(
      renderGoMod({
        comment: 'c',
        module: 'm',
        go: '1.25',
        require: [
          { path: 'z/z', version: 'v1.0.0' },
          { path: 'a/a', version: 'v2.0.0' },
        ],
      }),
    ).toBe('// c\nmodule m\n\ngo 1.25\n\nrequire (\n\ta/a v2.0.0\n\tz/z v1.0.0\n)\n');
  });
});

describe('goFailure', () => {
  const module = 'github.com/pulumi/pulumi/pkg/v3@v3.248.0';
  test.each([
    [
      'a module the proxy refuses',
      'download',
      'go: github.com/pulumi/pulumi-tls/provider/v5@v5.6.1: reading https://proxy.golang.org/github.com/pulumi/pulumi-tls/provider/v5/@v/v5.6.1.info: 403 Forbidden\n\tserver response: This module version is not available.\n',
      'pulumi: the Go module proxy (https://proxy.golang.org) does not serve github.com/pulumi/pulumi-tls/provider/v5@v5.6.1 (403 Forbidden: This module version is not available.)',
    ],
    [
      'an unreachable proxy',
      'download',
      'go: downloading x v1\ngo: x@v1: Get "https://proxy.golang.org/x/@v/v1.zip": dial tcp: lookup proxy.golang.org: no such host\n',
      `pulumi: the Go module proxy cannot be reached while fetching the modules of ${module} (dial tcp: lookup proxy.golang.org: no such host); check GOPROXY and the network`,
    ],
    [
      'a checksum mismatch',
      'download',
      'verifying golang.org/x/text@v0.3.0: checksum mismatch\n\tdownloaded: h1:a\n',
      'pulumi: golang.org/x/text@v0.3.0 failed its checksum check (checksum mismatch)',
    ],
    [
      'a compile error',
      'build',
      '# example.com/p\n./main.go:12:3: undefined: shim.NewProvider\n',
      `pulumi: compiling ${module} failed:\n  # example.com/p\n  ./main.go:12:3: undefined: shim.NewProvider`,
    ],
  ] as const)('names the module and the cause for %s', (_, step, output, message) => {
    expect(goFailure(step, 'pulumi', module, output)).toBe(message);
  });
});

describe('the pulumi environment', () => {
  test('puts the toolchain first on PATH, its plugin home, and forbids plugin downloads and update checks', () => {
    expect(pulumiEnv('/c/t', '/usr/bin')).toEqual({
      PATH: '/c/t/bin:/usr/bin',
      PULUMI_HOME: '/c/t/home',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    });
    expect(exportLines('/c/t')).toEqual([
      'export PULUMI_HOME="/c/t/home"',
      'export PULUMI_SKIP_UPDATE_CHECK="true"',
      'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true"',
      'export PATH="/c/t/bin:$PATH"',
    ]);
  });
});

describe('the dynamic provider launcher', () => {
  test("has the name the CLI looks for, and finds and runs the SDK's dynamic provider from the project", async () => {
    expect(DYNAMIC_PROVIDER_LAUNCHER.name).toBe('pulumi-resource-pulumi-nodejs');
    const dir = await mkdtemp(path.join(tmpdir(), 'launcher-'));
    try {
      const launcher = path.join(dir, DYNAMIC_PROVIDER_LAUNCHER.name);
      await writeFile(launcher, DYNAMIC_PROVIDER_LAUNCHER.content);
      await chmod(launcher, 0o755);
      // Run from the repository (as the CLI runs plugins from the project): what answers is the
      // SDK's dynamic provider, refusing to run without the engine's address.
      const result = await promisify(execFile)(launcher, [], {
        cwd: path.resolve(__dirname, '../../..'),
      }).catch((error: { code: number; stderr: string }) => error);
      expect('stderr' in result ? result.stderr : '').toMatch(/Missing <engine> address/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('airgapCacheRoot', () => {
  test('is outside the checkout, shared by every clone: under XDG_CACHE_HOME or ~/.cache, or SENTIMENT_GATEWAY_CACHE', () => {
    expect(airgapCacheRoot({}, '/home/u')).toBe('/home/u/.cache/sentiment-gateway/airgap');
    expect(airgapCacheRoot({ XDG_CACHE_HOME: '/var/cache/u' }, '/home/u')).toBe(
      '/var/cache/u/sentiment-gateway/airgap',
    );
    expect(airgapCacheRoot({ XDG_CACHE_HOME: 'relative' }, '/home/u')).toBe(
      '/home/u/.cache/sentiment-gateway/airgap',
    );
    expect(airgapCacheRoot({ SENTIMENT_GATEWAY_CACHE: '/srv/sg', XDG_CACHE_HOME: '/x' }, '/home/u')).toBe(
      '/srv/sg',
    );
  });
});
