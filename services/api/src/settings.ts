import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { API_VARIANTS, PORTS, type ApiVariant } from '../../../deployments/names';

/** pino's level names; `silent` turns logging off. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Resolved settings of one API replica. */
export interface ApiSettings {
  /** TCP port; 0 lets the OS pick one (tests). Env `PORT`, default 8000. */
  port: number;
  /** Bind address. Env `HOST`, default 0.0.0.0 (the local stack uses 127.0.0.1). */
  host: string;
  /** Env `API_VARIANT`, default v1. */
  variant: ApiVariant;
  /** Env `MODEL_PATH`, default the repository's `model/sentiment.onnx`. */
  modelPath: string;
  /** Echoed in every prediction. Env `REPLICA_ID`, default the host name. */
  replicaId: string;
  /** Env `LOG_LEVEL`, default info. */
  logLevel: LogLevel;
}

/**
 * The repository root seen from this file: `<root>/services/api/src` under tsx, and
 * `<root>/dist/services/api/src` once built (also the image layout, `/app/dist/...`).
 */
function repoRoot(): string {
  const up = resolve(__dirname, '..', '..', '..');
  return basename(up) === 'dist' ? dirname(up) : up;
}

/** The committed model, resolved relative to this source file so it works from tsx, dist/ and the image. */
export const DEFAULT_MODEL_PATH = resolve(repoRoot(), 'model', 'sentiment.onnx');

/** Defaults that do not depend on the machine (REPLICA_ID defaults to the host name at resolution). */
export const DEFAULT_API_SETTINGS: Readonly<Omit<ApiSettings, 'replicaId'>> = Object.freeze({
  port: PORTS.api,
  host: '0.0.0.0',
  variant: 'v1',
  modelPath: DEFAULT_MODEL_PATH,
  logLevel: 'info',
});

/** Thrown for invalid configuration; the message names the variable and the rule. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

const REPLICA_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
// Hostnames, IPv4 and IPv6 literals: enough to reject typos like "127.0.0.1:8000" or spaces.
const HOST = /^[A-Za-z0-9._:-]+$/;

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new SettingsError(`${name} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
}

function parsePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new SettingsError(`PORT must be an integer from 0 to 65535 (got ${JSON.stringify(value)})`);
  }
  return port;
}

function matching(name: string, value: string, rule: RegExp, ruleText: string): string {
  if (rule.test(value)) return value;
  throw new SettingsError(`${name} must be ${ruleText} (got ${JSON.stringify(value)})`);
}

/**
 * Resolves the replica's settings from environment variables into a new object.
 * Unset variables take the defaults; a variable that is set but empty or invalid throws a SettingsError.
 * @example resolveApiSettings({ API_VARIANT: 'v2', PORT: '8001' })
 */
export function resolveApiSettings(
  env: Readonly<Record<string, string | undefined>>,
  machineHostname: string = hostname(),
): ApiSettings {
  const { PORT, HOST: host, API_VARIANT, MODEL_PATH, REPLICA_ID: replica, LOG_LEVEL } = env;
  if (MODEL_PATH === '') throw new SettingsError('MODEL_PATH must be a non-empty path (got "")');
  return {
    port: PORT === undefined ? DEFAULT_API_SETTINGS.port : parsePort(PORT),
    host:
      host === undefined
        ? DEFAULT_API_SETTINGS.host
        : matching('HOST', host, HOST, 'a host name or IP address'),
    variant:
      API_VARIANT === undefined
        ? DEFAULT_API_SETTINGS.variant
        : oneOf('API_VARIANT', API_VARIANT, API_VARIANTS),
    modelPath: MODEL_PATH === undefined ? DEFAULT_API_SETTINGS.modelPath : resolve(MODEL_PATH),
    replicaId: matching(
      'REPLICA_ID',
      replica ?? machineHostname,
      REPLICA_ID,
      '1-63 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
    ),
    logLevel:
      LOG_LEVEL === undefined ? DEFAULT_API_SETTINGS.logLevel : oneOf('LOG_LEVEL', LOG_LEVEL, LOG_LEVELS),
  };
}
