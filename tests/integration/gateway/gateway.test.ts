/**
 * The gateway's behaviour on a real nginx in front of real API processes (3 x v1, 1 x v2) on
 * 127.0.0.1. The rate limit is raised here so these tests never meet it; rate-limit.test.ts
 * covers 429s with a low limit.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls, { type PeerCertificate, type SecureVersion } from 'node:tls';
import { httpRequest } from '../../../deployments/local/http-client';
import type { LocalStack } from '../../../deployments/local/stack';
import { API_ROUTES, EXPERIMENT_HEADER, GATEWAY_PATHS } from '../../../deployments/names';
import {
  type Prediction,
  accessLogEntry,
  httpsBase,
  keepAliveAgent,
  predict,
  runPool,
  startTestStack,
  tally,
} from './helpers';

// The project-level testTimeout is not applied by jest 30; real processes need more than 5 s.
jest.setTimeout(60_000);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startTestStack({ nginx: { rateLimitPerSecond: 10_000, rateLimitBurst: 10_000 } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

interface TlsOutcome {
  authorized: boolean;
  authorizationError?: string;
  protocol?: string | null;
  cipher?: string;
  peer?: PeerCertificate & { issuerCertificate?: PeerCertificate };
  error?: string;
}

/** One TLS handshake with the gateway, reporting what was negotiated or why it failed. */
function handshake(options: {
  ca?: string;
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
  /** PEM CRL: the client then checks the chain for revocation (OpenSSL CRL_CHECK). */
  crl?: string;
}): Promise<TlsOutcome> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: stack.host,
      port: stack.ports.https,
      servername: 'localhost',
      rejectUnauthorized: false,
      ...options,
    });
    socket.once('secureConnect', () => {
      resolve({
        authorized: socket.authorized,
        authorizationError: socket.authorizationError?.toString(),
        protocol: socket.getProtocol(),
        cipher: socket.getCipher().name,
        peer: socket.getPeerCertificate(true),
      });
      socket.end();
    });
    socket.once('error', (error) => resolve({ authorized: false, error: error.message }));
  });
}

describe('TLS', () => {
  test('the certificate chain verifies against the local CA and covers localhost and 127.0.0.1', async () => {
    const outcome = await handshake({ ca: stack.tls.caCertPem });
    expect(outcome.error).toBeUndefined();
    expect(outcome.authorized).toBe(true);
    const leaf = outcome.peer!;
    expect(leaf.subjectaltname).toContain('DNS:localhost');
    expect(leaf.subjectaltname).toContain('IP Address:127.0.0.1');
    expect(leaf.asn1Curve).toBe('prime256v1');
    const caFingerprint = new X509Certificate(stack.tls.caCertPem).fingerprint256;
    expect(leaf.issuerCertificate?.fingerprint256).toBe(caFingerprint);
  });

  test('the certificate names its CRL, the HTTP listener serves it, and a revocation-checking client accepts it', async () => {
    const outcome = await handshake({ ca: stack.tls.caCertPem });
    const leaf = new x509.X509Certificate(outcome.peer!.raw);
    const points = leaf.getExtension(x509.CRLDistributionPointsExtension)!;
    const urls = points.distributionPoints.flatMap((p) =>
      (p.distributionPoint?.fullName ?? []).map((name) => name.uniformResourceIdentifier),
    );
    expect(urls).toEqual([`${stack.urls.http}${GATEWAY_PATHS.crl}`]);

    // Plain HTTP (no redirect): a client checking revocation must not need TLS to this server first.
    const response = await fetch(`http://${stack.host}:${stack.ports.http}${GATEWAY_PATHS.crl}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pkix-crl');
    const served = Buffer.from(await response.arrayBuffer());
    expect(served.equals(await readFile(stack.tls.crlPath))).toBe(true);
    const crl = new x509.X509Crl(served);
    expect(await crl.verify({ publicKey: new x509.X509Certificate(stack.tls.caCertPem).publicKey })).toBe(
      true,
    );
    expect(crl.nextUpdate!.getTime()).toBeGreaterThan(Date.now());

    const checked = await handshake({
      ca: stack.tls.caCertPem,
      crl: x509.PemConverter.encode(served, 'X509 CRL'),
    });
    expect(checked.error).toBeUndefined();
    expect(checked.authorized).toBe(true);
  });

  test('the certificate is not trusted without the CA', async () => {
    const outcome = await handshake({});
    expect(outcome.authorized).toBe(false);
    expect(outcome.authorizationError).toBe('SELF_SIGNED_CERT_IN_CHAIN');
  });

  test.each<SecureVersion>(['TLSv1', 'TLSv1.1'])('%s is refused by the server', async (version) => {
    const outcome = await handshake({
      ca: stack.tls.caCertPem,
      minVersion: version,
      maxVersion: version,
      // Let the client offer the old protocol at all; the refusal must come from the server (alert 70).
      ciphers: 'DEFAULT:@SECLEVEL=0',
    });
    expect(outcome.error).toMatch(/alert protocol version/i);
  });

  test('TLS 1.2 negotiates an AEAD cipher and TLS 1.3 works', async () => {
    const v12 = await handshake({ ca: stack.tls.caCertPem, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(v12.protocol).toBe('TLSv1.2');
    expect(v12.cipher).toMatch(/GCM|CHACHA20-POLY1305/);
    const v13 = await handshake({ ca: stack.tls.caCertPem, minVersion: 'TLSv1.3' });
    expect(v13.protocol).toBe('TLSv1.3');
  });

  test("the server's cipher order wins over the client's", async () => {
    // The client lists ChaCha20 first; the server prefers AES-GCM, so AES-GCM it is (TLS 1.2 and 1.3).
    const v12 = await handshake({
      ca: stack.tls.caCertPem,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    expect(v12.cipher).toBe('ECDHE-ECDSA-AES128-GCM-SHA256');
    const v13 = await handshake({
      ca: stack.tls.caCertPem,
      minVersion: 'TLSv1.3',
      ciphers: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384',
    });
    expect(v13.cipher).toBe('TLS_AES_256_GCM_SHA384');
  });

  test('TLS 1.2 with only CBC ciphers offered is refused', async () => {
    const outcome = await handshake({
      ca: stack.tls.caCertPem,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA',
    });
    expect(outcome.error).toMatch(/handshake failure|no shared cipher/i);
  });
});

describe('HTTP -> HTTPS', () => {
  test.each(['GET', 'POST'])(
    '%s on the HTTP port is redirected to the same path on the HTTPS port',
    async (method) => {
      const response = await httpRequest({
        url: `http://${stack.host}:${stack.ports.http}${API_ROUTES.predict}?a=1&b=2`,
        method,
        body: method === 'POST' ? { sentence: 'hi' } : undefined,
      });
      expect(response.status).toBe(308);
      expect(response.headers.location).toBe(
        `https://${stack.host}:${stack.ports.https}${API_ROUTES.predict}?a=1&b=2`,
      );
    },
  );
});

