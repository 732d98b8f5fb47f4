/**
 * Local TLS material: a CA and a server certificate it signs (ECDSA P-256), written as PEM files with
 * private keys at mode 0600, and the CA's CRL. Node can make keys but not sign X.509, hence
 * @peculiar/x509 on WebCrypto.
 *
 * Revocation is real: every start issues a new server certificate and revokes the one it replaces
 * (reason "superseded"), so a server key left over from an earlier run is no longer trusted by a
 * client that checks the CRL at the certificate's distribution point.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, randomBytes, webcrypto } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
// Under the 398-day ceiling browsers apply to server certificates.
const SERVER_VALIDITY_DAYS = 365;
// Renew a reused CA this long before it expires.
const CA_RENEW_MARGIN_DAYS = 30;
// The CRL is re-signed on every start; a stack left running longer than this needs a restart.
const CRL_VALIDITY_DAYS = 30;
const CRL_NUMBER_OID = '2.5.29.20';

/** File names inside the TLS directory. */
export const TLS_FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  cert: 'server.crt',
  key: 'server.key',
  crl: 'ca.crl',
} as const;

/** Paths of the PEM files, and the CA certificate text clients trust. */
export interface LocalTls {
  readonly caCertPath: string;
  readonly caKeyPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** DER CRL signed by the CA, listing the server certificates earlier starts issued. */
  readonly crlPath: string;
  /** Serial numbers (hex) the CRL lists as revoked. */
  readonly revokedSerials: readonly string[];
  readonly caCertPem: string;
}

export interface LocalTlsOptions {
  /** DNS names and IP addresses the server certificate covers. Default localhost, 127.0.0.1, ::1. */
  readonly hosts?: readonly string[];
  /** Keep an existing CA in `dir` (so a browser that trusts it keeps trusting it). Default true. */
  readonly reuseCa?: boolean;
  /** Common name of a new CA. */
  readonly caName?: string;
  /** URL the CRL is served at (plain HTTP), put in the server certificate's CRL distribution point. */
  readonly crlUrl?: string;
}

interface CaMaterial {
  readonly cert: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

const serialNumber = () => {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // positive INTEGER
  return bytes.toString('hex');
};

async function writePem(file: string, pem: string, mode: number): Promise<void> {
  await writeFile(file, pem, { mode });
  // writeFile's mode applies only to a new file.
  await chmod(file, mode);
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function createCa(caName: string): Promise<CaMaterial & { keyPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${caName}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_VALIDITY_DAYS * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, privateKey: keys.privateKey, keyPem: await exportPrivateKey(keys.privateKey) };
}

async function loadCa(dir: string): Promise<CaMaterial | undefined> {
  const certFile = path.join(dir, TLS_FILES.caCert);
  const keyFile = path.join(dir, TLS_FILES.caKey);
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    return undefined;
  }
  try {
    const cert = new x509.X509Certificate(await readFile(certFile, 'utf8'));
    if (cert.notAfter.getTime() - Date.now() < CA_RENEW_MARGIN_DAYS * DAY_MS) {
      return undefined;
    }
    const der = x509.PemConverter.decodeFirst(await readFile(keyFile, 'utf8'));
    const privateKey = (await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, [
      'sign',
    ])) as CryptoKey;
    return { cert, privateKey };
  } catch {
    return undefined;
  }
}

/** DER of a non-negative INTEGER (the CRL number extension's value). */
function derInteger(value: number): Uint8Array {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  const body = bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return Uint8Array.from([0x02, body.length, ...body]);
}

