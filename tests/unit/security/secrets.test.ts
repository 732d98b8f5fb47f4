/**
 * No private key, htpasswd entry or password literal in the repository (tracked files and untracked
 * ones git would add) or in the rendered configs, except reviewed test fixtures listed below.
 * The scanner itself is tested first on positive and negative samples, so the repository scan can fail.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderedFiles } from '../../../deployments/cli';
import { htpasswdLine } from '../../../deployments/nginx/htpasswd';
import {
  type AllowedFinding,
  type SecretFinding,
  scanText,
  unexpectedFindings,
} from '../../../security/secrets';

const ROOT = path.resolve(__dirname, '..', '..', '..');

// Samples are assembled at run time so this file holds no PEM header or password literal itself.
const pemHeader = (kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----`;
const PW = ['pass', 'word'].join('');

const rules = (file: string, text: string) => scanText(file, text).map((f) => f.rule);

describe('the scanner', () => {
  test.each(['', 'RSA ', 'EC ', 'OPENSSH ', 'ENCRYPTED '])('finds a PEM %sprivate key block', (kind) => {
    const text = `const key = \`${pemHeader(kind)}\nMIIB...\n-----END ${kind}PRIVATE KEY-----\`;`;
    expect(rules('src/a.ts', text)).toEqual(['private-key']);
  });

  test('does not flag certificates or public keys', () => {
    const text = ['CERTIFICATE', 'PUBLIC KEY', 'CERTIFICATE REQUEST']
      .map((kind) => `-----BEGIN ${kind}-----\nabc\n-----END ${kind}-----`)
      .join('\n');
    expect(scanText('ca.crt', text)).toEqual([]);
  });

  test.each([
    ['{SSHA} from the renderer', htpasswdLine('api', 'a'.repeat(32), Buffer.alloc(16, 7))],
    ['$apr1$', 'admin:$apr1$abcdefgh$0123456789abcdefghijkl'],
    ['bcrypt', 'user:$2y$10$abcdefghijklmnopqrstuuN0lY4a3w0bT1hM0c3p0x1y2z3a4b5c6'],
    ['{SHA}', 'ops:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='],
  ])('finds an htpasswd entry (%s)', (_, line) => {
    expect(rules('deploy/htpasswd', `${line}\n`)).toContain('htpasswd-entry');
  });

  test.each([
    ['a YAML key', 'grafana.yaml', `admin_${PW}: hunter2-hunter2`],
    ['an env line', '.env', `GF_SECURITY_ADMIN_${PW.toUpperCase()}=admin123`],
    ['an exported env line', 'run.sh.env', `export API_${'TOK'}EN=abcdef123456`],
    ['a JSON property', 'config.json', `{ "${PW}": "s3cr3t-value" }`],
    ['a quoted TypeScript property', 'src/a.ts', `const auth = { user: 'api', ${PW}: 'letmein-please' };`],
    ['a template literal', 'src/a.ts', `const clientSec${'ret'} = \`abcd1234\`;`],
    ['a list item in YAML', 'values.yml', `- basicAuth${PW}: admin`],
  ])('finds a password literal in %s', (_, file, text) => {
    expect(rules(file, text)).toEqual(['password-literal']);
  });

  test.each([
    ['a code expression', 'src/a.ts', `const auth = { user, ${PW}: options.${PW} ?? random() };`],
    ['a type annotation', 'src/a.ts', `  readonly ${PW}?: string;`],
    ['an environment reference', 'values.yaml', `${PW}: \${GRAFANA_PASSWORD}`],
    ['a placeholder', 'README.md', `pulumi config set --secret api${PW} '<at least 16 characters>'`],
    ['prose in a YAML comment', 'Pulumi.dev.yaml', `# API ${PW}: generated (long, random) unless set`],
    ['an empty value', 'values.yaml', `${PW}: ""`],
    ['a Pulumi secure value', 'Pulumi.dev.yaml', `sentiment-gateway:api${PW}:\n    secure: AAABAKx`],
    ['a file path', 'src/a.ts', `const ${PW}File = '/run/secrets/${PW}';`],
    ['a key mapped to its own name', 'src/a.ts', `api${PW}: 'api${PW}',`],
    ['a key that only contains a credential word', 'src/a.ts', "tokenPattern: '[a-z]+',"],
  ])('ignores %s', (_, file, text) => {
    expect(scanText(file, text)).toEqual([]);
  });

  test('reports the line number and shortens the match', () => {
    const findings = scanText('x.yaml', `a: 1\nb: 2\n${PW}: ${'x'.repeat(200)}\n`);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ line: 3, rule: 'password-literal' });
    expect(findings[0]!.match.length).toBeLessThanOrEqual(60);
  });

  test('an allow-list entry covers only its own file, rule and match', () => {
    const finding: SecretFinding = {
      file: 't.ts',
      line: 1,
      rule: 'password-literal',
      match: `${PW}: 'x-y-z'`,
    };
    const allow = (over: Partial<AllowedFinding>): AllowedFinding[] => [
      { file: 't.ts', rule: 'password-literal', match: 'x-y-z', reason: 'fixture', ...over },
    ];
    expect(unexpectedFindings([finding], allow({}))).toEqual([]);
    expect(unexpectedFindings([finding], allow({ file: 'u.ts' }))).toEqual([finding]);
    expect(unexpectedFindings([finding], allow({ rule: 'private-key' }))).toEqual([finding]);
    expect(unexpectedFindings([finding], allow({ match: 'other' }))).toEqual([finding]);
  });
});

/**
 * Deliberate fixtures: deliberately wrong, made-up or mock credentials in tests (and one in the smoke
 * check), reviewed one by one. A new entry needs the same kind of reason.
 */
