import * as pulumi from '@pulumi/pulumi';
import * as tls from '@pulumi/tls';

/** Arguments of {@link TlsMaterial}. */
export interface TlsMaterialArgs {
  /** DNS names on the server certificate; `localhost` is always included. */
  dnsNames?: readonly string[];
  /** IP addresses on the server certificate; `127.0.0.1` is always included. */
  ipAddresses?: readonly string[];
  /** Organisation in both subjects (default `sentiment-gateway`). */
  organization?: string;
  /** Server certificate lifetime in hours (default 8760, one year). */
  serverValidityHours?: number;
  /** CA certificate lifetime in hours (default 87600, ten years). */
  caValidityHours?: number;
}

/** ECDSA P-256: the provider's default curve (P224) cannot be used with TLS 1.3. */
const KEY = { algorithm: 'ECDSA', ecdsaCurve: 'P256' } as const;
/** Re-issue the server certificate on the first `pulumi up` in its last 30 days. */
const EARLY_RENEWAL_HOURS = 720;

/** Puts the defaults first and drops repeats, keeping the order stable (no spurious diffs). */
function withDefaults(defaults: readonly string[], extra: readonly string[] | undefined): string[] {
  return [...new Set([...defaults, ...(extra ?? [])])];
}

/**
 * A private CA and a server certificate signed by it, for the gateway's HTTPS listener.
 *
 * Clients trust the CA (`caCertPem`, exported by the stack) rather than a self-signed leaf, so the
 * server certificate can be renewed without anyone re-importing anything.
 */
export class TlsMaterial extends pulumi.ComponentResource {
  /** The CA certificate (PEM), for clients: `curl --cacert`. */
  readonly caCertPem: pulumi.Output<string>;
  /** The server certificate (PEM), for nginx `ssl_certificate`. */
  readonly certPem: pulumi.Output<string>;
  /** The server private key (PEM), a secret, for nginx `ssl_certificate_key`. */
  readonly keyPem: pulumi.Output<string>;

  constructor(name: string, args: TlsMaterialArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super('sentiment-gateway:tls:TlsMaterial', name, args, opts);
    const organization = args.organization ?? 'sentiment-gateway';
    const dnsNames = withDefaults(['localhost'], args.dnsNames);
    const ipAddresses = withDefaults(['127.0.0.1'], args.ipAddresses);

    const caKey = new tls.PrivateKey(`${name}-ca-key`, KEY, { parent: this });
    const caCert = new tls.SelfSignedCert(
      `${name}-ca-cert`,
      {
        privateKeyPem: caKey.privateKeyPem,
        isCaCertificate: true,
        // Only leaf certificates below this CA: a stolen CA key can't mint intermediates.
        maxPathLength: 0,
        subject: { commonName: `${organization} local CA`, organization },
        validityPeriodHours: args.caValidityHours ?? 87_600,
        allowedUses: ['cert_signing', 'crl_signing', 'digital_signature'],
      },
      { parent: this },
    );

    const serverKey = new tls.PrivateKey(`${name}-server-key`, KEY, { parent: this });
    const request = new tls.CertRequest(
      `${name}-server-csr`,
      {
        privateKeyPem: serverKey.privateKeyPem,
        subject: { commonName: dnsNames[0], organization },
        dnsNames,
        ipAddresses,
      },
      { parent: this },
    );
    const serverCert = new tls.LocallySignedCert(
      `${name}-server-cert`,
      {
        certRequestPem: request.certRequestPem,
        caPrivateKeyPem: caKey.privateKeyPem,
        caCertPem: caCert.certPem,
        validityPeriodHours: args.serverValidityHours ?? 8_760,
        earlyRenewalHours: EARLY_RENEWAL_HOURS,
        // ECDSA keys sign (digital_signature); key_encipherment is an RSA-only use.
        allowedUses: ['digital_signature', 'server_auth'],
      },
      { parent: this },
    );

    this.caCertPem = caCert.certPem;
    this.certPem = serverCert.certPem;
    // The provider marks it secret on a real engine; wrapping keeps it secret everywhere, mocks included.
    this.keyPem = pulumi.secret(serverKey.privateKeyPem);
    this.registerOutputs({ caCertPem: this.caCertPem, certPem: this.certPem, keyPem: this.keyPem });
  }
}
