/**
 * The air-gapped toolchain, as `npm run airgap:toolchain` built it: the CLI's version, the plugins
 * it has installed, the plugins' schemas against the npm SDKs that talk to them, and a preview of
 * the air-gapped stack (Pulumi.airgap.yaml) on a `file://` backend with the real engine and plugins.
 *
 * Not covered here: `pulumi up` (the end-to-end tier deploys the stack).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pulumiEnv, toolchainLayout } from '../../airgap/toolchain/env';
import { sdkVersions } from '../../airgap/toolchain/lockfile';
import { PLUGINS } from '../../airgap/toolchain/plan';
import { pulumiProject, REPO_ROOT, requireToolchain, type PulumiProject } from '../../airgap/pulumi-project';

const SDK = sdkVersions(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
/** Resources the published docker plugin implements in Go rather than through the bridge. */
const NATIVE_ONLY = new Set(['docker:index/image:Image']);

let toolchain: string;
beforeAll(async () => {
  toolchain = await requireToolchain();
});

const pulumi = (args: string[]) =>
  execFileSync('pulumi', args, {
    encoding: 'utf8',
    env: { ...process.env, ...pulumiEnv(toolchain, process.env.PATH) },
  }).trim();

test('pulumi reports exactly the version of @pulumi/pulumi in package-lock.json', () => {
  expect(pulumi(['version'])).toBe(`v${SDK.pulumi}`);
  expect(
    execFileSync('which', ['pulumi'], {
      env: pulumiEnv(toolchain, process.env.PATH),
      encoding: 'utf8',
    }).trim(),
  ).toBe(path.join(toolchainLayout(toolchain).bin, 'pulumi'));
});

test('pulumi plugin ls lists the docker, tls and random plugins at the SDK versions, and nothing else', () => {
  const plugins = JSON.parse(pulumi(['plugin', 'ls', '--json'])) as {
    name: string;
    kind: string;
    version: string;
  }[];
  expect(plugins.map((p) => `${p.kind} ${p.name} ${p.version}`).sort()).toEqual(
    PLUGINS.map((name) => `resource ${name} ${SDK[name]}`).sort(),
  );
});

/** Resource tokens and input property names the SDK's JavaScript sends, per resource class file. */
function sdkResources(pkg: string): Map<string, string[]> {
  const dir = path.join(REPO_ROOT, 'node_modules', '@pulumi', pkg);
  const resources = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const js = readFileSync(path.join(dir, file), 'utf8');
    const token = /__pulumiType = '([^']+:[^']+:[^']+)'/.exec(js)?.[1];
    if (token === undefined) continue;
    resources.set(
      token,
      [...js.matchAll(/resourceInputs\["(\w+)"\] = args \?/g)].map((m) => m[1]!),
    );
  }
  return resources;
}

/** Property names of every interface in the SDK's `types/input.d.ts` (none for an SDK without one), by name. */
function sdkInputTypes(pkg: string): Map<string, string[]> {
  const file = path.join(REPO_ROOT, 'node_modules', '@pulumi', pkg, 'types', 'input.d.ts');
  const types = new Map<string, string[]>();
  if (!existsSync(file)) return types;
  const dts = readFileSync(file, 'utf8');
  for (const [, name, body] of dts.matchAll(/export interface (\w+) \{([\s\S]*?)\n\}/g)) {
    types.set(
      name!,
      [...body!.matchAll(/^\s{4}(\w+)\??: /gm)].map((m) => m[1]!),
    );
  }
  return types;
}

interface Schema {
  version?: string;
  resources: Record<string, { inputProperties?: Record<string, unknown> }>;
  types?: Record<string, { properties?: Record<string, unknown> }>;
}

describe.each(PLUGINS)('the %s plugin', (name) => {
  const schema = () =>
    JSON.parse(
      readFileSync(
        path.join(toolchainLayout(toolchain).src, `pulumi-resource-${name}`, 'schema.json'),
        'utf8',
      ),
    ) as Schema;

  test('serves every resource of the npm SDK with every input property the SDK sends', () => {
    const missing: string[] = [];
    const sdk = sdkResources(name);
    expect(sdk.size).toBeGreaterThan(2);
    for (const [token, inputs] of sdk) {
      if (NATIVE_ONLY.has(token)) continue;
      const resource = schema().resources[token];
      if (resource === undefined) {
        missing.push(token);
        continue;
      }
      for (const input of inputs) {
        if (!(input in (resource.inputProperties ?? {}))) missing.push(`${token}.${input}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('names every nested input type property as the npm SDK does', () => {
    const sdkTypes = sdkInputTypes(name);
    const missing: string[] = [];
    let compared = 0;
    for (const [token, type] of Object.entries(schema().types ?? {})) {
      const sdkProperties = sdkTypes.get(token.split(':').at(-1)!);
      if (sdkProperties === undefined) continue;
      compared += 1;
      for (const property of sdkProperties) {
        if (!(property in (type.properties ?? {}))) missing.push(`${token}.${property}`);
      }
    }
    expect(missing).toEqual([]);
    if (name === 'docker') expect(compared).toBeGreaterThan(20);
  });
});

describe('a preview of the air-gapped stack', () => {
  let project: PulumiProject;
  beforeAll(async () => {
    project = await pulumiProject(toolchain, ['Pulumi.airgap.yaml']);
  });
  afterAll(async () => {
    await project?.remove();
  });

  test('completes on a file:// backend with the docker, tls and random plugins loaded', async () => {
    await project.pulumiOk(['stack', 'init', 'airgap']);
    const preview = await project.pulumi(['preview', '--json', '--stack', 'airgap']);
    expect(preview.stderr).toBe('');
    expect(preview.code).toBe(0);
    const steps = (JSON.parse(preview.stdout) as { steps: { op: string; urn: string }[] }).steps;
    const types = new Set(steps.map((s) => s.urn.split('::')[2]!.split('$').at(-1)!));
    for (const type of [
      'docker:index/container:Container',
      'docker:index/network:Network',
      'docker:index/remoteImage:RemoteImage',
      'tls:index/privateKey:PrivateKey',
      'random:index/randomPassword:RandomPassword',
    ]) {
      expect(types).toContain(type);
    }
    // Every step creates: nothing in the new stack exists yet, and Grafana is not among them.
    expect(new Set(steps.map((s) => s.op))).toEqual(new Set(['create']));
    expect(steps.filter((s) => /grafana/.test(s.urn))).toEqual([]);
  });
});
