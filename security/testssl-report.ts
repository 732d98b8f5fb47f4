/**
 * Reading testssl.sh's flat JSON (`--jsonfile`) into a verdict and a markdown summary. Pure: the
 * script `security/testssl.ts` runs testssl and writes what these functions return.
 */

/** testssl's severities, lowest first. */
export const SEVERITIES = [
  'DEBUG',
  'INFO',
  'OK',
  'LOW',
  'MEDIUM',
  'HIGH',
  'CRITICAL',
  'WARN',
  'FATAL',
] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One entry of testssl's flat JSON output. */
export interface TestsslFinding {
  readonly id: string;
  readonly severity: Severity;
  readonly finding: string;
  readonly ip?: string;
  readonly port?: string;
  readonly cve?: string;
  readonly cwe?: string;
}

/** A HIGH or CRITICAL finding reviewed and accepted, with the reason a reader can check. */
export interface AcceptedFinding {
  readonly id: string;
  /** The finding text it covers (substring), so a different finding under the same id is not covered. */
  readonly finding: string;
  readonly reason: string;
}

/** Ratings that fail the pass unless accepted; WARN and FATAL mean testssl could not finish a check. */
const BLOCKING: readonly Severity[] = ['HIGH', 'CRITICAL'];
const INCOMPLETE: readonly Severity[] = ['WARN', 'FATAL'];

export interface TestsslSummary {
  readonly counts: Readonly<Record<Severity, number>>;
  /** HIGH/CRITICAL findings not covered by an accepted entry: the pass fails if there is any. */
  readonly blocking: readonly TestsslFinding[];
  /** HIGH/CRITICAL findings covered by an accepted entry, with its reason. */
  readonly accepted: readonly (TestsslFinding & { readonly reason: string })[];
  /** LOW and MEDIUM findings: reported, not blocking. */
  readonly notable: readonly TestsslFinding[];
  /** WARN/FATAL: a check that did not complete (the pass fails: an unfinished scan proves nothing). */
  readonly incomplete: readonly TestsslFinding[];
  /** Protocol id -> finding (SSLv2 ... TLS1_3). */
  readonly protocols: Readonly<Record<string, string>>;
  /** Vulnerability checks (heartbleed, ROBOT, ...) -> finding. */
  readonly vulnerabilities: Readonly<Record<string, string>>;
  /** Server preferences and certificate checks (cipher order, chain, revocation, HSTS) -> finding. */
  readonly server: Readonly<Record<string, string>>;
  readonly passed: boolean;
}

const PROTOCOL_IDS = ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1', 'TLS1_2', 'TLS1_3'];
const SERVER_IDS = [
  'cipher_order',
  'cert_signatureAlgorithm',
  'cert_keySize',
  'cert_chain_of_trust',
  'cert_expirationStatus',
  'cert_crlDistributionPoints',
  'cert_ocspURL',
  'cert_revocation',
  'OCSP_stapling',
  'HSTS_time',
];
const VULNERABILITY_IDS = [
  'heartbleed',
  'CCS',
  'ticketbleed',
  'ROBOT',
  'secure_renego',
  'secure_client_renego',
  'CRIME_TLS',
  'BREACH',
  'POODLE_SSL',
  'fallback_SCSV',
  'SWEET32',
  'FREAK',
  'DROWN',
  'LOGJAM',
  'BEAST',
  'LUCKY13',
  'RC4',
];

/** Parses testssl's flat JSON array; throws naming the first malformed entry. */
export function parseTestsslJson(text: string): TestsslFinding[] {
  const data: unknown = JSON.parse(text);
  if (!Array.isArray(data)) {
    throw new Error('testssl JSON must be an array of findings (use --jsonfile, not --jsonfile-pretty)');
  }
  return data.map((entry: unknown, i) => {
    const e = entry as Partial<TestsslFinding>;
    if (typeof e?.id !== 'string' || typeof e.finding !== 'string' || !SEVERITIES.includes(e.severity!)) {
      throw new Error(
        `testssl finding [${i}] must have id, finding and a known severity (got ${JSON.stringify(entry)})`,
      );
    }
    return e as TestsslFinding;
  });
}

