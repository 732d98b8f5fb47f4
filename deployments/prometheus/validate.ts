/**
 * Validators shared by the monitoring settings (Prometheus, Alertmanager, Grafana, gateway metrics).
 *
 * Each throws an `Error` naming the field and the rule, so a bad setting fails at resolve time with a
 * message a person can act on, long before a binary rejects the rendered file.
 */

// Prometheus' duration syntax (model.ParseDuration): units in decreasing order, no fractions.
const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// eslint-disable-next-line no-control-regex
const NO_CONTROL = /^[^\u0000-\u001f\u007f]+$/;
// eslint-disable-next-line no-control-regex
const ABSOLUTE_PATH = /^\/[^\u0000-\u001f\u007f]*$/;

/** Milliseconds in a Prometheus duration (`"1m30s"` -> 90000); throws naming `field` if invalid or zero. */
export function durationMs(value: unknown, field: string): number {
  const match = typeof value === 'string' && value !== '' ? DURATION.exec(value) : null;
  if (!match) {
    throw new Error(
      `${field} must be a Prometheus duration such as "30s" or "1m30s" (got ${JSON.stringify(value)})`,
    );
  }
  const ms = match.slice(1).reduce((sum, part, i) => sum + Number(part ?? 0) * (DURATION_MS[i] ?? 0), 0);
  if (ms <= 0) {
    throw new Error(`${field} must be a positive duration (got ${JSON.stringify(value)})`);
  }
  return ms;
}

/** Returns `value` if it is a valid, positive Prometheus duration. */
export function assertDuration(value: unknown, field: string): string {
  durationMs(value, field);
  return value as string;
}

/** Returns `value` if it is a number within [min, max] (inclusive unless `exclusiveMin`). */
export function assertNumber(
  value: unknown,
  field: string,
  range: { min: number; max: number; exclusiveMin?: boolean },
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (range.exclusiveMin ? value > range.min : value >= range.min) &&
    value <= range.max;
  if (!ok) {
    const low = range.exclusiveMin ? `greater than ${range.min}` : `at least ${range.min}`;
    throw new Error(
      `${field} must be a number ${low} and at most ${range.max} (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** Returns `value` if it is `host:port` (DNS name, IPv4 or bracketed IPv6; port 1-65535). */
export function assertHostPort(value: unknown, field: string): string {
  const text = typeof value === 'string' ? value : '';
  const colon = text.lastIndexOf(':');
  const host = text.slice(0, colon);
  const port = Number(text.slice(colon + 1));
  const ok =
    colon > 0 &&
    /^\d+$/.test(text.slice(colon + 1)) &&
    port >= 1 &&
    port <= 65_535 &&
    (HOST.test(host) || IPV6.test(host));
  if (!ok) {
    throw new Error(`${field} must be host:port with a port from 1 to 65535 (got ${JSON.stringify(value)})`);
  }
  return text;
}

/** Returns `value` if it is an absolute http(s) URL without credentials in it. */
export function assertHttpUrl(value: unknown, field: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new Error(`${field} must be an absolute http:// or https:// URL (got ${JSON.stringify(value)})`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${field} must not carry credentials; use a credentials file setting instead`);
  }
  return value as string;
}

/** Returns `value` if it matches `pattern`, else throws with `description` as the rule. */
export function assertMatches(value: unknown, field: string, pattern: RegExp, description: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) {
    throw new Error(`${field} must be ${description} (got ${JSON.stringify(value)})`);
  }
  return value;
}

/** Returns `value` if it is a Prometheus label name. */
export function assertLabelName(value: unknown, field: string): string {
  return assertMatches(value, field, LABEL_NAME, 'a label name ([A-Za-z_][A-Za-z0-9_]*)');
}

/** Returns `value` if it is a non-empty string without control characters. */
export function assertText(value: unknown, field: string): string {
  return assertMatches(value, field, NO_CONTROL, 'a non-empty string without control characters');
}

/** Returns `value` if it is an absolute file path without control characters. */
export function assertAbsolutePath(value: unknown, field: string): string {
  return assertMatches(value, field, ABSOLUTE_PATH, 'an absolute path');
}

/** Throws naming `field` if two entries share the same key. */
export function assertUnique<T>(items: readonly T[], key: (item: T) => string, field: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    if (seen.has(k)) {
      throw new Error(`${field} must be unique (${JSON.stringify(k)} appears twice)`);
    }
    seen.add(k);
  }
}

/** Throws naming `field` unless `value` is an array. */
export function assertArray<T>(value: readonly T[] | undefined, field: string): readonly T[] {
  if (!Array.isArray(value)) {
    throw new Error(`${field} must be a list (got ${JSON.stringify(value)})`);
  }
  return value;
}
