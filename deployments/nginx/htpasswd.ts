import { createHash } from 'node:crypto';

/**
 * htpasswd entries for nginx `auth_basic_user_file`.
 *
 * `{SSHA}` (salted SHA-1, `base64(sha1(password + salt) + salt)`) is verified natively by nginx and
 * costs ~1/4 of a no-auth request, where bcrypt cost 10 caps a worker at ~17 req/s (FACTS.md): nginx
 * runs the hash on every request, with no cache. A fast hash is sound here because the password is
 * long and random, not a human one.
 *
 * Pure (no I/O, no randomness): the caller supplies the salt, so the Pulumi program can draw it from a
 * `@pulumi/random` resource and a second `pulumi up` renders the same bytes.
 */

/** Shortest salt accepted, in bytes. */
export const SSHA_MIN_SALT_BYTES = 8;
/** Shortest password accepted, in characters: the fast hash is only safe for long random passwords. */
export const MIN_PASSWORD_LENGTH = 16;

const USER_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Throws unless `user` is a plain htpasswd user name (no `:`, whitespace or control characters). */
export function assertHtpasswdUser(user: string): void {
  if (!USER_PATTERN.test(user)) {
    throw new Error(`user must match ${USER_PATTERN.source} (got ${JSON.stringify(user)})`);
  }
}

/** `{SSHA}` hash of `password` with `salt` (a string is taken as its UTF-8 bytes). */
export function sshaHash(password: string, salt: string | Uint8Array): string {
  const saltBytes = typeof salt === 'string' ? Buffer.from(salt, 'utf8') : Buffer.from(salt);
  if (saltBytes.length < SSHA_MIN_SALT_BYTES) {
    throw new Error(`salt must be at least ${SSHA_MIN_SALT_BYTES} bytes (got ${saltBytes.length})`);
  }
  const digest = createHash('sha1').update(Buffer.from(password, 'utf8')).update(saltBytes).digest();
  return `{SSHA}${Buffer.concat([digest, saltBytes]).toString('base64')}`;
}

/**
 * One htpasswd line `user:{SSHA}...` (no trailing newline) for nginx `auth_basic_user_file`.
 *
 * @example
 * // Pulumi: pulumi.all([password.result, salt.result]).apply(([p, s]) => htpasswdLine('api', p, s) + '\n')
 */
export function htpasswdLine(user: string, password: string, salt: string | Uint8Array): string {
  assertHtpasswdUser(user);
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`password must be at least ${MIN_PASSWORD_LENGTH} characters (got ${password.length})`);
  }
  if (/[\r\n]/.test(password)) {
    throw new Error('password must not contain a line break');
  }
  return `${user}:${sshaHash(password, salt)}`;
}
