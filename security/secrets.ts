/**
 * A small secret scanner for the repository and the rendered configs: PEM private keys, htpasswd
 * entries and password-like settings with a literal value. Pure (text in, findings out); the tests
 * feed it `git ls-files` and `renderedFiles()`.
 */

/** What was found where. `match` is the offending text, shortened, so a report never repeats a whole secret. */
export interface SecretFinding {
  readonly file: string;
  readonly line: number;
  readonly rule: SecretRule;
  readonly match: string;
}

export type SecretRule = 'private-key' | 'htpasswd-entry' | 'password-literal';

const PRIVATE_KEY = /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/;

// `user:hash` with a hash scheme nginx or Apache accepts ({SHA}, {SSHA}, $apr1$, bcrypt, sha-crypt, md5-crypt).
const HTPASSWD =
  /^[\w.@-]{1,64}:(?:\{S?SHA\}[A-Za-z0-9+/=]{20,}|\$(?:apr1|2[abxy]|1|5|6)\$[./A-Za-z0-9$]{8,})\s*$/;

// A key that ends with a credential word (`password`, `GF_SECURITY_ADMIN_PASSWORD`, `client_secret`,
// `bearer_token`), then `:` or `=`, then a value. Covers YAML, JSON, env files and code.
const CREDENTIAL_KEY = String.raw`[\w.-]*(?:password|passwd|passphrase|secret|api[_-]?key|access[_-]?key|token)`;
const ASSIGNMENT = new RegExp(
  String.raw`(?<key>["']?${CREDENTIAL_KEY}["']?)\s*[:=]\s*(?<value>"[^"\n]*"|'[^'\n]*'|\x60[^\x60\n]*\x60|[^\s,;#}\])]+)`,
  'gi',
);

/** Files whose unquoted values are data (not code identifiers), so a bare value counts as a literal. */
const DATA_FILE = /(?:\.ya?ml|\.env(?:\..*)?|\.ini|\.conf|\.properties|\.toml|\.cfg|(?:^|\/)[^./]+)$/i;

// Values that are references or placeholders, not secrets.
const PLACEHOLDER = [
  /^$/,
  /^\$\{.*\}$/, // ${ENV} or a template literal
  /^\$\w+$/, // $VAR
  /^<[^>]*>$/, // <password>
  /^\*+$/, // ***
  /^\.\.\.$/,
  /^\[?redacted\]?$/i,
  /^(?:null|undefined|true|false|none|string|number|boolean|secret)$/i,
];

const MIN_LITERAL_LENGTH = 4;

function unquote(raw: string): { value: string; quoted: boolean } {
  const first = raw[0];
  if ((first === '"' || first === "'" || first === '`') && raw.endsWith(first) && raw.length >= 2) {
    return { value: raw.slice(1, -1), quoted: true };
  }
  return { value: raw, quoted: false };
}

function shorten(text: string): string {
  const trimmed = text.trim();
  return trimmed.length > 60 ? `${trimmed.slice(0, 57)}...` : trimmed;
}

/** A password-like key with a literal value on this line, if any. */
function credentialLiteral(line: string, dataFile: boolean): string | undefined {
  for (const match of line.matchAll(ASSIGNMENT)) {
    const { key, value: raw } = match.groups as { key: string; value: string };
    const atLineStart = /^\s*(?:-\s+|export\s+)?$/.test(line.slice(0, match.index));
    const { value, quoted } = unquote(raw);
    // In code an unquoted value is an expression (`password: options.password`), never a literal; in
    // data files it is one only where a key can start (line start), not in prose like `# password: generated`.
    if (!quoted && (!dataFile || !atLineStart)) continue;
    // A TypeScript type annotation or a key with a function call: `password?: string`, `token: randomBytes(...)`.
    if (!quoted && /[().]/.test(value)) continue;
    if (value.length < MIN_LITERAL_LENGTH || PLACEHOLDER.some((p) => p.test(value))) continue;
    // Paths, URLs, template references, prose or commands (whitespace), and name tables that map a
    // key to its own name (`apiPassword: 'apiPassword'`, Pulumi type tokens) are not secrets.
    if (/^(?:\/|\.\/|https?:\/\/)|\$\{|\s/.test(value)) continue;
    if (value.toLowerCase() === key.replace(/["']/g, '').toLowerCase()) continue;
    if (/^[\w-]+:[\w-]+\/\w+:\w+$/.test(value)) continue;
    return shorten(`${key}: ${raw}`);
  }
  return undefined;
}

/**
 * Scans one text file. `file` (repository-relative) decides whether unquoted values count as literals
 * (YAML, env and config files) or as code.
 */
export function scanText(file: string, text: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  const dataFile = DATA_FILE.test(file);
  text.split('\n').forEach((line, index) => {
    const at = { file, line: index + 1 };
    if (PRIVATE_KEY.test(line)) {
      findings.push({ ...at, rule: 'private-key', match: shorten(PRIVATE_KEY.exec(line)![0]) });
    }
    if (HTPASSWD.test(line)) {
      findings.push({ ...at, rule: 'htpasswd-entry', match: shorten(line.slice(0, line.indexOf(':') + 8)) });
    }
    const literal = credentialLiteral(line, dataFile);
    if (literal !== undefined) {
      findings.push({ ...at, rule: 'password-literal', match: literal });
    }
  });
  return findings;
}

/** A deliberate, reviewed exception: a test fixture whose credential-looking text is not a secret. */
export interface AllowedFinding {
  readonly file: string;
  readonly rule: SecretRule;
  /** Substring of the finding's `match`, so a new secret added to the same file is still reported. */
  readonly match: string;
  readonly reason: string;
}

/** Findings not covered by an allow-list entry. */
export function unexpectedFindings(
  findings: readonly SecretFinding[],
  allowed: readonly AllowedFinding[],
): SecretFinding[] {
  return findings.filter(
    (f) => !allowed.some((a) => a.file === f.file && a.rule === f.rule && f.match.includes(a.match)),
  );
}
