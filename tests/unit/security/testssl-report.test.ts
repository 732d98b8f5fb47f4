/** The testssl summariser: verdict rules, accepted findings, and the markdown it writes. */
import { ACCEPTED } from '../../../security/testssl-accepted';
import {
  type AcceptedFinding,
  type TestsslFinding,
  parseTestsslJson,
  renderTestsslMarkdown,
  summarizeTestssl,
} from '../../../security/testssl-report';

const f = (id: string, severity: TestsslFinding['severity'], finding: string): TestsslFinding => ({
  id,
  severity,
  finding,
  ip: 'localhost/127.0.0.1',
  port: '8443',
});

// Shaped like a real run on the local stack (testssl 3.0.8, nginx 1.22.1).
const CLEAN: TestsslFinding[] = [
  f('SSLv2', 'OK', 'not offered'),
  f('SSLv3', 'OK', 'not offered'),
  f('TLS1', 'INFO', 'not offered'),
  f('TLS1_1', 'INFO', 'not offered'),
  f('TLS1_2', 'OK', 'offered'),
  f('TLS1_3', 'OK', 'offered with final'),
  f('heartbleed', 'OK', 'not vulnerable, no heartbeat extension'),
  f('ROBOT', 'OK', 'not vulnerable, no RSA key transport cipher'),
  f('DNS_CAArecord', 'LOW', '--'),
];
// A waiver list for the rules (the project's own list, ACCEPTED, is empty).
const WAIVERS: AcceptedFinding[] = [
  { id: 'cert_revocation', finding: 'Neither CRL nor OCSP URI provided', reason: 'private CA, test waiver' },
  { id: 'cipher_order', finding: 'NOT a cipher order configured', reason: 'Every offered suite is AEAD' },
];
const CONTEXT = {
  date: '2026-01-01T00:00:00Z',
  testssl: 'testssl 3.0.8',
  nginx: 'nginx/1.22.1',
  target: 'local stack',
  checks: 'full',
  seconds: 61,
};

test('no HIGH or CRITICAL finding: the pass passes, LOW is reported but not blocking', () => {
  const summary = summarizeTestssl(CLEAN, []);
  expect(summary.passed).toBe(true);
  expect(summary.blocking).toEqual([]);
  expect(summary.notable.map((x) => x.id)).toEqual(['DNS_CAArecord']);
  expect(summary.counts).toMatchObject({ OK: 6, INFO: 2, LOW: 1, HIGH: 0 });
  expect(summary.protocols).toEqual({
    SSLv2: 'OK: not offered',
    SSLv3: 'OK: not offered',
    TLS1: 'INFO: not offered',
    TLS1_1: 'INFO: not offered',
    TLS1_2: 'OK: offered',
    TLS1_3: 'OK: offered with final',
  });
  expect(summary.vulnerabilities).toEqual({
    heartbleed: 'OK: not vulnerable, no heartbeat extension',
    ROBOT: 'OK: not vulnerable, no RSA key transport cipher',
  });
});

test.each(['HIGH', 'CRITICAL'] as const)('an unaccepted %s finding fails the pass', (severity) => {
  const summary = summarizeTestssl([...CLEAN, f('TLS1', severity, 'offered')], WAIVERS);
  expect(summary.passed).toBe(false);
  expect(summary.blocking).toEqual([f('TLS1', severity, 'offered')]);
});

test('an accepted finding is covered only for its own text', () => {
  const accepted = f('cert_revocation', 'HIGH', 'Neither CRL nor OCSP URI provided');
  const other = f('cert_revocation', 'HIGH', 'revoked');
  const summary = summarizeTestssl([...CLEAN, accepted, other], WAIVERS);
  expect(summary.accepted.map((x) => x.finding)).toEqual([accepted.finding]);
  expect(summary.accepted[0]!.reason).toMatch(/private/);
  expect(summary.blocking).toEqual([other]);
  expect(summary.passed).toBe(false);
});

test.each(['WARN', 'FATAL'] as const)('a check that could not complete (%s) fails the pass', (severity) => {
  const summary = summarizeTestssl([...CLEAN, f('scanProblem', severity, 'timed out')], []);
  expect(summary.passed).toBe(false);
  expect(summary.incomplete.map((x) => x.id)).toEqual(['scanProblem']);
});

test('an empty scan proves nothing and fails', () => {
  expect(summarizeTestssl([], []).passed).toBe(false);
});

test('the project waives nothing: a HIGH finding on the gateway fails the pass', () => {
  expect(ACCEPTED).toEqual([]);
  const summary = summarizeTestssl(
    [...CLEAN, f('cipher_order', 'HIGH', 'NOT a cipher order configured')],
    ACCEPTED,
  );
  expect(summary.passed).toBe(false);
});

test('the JSON parser names a malformed entry', () => {
  expect(parseTestsslJson(JSON.stringify(CLEAN))).toEqual(CLEAN);
  expect(() => parseTestsslJson('{"scanResult": []}')).toThrow(/must be an array/);
  expect(() => parseTestsslJson('[{"id":"x","severity":"SEVERE","finding":"y"}]')).toThrow(/\[0\].*severity/);
});

test('the markdown states the verdict, the counts, accepted reasons and the protocol table', () => {
  const summary = summarizeTestssl(
    [
      ...CLEAN,
      f('cipher_order', 'HIGH', 'NOT a cipher order configured'),
      f('cert_crlDistributionPoints', 'INFO', 'http://localhost:8080/pki/ca.crl'),
    ],
    WAIVERS,
  );
  const markdown = renderTestsslMarkdown(summary, CONTEXT);
  expect(markdown).toContain('**Verdict: PASS** — 0 unaccepted HIGH/CRITICAL, 1 accepted with a reason');
  expect(markdown).toContain('| INFO | OK | LOW | MEDIUM | HIGH | CRITICAL | WARN | FATAL |');
  expect(markdown).toContain('| 3 | 6 | 1 | 0 | 1 | 0 | 0 | 0 |');
  expect(markdown).toMatch(/\| cipher_order \| HIGH \| NOT a cipher order configured \| Every offered suite/);
  expect(markdown).toContain('| TLS1_1 | INFO: not offered |');
  expect(markdown).not.toContain('Unaccepted HIGH/CRITICAL findings');
  expect(markdown).toContain('## Server preferences and certificate');
  expect(markdown).toContain('| cert_crlDistributionPoints | INFO: http://localhost:8080/pki/ca.crl |');
});
