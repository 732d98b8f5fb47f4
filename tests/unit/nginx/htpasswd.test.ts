import { createHash } from 'node:crypto';
import { htpasswdLine, sshaHash } from '../../../deployments/nginx/htpasswd';

const PASSWORD = 'a-long-random-password-0123456789';

describe('htpasswdLine', () => {
  test('is user:{SSHA}base64(sha1(password + salt) + salt)', () => {
    const salt = Buffer.from('0123456789abcdef', 'hex');
    const line = htpasswdLine('api', PASSWORD, salt);
    const [user, hash] = line.split(':');
    expect(user).toBe('api');
    expect(hash).toMatch(/^\{SSHA\}[A-Za-z0-9+/]+=*$/);
    const raw = Buffer.from(hash!.slice('{SSHA}'.length), 'base64');
    expect(raw.subarray(20)).toEqual(salt);
    const expected = createHash('sha1').update(PASSWORD).update(salt).digest();
    expect(raw.subarray(0, 20)).toEqual(expected);
  });

  test('is deterministic for the same salt (a second pulumi up renders the same bytes)', () => {
    expect(htpasswdLine('api', PASSWORD, 'salt-from-random')).toBe(
      htpasswdLine('api', PASSWORD, 'salt-from-random'),
    );
  });

  test('differs when only the salt differs', () => {
    expect(sshaHash(PASSWORD, 'salt-number-one')).not.toBe(sshaHash(PASSWORD, 'salt-number-two'));
  });

  test('takes a string salt as its UTF-8 bytes', () => {
    expect(sshaHash(PASSWORD, 'salt-été-12')).toBe(sshaHash(PASSWORD, Buffer.from('salt-été-12', 'utf8')));
  });

  test.each([
    {
      rule: 'user without colon',
      user: 'a:b',
      password: PASSWORD,
      salt: 'saltsalt',
      error: /user must match/,
    },
    { rule: 'user not empty', user: '', password: PASSWORD, salt: 'saltsalt', error: /user must match/ },
    {
      rule: 'user without newline',
      user: 'api\n',
      password: PASSWORD,
      salt: 'saltsalt',
      error: /user must match/,
    },
    {
      rule: 'password length',
      user: 'api',
      password: 'short',
      salt: 'saltsalt',
      error: /password must be at least 16/,
    },
    {
      rule: 'password without newline',
      user: 'api',
      password: `${PASSWORD}\nx`,
      salt: 'saltsalt',
      error: /password must not contain a line break/,
    },
    {
      rule: 'salt length',
      user: 'api',
      password: PASSWORD,
      salt: 'short',
      error: /salt must be at least 8 bytes \(got 5\)/,
    },
  ])('rejects input breaking the rule: $rule', ({ user, password, salt, error }) => {
    expect(() => htpasswdLine(user, password, salt)).toThrow(error);
  });
});