const ALLOWED: readonly AllowedFinding[] = [
  {
    file: 'deployments/local/smoke-checks.ts',
    rule: 'password-literal',
    match: "'wrong-password'",
    reason: 'the smoke check sends a deliberately wrong password and expects 401',
  },
  {
    file: 'tests/fixtures/infra/mock-pem.ts',
    rule: 'private-key',
    match: 'PRIVATE KEY',
    reason: 'Pulumi mock returns a fake PEM (MOCKKEY + digest), not a key',
  },
  {
    file: 'tests/infra/components.test.ts',
    rule: 'password-literal',
    match: "'api:{SSHA}x\\n'",
    reason: 'a truncated, invalid htpasswd value passed to a mocked component',
  },
  ...[
    ['tests/infra/components.test.ts', "'grafana-password-0123456789'"],
    ['tests/infra/program.test.ts', "'webhook-bearer-token-0001'"],
    ['tests/infra/program.test.ts', "'user-chosen-password-with-length'"],
    ['tests/infra/settings.test.ts', "'a-user-supplied-password-123'"],
    ['tests/infra/settings.test.ts', "'too-short'"],
    ['tests/infra/settings.test.ts', "'long-enough-but:has-a-colon'"],
    ['tests/infra/settings.test.ts', "'token-value-123'"],
    ['tests/unit/nginx/htpasswd.test.ts', "'a-long-random-password-0123456789'"],
    ['tests/unit/nginx/htpasswd.test.ts', "'short'"],
  ].map(([file, match]) => ({
    file: file!,
    rule: 'password-literal' as const,
    match: match!,
    reason: 'made-up credential given to a settings validator or a mocked Pulumi program',
  })),
  ...[
    ['tests/integration/gateway/dev-cli.test.ts', "'not-the-password'"],
    ['tests/integration/gateway/rate-limit.test.ts', "'guess-guess-guess-guess'"],
  ].map(([file, match]) => ({
    file: file!,
    rule: 'password-literal' as const,
    match: match!,
    reason: 'deliberately wrong password sent to the gateway, which must answer 401',
  })),
];

function repositoryFiles(): string[] {
  // Tracked files plus untracked ones `git add .` would pick up (.gitignore honoured).
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return [...new Set(out.toString('utf8').split('\0').filter(Boolean))];
}

function readText(file: string): string | undefined {
  let buffer: Buffer;
  try {
    buffer = readFileSync(path.join(ROOT, file));
  } catch {
    return undefined; // listed by git but deleted in the working tree
  }
  return buffer.includes(0) ? undefined : buffer.toString('utf8'); // binary (the ONNX model)
}

const describeFindings = (findings: SecretFinding[]) =>
  findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.match}`).join('\n');

describe('the repository', () => {
  const files = repositoryFiles();

  test('is listed by git (the scan has something to scan)', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'deployments/names.ts']));
  });

  test('holds no private key, htpasswd entry or password literal outside the reviewed fixtures', () => {
    const findings = files.flatMap((file) => {
      const text = readText(file);
      return text === undefined ? [] : scanText(file, text);
    });
    expect(describeFindings(unexpectedFindings(findings, ALLOWED))).toBe('');
  });

  test('every allow-list entry still matches something (stale exceptions are removed)', () => {
    const findings = ALLOWED.flatMap((a) => {
      const text = readText(a.file);
      return text === undefined ? [] : scanText(a.file, text);
    });
    const stale = ALLOWED.filter(
      (a) => !findings.some((f) => f.file === a.file && f.rule === a.rule && f.match.includes(a.match)),
    );
    expect(stale.map((a) => `${a.file} ${a.match}`)).toEqual([]);
  });

  test.each(['.stack/dev.json', '.stack/htpasswd', '.stack/tls/server.key', '.stack/tls/ca.key'])(
    'ignores the local stack secret %s',
    (file) => {
      // `git check-ignore` exits 0 when the path is ignored, 1 when it is not.
      expect(() => execFileSync('git', ['check-ignore', '-q', file], { cwd: ROOT })).not.toThrow();
    },
  );
});

describe('the rendered configs', () => {
  test.each(renderedFiles().map((f) => [f.path, f.content]))('%s holds no secret', (file, content) => {
    expect(describeFindings(scanText(`rendered/${file}`, content))).toBe('');
  });
});