describe('basic auth on /predict', () => {
  test('401 JSON with WWW-Authenticate without credentials', async () => {
    const response = await predict(stack, 'I love this!', { auth: undefined });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toBe('Basic realm="sentiment-gateway"');
    expect(response.json()).toMatchObject({ error: { code: 'unauthorized', field: null } });
  });

  test.each([
    ['a wrong password', () => ({ user: stack.auth.user, password: `${stack.auth.password}x` })],
    ['a wrong user', () => ({ user: 'admin', password: stack.auth.password })],
  ])('401 JSON with %s', async (_, auth) => {
    const response = await predict(stack, 'I love this!', { auth: auth() });
    expect(response.status).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  test('200 with the right credentials, answered by a v1 replica', async () => {
    const response = await predict(stack, 'I love this!');
    expect(response.status).toBe(200);
    const body = response.json<Prediction>();
    expect(body.version).toBe('v1');
    expect(typeof body.prediction).toBe('string');
    expect(stack.replicas.filter((r) => r.variant === 'v1').map((r) => r.id)).toContain(body.replica);
  });

  test('/docs and /openapi.json need the credentials too', async () => {
    for (const route of [API_ROUTES.docs, API_ROUTES.openapi]) {
      const url = `${httpsBase(stack)}${route}`;
      expect((await httpRequest({ url, ca: stack.tls.caCertPem })).status).toBe(401);
      expect((await httpRequest({ url, ca: stack.tls.caCertPem, auth: stack.auth })).status).toBe(200);
    }
  });

  test('GET /health on the gateway answers without credentials', async () => {
    const response = await httpRequest({
      url: `${httpsBase(stack)}${GATEWAY_PATHS.health}`,
      ca: stack.tls.caCertPem,
    });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });
});

describe('load balancing and A/B routing', () => {
  test('300 requests spread over the 3 v1 replicas within ±20% of even', async () => {
    const agent = keepAliveAgent(stack, 6);
    try {
      const replicas = await runPool(300, 6, async (i) => {
        const response = await predict(stack, `sentence number ${i}`, { agent });
        expect(response.status).toBe(200);
        return response.json<Prediction>().replica;
      });
      const counts = tally(replicas);
      const v1Ids = stack.replicas.filter((r) => r.variant === 'v1').map((r) => r.id);
      expect(Object.keys(counts).sort()).toEqual([...v1Ids].sort());
      for (const id of v1Ids) {
        expect(counts[id]).toBeGreaterThanOrEqual(80);
        expect(counts[id]).toBeLessThanOrEqual(120);
      }
    } finally {
      agent.destroy();
    }
  });

  test(`${EXPERIMENT_HEADER}: debug reaches v2 every time`, async () => {
    const versions = await runPool(30, 3, async () => {
      const response = await predict(stack, 'so tired of waiting', {
        headers: { [EXPERIMENT_HEADER]: 'debug' },
      });
      expect(response.status).toBe(200);
      return response.json<Prediction>();
    });
    expect(new Set(versions.map((v) => v.version))).toEqual(new Set(['v2']));
    expect(new Set(versions.map((v) => v.replica))).toEqual(new Set(['api-v2']));
  });

  test.each<[string, Record<string, string>]>([
    ['no header', {}],
    ['"Debug"', { [EXPERIMENT_HEADER]: 'Debug' }],
    ['"debug2"', { [EXPERIMENT_HEADER]: 'debug2' }],
    ['""', { [EXPERIMENT_HEADER]: '' }],
    ['"xdebug"', { [EXPERIMENT_HEADER]: 'xdebug' }],
  ])('%s reaches v1 every time', async (_, headers) => {
    const versions = await runPool(20, 2, async () => {
      const response = await predict(stack, 'so tired of waiting', { headers });
      expect(response.status).toBe(200);
      return response.json<Prediction>().version;
    });
    expect(tally(versions)).toEqual({ v1: 20 });
  });
});

describe('stub_status', () => {
  test('is served on the internal listener to an allowed address', async () => {
    const response = await httpRequest({ url: stack.urls.status });
    expect(response.status).toBe(200);
    expect(response.body).toMatch(/^Active connections: \d+/);
  });

  test('is refused on the internal listener to an address outside the allow-list', async () => {
    const response = await httpRequest({ url: stack.urls.status, localAddress: '127.0.0.2' });
    expect(response.status).toBe(403);
    expect(response.body).not.toMatch(/Active connections/);
  });

  test('is unreachable on the public HTTPS and HTTP ports', async () => {
    const https = await httpRequest({
      url: `${httpsBase(stack)}${GATEWAY_PATHS.stubStatus}`,
      ca: stack.tls.caCertPem,
      auth: stack.auth,
    });
    expect(https.status).toBe(404);
    expect(https.body).not.toMatch(/Active connections/);
    const http = await httpRequest({
      url: `http://${stack.host}:${stack.ports.http}${GATEWAY_PATHS.stubStatus}`,
    });
    expect(http.status).toBe(308);
    expect(http.body).not.toMatch(/Active connections/);
  });
});

describe("nginx's own errors are JSON", () => {
  test('an oversized body gets 413 JSON and never reaches a replica', async () => {
    const id = `it-413-${Date.now()}`;
    const response = await predict(stack, 'x'.repeat(70 * 1024), { headers: { 'x-request-id': id } });
    expect(response.status).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toMatchObject({ error: { code: 'payload_too_large', requestId: id } });
    expect(await accessLogEntry(stack, id)).toMatchObject({ status: 413, upstream_addr: '' });
  });

  test('an unknown route gets 404 JSON', async () => {
    const response = await httpRequest({ url: `${httpsBase(stack)}/admin`, ca: stack.tls.caCertPem });
    expect(response.status).toBe(404);
    expect(response.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  test('GET /predict gets 405 JSON with Allow: POST', async () => {
    const response = await httpRequest({
      url: `${httpsBase(stack)}${API_ROUTES.predict}`,
      ca: stack.tls.caCertPem,
      auth: stack.auth,
    });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect(response.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });

  test('bad input reaches the API and comes back as its 4xx JSON error naming the field', async () => {
    const response = await predict(stack, 42);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.json()).toMatchObject({ error: { field: 'sentence' } });
  });
});

describe('headers', () => {
  test('security headers on proxied and nginx-made responses; no version in Server', async () => {
    for (const response of [
      await predict(stack, 'I love this!'),
      await predict(stack, 'I love this!', { auth: undefined }),
    ]) {
      expect(response.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('DENY');
      expect(response.headers.server).toBe('nginx');
    }
  });

  test('a well-formed X-Request-ID is passed to the replica and back', async () => {
    const response = await predict(stack, 'I love this!', { headers: { 'x-request-id': 'it-req-0001' } });
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toBe('it-req-0001');
  });

  test('a missing or malformed X-Request-ID is replaced by a generated one', async () => {
    const cases: Record<string, string>[] = [{}, { 'x-request-id': 'has spaces and "quotes"' }];
    for (const headers of cases) {
      const response = await predict(stack, 'I love this!', { headers });
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe('JSON access log', () => {
  test('records request id, status, upstream, timings and experiment group', async () => {
    const id = `it-log-${Date.now()}`;
    const response = await predict(stack, 'I love this!', {
      headers: { 'x-request-id': id, [EXPERIMENT_HEADER]: 'debug' },
    });
    expect(response.status).toBe(200);
    const v2 = stack.replicas.find((r) => r.variant === 'v2')!;
    const entry = await accessLogEntry(stack, id);
    expect(entry).toMatchObject({
      request_id: id,
      status: 200,
      method: 'POST',
      uri: '/predict',
      experiment_group: 'debug',
      upstream: 'api_v2',
      upstream_addr: `${v2.host}:${v2.port}`,
      upstream_status: '200',
      user: stack.auth.user,
      tls_protocol: 'TLSv1.3',
    });
    expect(typeof entry.request_time).toBe('number');
    expect(Number(entry.upstream_response_time)).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(entry)).not.toContain(stack.auth.password);
  });
});