/** Counts, the verdict and the parts worth reading, from testssl findings and the accepted list. */
export function summarizeTestssl(
  findings: readonly TestsslFinding[],
  acceptedList: readonly AcceptedFinding[],
): TestsslSummary {
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of findings) counts[f.severity] += 1;
  const blocking: TestsslFinding[] = [];
  const accepted: (TestsslFinding & { reason: string })[] = [];
  for (const f of findings.filter((x) => BLOCKING.includes(x.severity))) {
    const match = acceptedList.find((a) => a.id === f.id && f.finding.includes(a.finding));
    if (match === undefined) blocking.push(f);
    else accepted.push({ ...f, reason: match.reason });
  }
  const pick = (ids: readonly string[]) =>
    Object.fromEntries(
      ids.flatMap((id) => {
        const f = findings.find((x) => x.id === id);
        return f === undefined ? [] : [[id, `${f.severity}: ${f.finding}`]];
      }),
    );
  const incomplete = findings.filter((f) => INCOMPLETE.includes(f.severity));
  return {
    counts,
    blocking,
    accepted,
    notable: findings.filter((f) => f.severity === 'LOW' || f.severity === 'MEDIUM'),
    incomplete,
    protocols: pick(PROTOCOL_IDS),
    vulnerabilities: pick(VULNERABILITY_IDS),
    server: pick(SERVER_IDS),
    passed: blocking.length === 0 && incomplete.length === 0 && findings.length > 0,
  };
}

/** Where and how the scan ran, printed at the top of the summary (no paths or secrets). */
export interface ScanContext {
  readonly date: string;
  readonly testssl: string;
  readonly nginx: string;
  readonly target: string;
  readonly checks: string;
  readonly seconds: number;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown summary committed as security/testssl-summary.md. */
export function renderTestsslMarkdown(summary: TestsslSummary, context: ScanContext): string {
  const severities = SEVERITIES.filter((s) => s !== 'DEBUG');
  const table = (rows: string[][], header: string[]) => [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
  const lines = [
    '# testssl.sh summary',
    '',
    '<!-- Written by `npm run security` (security/testssl.ts); do not edit by hand. -->',
    '',
    `- **Verdict: ${summary.passed ? 'PASS' : 'FAIL'}** — ${summary.blocking.length} unaccepted HIGH/CRITICAL, ${summary.accepted.length} accepted with a reason, ${summary.incomplete.length} incomplete checks`,
    `- Date: ${context.date}; scan took ${Math.round(context.seconds)} s`,
    `- Target: ${context.target}`,
    `- Tools: ${context.testssl}; ${context.nginx}`,
    `- Checks: ${context.checks}`,
    '',
    '## Findings by severity',
    '',
    ...table([severities.map((s) => String(summary.counts[s]))], [...severities]),
    '',
  ];
  if (summary.blocking.length > 0) {
    lines.push('## Unaccepted HIGH/CRITICAL findings', '');
    lines.push(
      ...table(
        summary.blocking.map((f) => [f.id, f.severity, f.finding]),
        ['id', 'severity', 'finding'],
      ),
      '',
    );
  }
  if (summary.accepted.length > 0) {
    lines.push('## Accepted HIGH findings (reviewed)', '');
    lines.push(
      ...table(
        summary.accepted.map((f) => [f.id, f.severity, f.finding, f.reason]),
        ['id', 'severity', 'finding', 'why it is accepted'],
      ),
      '',
    );
  }
  if (summary.notable.length + summary.incomplete.length > 0) {
    lines.push('## LOW, MEDIUM and incomplete checks', '');
    lines.push(
      ...table(
        [...summary.notable, ...summary.incomplete].map((f) => [f.id, f.severity, f.finding]),
        ['id', 'severity', 'finding'],
      ),
      '',
    );
  }
  lines.push('## Protocols', '');
  lines.push(...table(Object.entries(summary.protocols), ['protocol', 'result']), '');
  lines.push('## Server preferences and certificate', '');
  lines.push(...table(Object.entries(summary.server), ['check', 'result']), '');
  lines.push('## Vulnerability checks', '');
  lines.push(...table(Object.entries(summary.vulnerabilities), ['check', 'result']), '');
  return `${lines.join('\n')}`;
}
