/**
 * Runs Pulumi code under `pulumi.runtime.setMocks` and records every resource registered.
 *
 * Each run loads a fresh copy of `@pulumi/pulumi` and the program (jest.isolateModulesAsync) and
 * clears the SDK's global store, so several runs with different config can share one test file.
 */
import { createHash } from 'node:crypto';
import { mockPrivateKeyPem } from '../fixtures/infra/mock-pem';
import type * as PulumiModule from '@pulumi/pulumi';

export const PROJECT = 'sentiment-gateway';

/** One resource as the engine would see it: type token, logical name, inputs (secrets still wrapped). */
export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

/** The wire marker the SDK uses for a secret value (`{ [SIG_KEY]: SECRET_SIG, value }`). */
const SIG_KEY = '4dabf18193072939515e22adb298388d';
const SECRET_SIG = '1b47061264138c4ac30d75fd1eb44270';

/** True when `value` is a secret-wrapped input as recorded by the mock monitor. */
export function isSecretInput(value: unknown): value is { value: unknown } {
  return (
    typeof value === 'object' && value !== null && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG
  );
}

/** Deep copy of recorded inputs with every secret wrapper replaced by its value. */
export function unwrap(value: unknown): unknown {
  if (isSecretInput(value)) return unwrap(value.value);
  if (Array.isArray(value)) return value.map(unwrap);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrap(v)]));
  }
  return value;
}

/** Every string reachable from `value` without passing through a secret wrapper (i.e. stored in plain text). */
export function plainStrings(value: unknown): string[] {
  if (isSecretInput(value)) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(plainStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(plainStrings);
  return [];
}

const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** Deterministic stand-ins for provider-computed outputs, derived from the resource name. */
export function mockOutputs(type: string, name: string): Record<string, unknown> {
  switch (type) {
    case 'random:index/randomPassword:RandomPassword':
      return { result: `Mock${digest(name).slice(0, 36)}` };
    case 'random:index/randomBytes:RandomBytes': {
      const bytes = Buffer.from(digest(`salt:${name}`), 'hex').subarray(0, 16);
      return { base64: bytes.toString('base64'), hex: bytes.toString('hex') };
    }
    case 'tls:index/privateKey:PrivateKey':
      return {
        privateKeyPem: mockPrivateKeyPem(digest(name)),
        publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${digest(`pub:${name}`)}\n-----END PUBLIC KEY-----\n`,
      };
    case 'tls:index/certRequest:CertRequest':
      return {
        certRequestPem: `-----BEGIN CERTIFICATE REQUEST-----\n${digest(name)}\n-----END CERTIFICATE REQUEST-----\n`,
      };
    case 'tls:index/selfSignedCert:SelfSignedCert':
    case 'tls:index/locallySignedCert:LocallySignedCert':
      return { certPem: `-----BEGIN CERTIFICATE-----\nMOCKCERT${digest(name)}\n-----END CERTIFICATE-----\n` };
    case 'docker:index/image:Image':
      return { repoDigest: `sha256:${digest(`image:${name}`)}` };
    case 'docker:index/remoteImage:RemoteImage':
      return {
        imageId: `sha256:${digest(`remote:${name}`)}`,
        repoDigest: `sha256:${digest(`remote:${name}`)}`,
      };
    default:
      return {};
  }
}

export interface RunOptions {
  /** Config values without the project prefix, as strings (objects as JSON). */
  config?: Record<string, string>;
  /** Config keys (without prefix) stored as secrets. */
  secretKeys?: string[];
  stack?: string;
}

/** Runs `program` (given a fresh `@pulumi/pulumi`) under mocks; resolves after every registration. */
export async function runMocked<T>(
  program: (pulumi: typeof PulumiModule) => T | Promise<T>,
  options: RunOptions = {},
): Promise<{ resources: Recorded[]; result: T }> {
  const resources: Recorded[] = [];
  let result!: T;
  // Every fresh SDK copy adds process exit listeners; a test file makes a handful of runs.
  process.setMaxListeners(Math.max(process.getMaxListeners(), 64));
  // The SDK keeps its state on a global; drop it so this run starts clean.
  delete (globalThis as Record<string, unknown>).globalStore;
  delete (globalThis as Record<string, unknown>).stackResource;
  await jest.isolateModulesAsync(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pulumi = require('@pulumi/pulumi') as typeof PulumiModule;
    const prefixed = (key: string) => `${PROJECT}:${key}`;
    pulumi.runtime.setAllConfig(
      Object.fromEntries(Object.entries(options.config ?? {}).map(([k, v]) => [prefixed(k), v])),
      (options.secretKeys ?? []).map(prefixed),
    );
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          resources.push({
            type: args.type,
            name: args.name,
            inputs: args.inputs as Record<string, unknown>,
          });
          return {
            id: `${args.name}-id`,
            state: { ...(unwrap(args.inputs) as object), ...mockOutputs(args.type, args.name) },
          };
        },
        call: (args) => args.inputs,
      },
      PROJECT,
      options.stack ?? 'dev',
      false,
    );
    result = await program(pulumi);
    // Waits for every outstanding registration (including those behind apply chains).
    await pulumi.runtime.disconnect();
  });
  return { resources, result };
}

/** The resolved value of an Output (mocks make every value known). */
export function valueOf<T>(output: PulumiModule.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

/** The first recorded resource of `type` named `name`; throws if there is none. */
export function find(resources: Recorded[], type: string, name: string): Recorded {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}; have ${resources.map((r) => r.name).join(', ')}`);
  return found;
}

/** Type tokens used by the program, for readable assertions. */
export const TYPES = {
  container: 'docker:index/container:Container',
  network: 'docker:index/network:Network',
  volume: 'docker:index/volume:Volume',
  image: 'docker:index/image:Image',
  remoteImage: 'docker:index/remoteImage:RemoteImage',
  privateKey: 'tls:index/privateKey:PrivateKey',
  selfSignedCert: 'tls:index/selfSignedCert:SelfSignedCert',
  certRequest: 'tls:index/certRequest:CertRequest',
  locallySignedCert: 'tls:index/locallySignedCert:LocallySignedCert',
  randomPassword: 'random:index/randomPassword:RandomPassword',
  randomBytes: 'random:index/randomBytes:RandomBytes',
  gatewayConfig: 'pulumi-nodejs:dynamic/sentiment-gateway:GatewayConfig',
} as const;
