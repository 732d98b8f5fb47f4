/** The reviewed HIGH testssl findings (policy data, kept apart from the script that runs testssl). */
import type { AcceptedFinding } from './testssl-report';

/**
 * HIGH findings reviewed and accepted. Each names the finding text it covers; anything else rated
 * HIGH or CRITICAL fails the pass.
 */
export const ACCEPTED: readonly AcceptedFinding[] = [
  {
    id: 'cipher_order',
    finding: 'NOT a cipher order configured',
    reason:
      'Every offered suite is ECDHE + AEAD (TLS 1.2: AES-GCM, ChaCha20-Poly1305; TLS 1.3 suites), so the client may pick ' +
      '(Mozilla "intermediate": ssl_prefer_server_ciphers off). testssl 3.0.8 (Debian) rates this HIGH unconditionally; ' +
      'testssl 3.2 rates it INFO when all offered ciphers have the same strength (testssl/testssl.sh#1311, PR #2235).',
  },
  {
    id: 'cert_revocation',
    finding: 'Neither CRL nor OCSP URI provided',
    reason:
      'The certificate comes from a private per-deployment CA (local CA, or @pulumi/tls in Docker) that clients pin with ' +
      '--cacert; no public CRL/OCSP responder exists for it, and revocation is CA rotation (pulumi up replaces the TLS ' +
      'resources). A public deployment would use a public CA (ACME) with OCSP.',
  },
];