/** A certificate or CRL in `file`, if it exists, parses and was signed by `ca`; else undefined. */
async function readSignedBy<T extends x509.X509Certificate | x509.X509Crl>(
  file: string,
  parse: (raw: Buffer) => T,
  ca: CaMaterial,
): Promise<T | undefined> {
  if (!existsSync(file)) {
    return undefined;
  }
  try {
    const item = parse(await readFile(file));
    return (await item.verify({ publicKey: ca.cert.publicKey })) ? item : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CRL entries for this start: those of the previous CRL (when the CA is the same) whose
 * certificates could still be within their validity, plus the server certificate being replaced.
 */
async function revocations(dir: string, ca: CaMaterial): Promise<x509.X509CrlEntryParams[]> {
  const now = Date.now();
  const entries = new Map<string, x509.X509CrlEntryParams>();
  const previousCrl = await readSignedBy(path.join(dir, TLS_FILES.crl), (raw) => new x509.X509Crl(raw), ca);
  for (const entry of previousCrl?.entries ?? []) {
    // A certificate revoked before its whole validity elapsed could still be presented.
    if (now - entry.revocationDate.getTime() < SERVER_VALIDITY_DAYS * DAY_MS) {
      entries.set(entry.serialNumber, {
        serialNumber: entry.serialNumber,
        revocationDate: entry.revocationDate,
        reason: entry.reason ?? x509.X509CrlReason.superseded,
      });
    }
  }
  const previousServer = await readSignedBy(
    path.join(dir, TLS_FILES.cert),
    (raw) => new x509.X509Certificate(raw.toString('utf8')),
    ca,
  );
  if (previousServer !== undefined && previousServer.notAfter.getTime() > now) {
    entries.set(previousServer.serialNumber, {
      serialNumber: previousServer.serialNumber,
      revocationDate: new Date(now),
      reason: x509.X509CrlReason.superseded,
    });
  }
  return [...entries.values()];
}

async function issueCrl(ca: CaMaterial, entries: x509.X509CrlEntryParams[]): Promise<x509.X509Crl> {
  const now = Date.now();
  return x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate: new Date(now - 60_000),
    nextUpdate: new Date(now + CRL_VALIDITY_DAYS * DAY_MS),
    entries,
    signingKey: ca.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      // RFC 5280 requires a monotonically increasing CRL number: seconds since the epoch are.
      new x509.Extension(CRL_NUMBER_OID, false, derInteger(Math.floor(now / 1000))),
    ],
  });
}

async function issueServerCertificate(ca: CaMaterial, hosts: readonly string[], crlUrl: string | undefined) {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const names = hosts.map((host) =>
    isIP(host) === 0 ? { type: 'dns' as const, value: host } : { type: 'ip' as const, value: host },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${hosts[0] ?? 'localhost'}`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + SERVER_VALIDITY_DAYS * DAY_MS),
    signingKey: ca.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(crlUrl === undefined ? [] : [new x509.CRLDistributionPointsExtension([crlUrl])]),
    ],
  });
  return { cert, keyPem: await exportPrivateKey(keys.privateKey) };
}

/**
 * Creates (or reuses) a CA in `dir`, issues a fresh server certificate for `hosts`, and writes a CRL
 * that revokes the server certificate it replaces. Private keys are written with mode 0600; `dir`
 * must exist.
 */
export async function createLocalTls(dir: string, options: LocalTlsOptions = {}): Promise<LocalTls> {
  const hosts = options.hosts ?? ['localhost', '127.0.0.1', '::1'];
  const paths = {
    caCertPath: path.join(dir, TLS_FILES.caCert),
    caKeyPath: path.join(dir, TLS_FILES.caKey),
    certPath: path.join(dir, TLS_FILES.cert),
    keyPath: path.join(dir, TLS_FILES.key),
    crlPath: path.join(dir, TLS_FILES.crl),
  };
  let ca = (options.reuseCa ?? true) ? await loadCa(dir) : undefined;
  if (ca === undefined) {
    const created = await createCa(options.caName ?? 'sentiment-gateway local CA');
    await writePem(paths.caKeyPath, created.keyPem, 0o600);
    await writePem(paths.caCertPath, created.cert.toString('pem'), 0o644);
    ca = created;
  }
  const revoked = await revocations(dir, ca);
  const crl = await issueCrl(ca, revoked);
  await writeFile(paths.crlPath, Buffer.from(crl.rawData), { mode: 0o644 });
  await chmod(paths.crlPath, 0o644);
  const server = await issueServerCertificate(ca, hosts, options.crlUrl);
  await writePem(paths.keyPath, server.keyPem, 0o600);
  // nginx serves the chain: leaf first, then the CA.
  await writePem(paths.certPath, `${server.cert.toString('pem')}\n${ca.cert.toString('pem')}\n`, 0o644);
  const caCertPem = `${ca.cert.toString('pem')}\n`;
  // Cross-check with node's own X.509 parser: the leaf must verify against the CA we hand out.
  if (!new X509Certificate(server.cert.toString('pem')).verify(new X509Certificate(caCertPem).publicKey)) {
    throw new Error('issued server certificate does not verify against the local CA');
  }
  return { ...paths, revokedSerials: revoked.map((entry) => entry.serialNumber), caCertPem };
}
