/** The reviewed HIGH testssl findings (policy data, kept apart from the script that runs testssl). */
import type { AcceptedFinding } from './testssl-report';

/**
 * HIGH findings reviewed and accepted. Each names the finding text it covers; anything else rated
 * HIGH or CRITICAL fails the pass. Empty: the two once listed here were fixed instead ("no server
 * cipher order": ssl_prefer_server_ciphers on; "neither CRL nor OCSP URI": the local CA publishes a
 * CRL at the certificate's distribution point). An entry needs the finding text and a reason a
 * reviewer can check.
 */
export const ACCEPTED: readonly AcceptedFinding[] = [];
