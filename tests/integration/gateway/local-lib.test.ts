/**
 * The local stack's building blocks on real processes and files: the supervisor (readiness,
 * early exit, stop escalation, restart), the local CA (reuse, key modes) and free ports.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { httpRequest } from '../../../deployments/local/http-client';
import { freePorts } from '../../../deployments/local/ports';
import { Supervisor } from '../../../deployments/local/supervisor';
import { createLocalTls } from '../../../deployments/local/tls';

let dir: string;
let supervisor: Supervisor;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'local-lib-'));
  supervisor = new Supervisor(dir);
});

afterEach(async () => {
  await supervisor.stopAll(2_000);
  await rm(dir, { recursive: true, force: true });
});

/** A node one-liner as a service. */
const node = (name: string, code: string, extra: object = {}) => ({
  name,
  command: process.execPath,
  args: ['-e', code],
  ...extra,
});

/** An HTTP server on `port` answering 200, printing `started`. */
const httpServer = (port: number) =>
  `require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1', () => console.log('started'))`;

describe('Supervisor', () => {
  test('start waits for readiness, stop ends the process', async () => {
    const [port] = (await freePorts(1)) as [number];
    const service = await supervisor.start(
      node('web', httpServer(port), {
        ready: async () => (await httpRequest({ url: `http://127.0.0.1:${port}/` })).status === 200,
      }),
    );
    expect(service.running()).toBe(true);
    expect((await httpRequest({ url: `http://127.0.0.1:${port}/` })).body).toBe('ok');
    await service.stop();
    expect(service.running()).toBe(false);
    await expect(httpRequest({ url: `http://127.0.0.1:${port}/`, timeoutMs: 1_000 })).rejects.toThrow();
    expect(await readFile(service.logPath, 'utf8')).toContain('started');
  });

  test('a process that exits before it is ready fails start() at once, quoting its output', async () => {
    const started = Date.now();
    await expect(
      supervisor.start(
        node('crash', "console.error('model file missing'); process.exit(3)", {
          ready: async () => false,
          readyTimeoutMs: 30_000,
        }),
      ),
    ).rejects.toThrow(/crash did not start: it exited \(code 3\)[\s\S]*model file missing/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test('stop escalates to SIGKILL when the process ignores its stop signal', async () => {
    // Ready once the handler is installed (it prints "up" afterwards).
    const service = await supervisor.start(
      node('stubborn', "process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000)", {
        ready: async () => (await readFile(path.join(dir, 'stubborn.log'), 'utf8')).includes('up'),
      }),
    );
    const started = Date.now();
    await service.stop(500);
    expect(service.running()).toBe(false);
    expect((await service.exited()).signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('kill(SIGKILL) is reported as an unexpected exit, and restart() brings the service back', async () => {
    const [port] = (await freePorts(1)) as [number];
    const ready = async () => (await httpRequest({ url: `http://127.0.0.1:${port}/` })).status === 200;
    const service = await supervisor.start(node('flaky', httpServer(port), { ready }));
    const exits: { name: string; expected: boolean }[] = [];
    supervisor.on('exit', (handle: { name: string }, _info: unknown, expected: boolean) =>
      exits.push({ name: handle.name, expected }),
    );
    const firstPid = service.pid;
    service.kill('SIGKILL');
    expect((await service.exited()).signal).toBe('SIGKILL');
    expect(exits).toEqual([{ name: 'flaky', expected: false }]);
    await service.restart();
    expect(service.pid).not.toBe(firstPid);
    expect(await ready()).toBe(true);
  });

  test('refuses two services with one name', async () => {
    await supervisor.start(node('twice', 'setInterval(() => {}, 1000)'));
    await expect(supervisor.start(node('twice', 'setInterval(() => {}, 1000)'))).rejects.toThrow(
      /already supervised/,
    );
  });
});

describe('createLocalTls', () => {
  test('keeps the CA across runs, issues a new server certificate, keys at 0600', async () => {
    const first = await createLocalTls(dir, { hosts: ['localhost', '127.0.0.1'] });
    const second = await createLocalTls(dir, { hosts: ['localhost', '127.0.0.1'] });
    expect(second.caCertPem).toBe(first.caCertPem);
    const ca = new X509Certificate(second.caCertPem);
    const leaf = new X509Certificate(await readFile(second.certPath));
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(ca.ca).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1');
    expect(leaf.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    for (const key of [second.keyPath, second.caKeyPath]) {
      expect((await stat(key)).mode & 0o777).toBe(0o600);
    }
    const fresh = await createLocalTls(dir, { reuseCa: false });
    expect(fresh.caCertPem).not.toBe(first.caCertPem);
  });

  test('each run revokes the server certificate it replaces: a CRL-checking client refuses the old one', async () => {
    const crlUrl = 'http://localhost:8080/pki/ca.crl';
    const first = await createLocalTls(dir, { crlUrl });
    const firstLeaf = { key: await readFile(first.keyPath), cert: await readFile(first.certPath) };
    expect(first.revokedSerials).toEqual([]);
    const serial = (pem: Buffer) => new X509Certificate(pem).serialNumber.toLowerCase();
    const second = await createLocalTls(dir, { crlUrl });
    const secondSerial = serial(await readFile(second.certPath));
    const third = await createLocalTls(dir, { crlUrl });
    // The second run revoked the first certificate; the third keeps that entry and adds the second.
    expect(second.revokedSerials).toEqual([serial(firstLeaf.cert)]);
    expect([...third.revokedSerials].sort()).toEqual([serial(firstLeaf.cert), secondSerial].sort());
    expect(third.revokedSerials).not.toContain(serial(await readFile(third.certPath)));

    expect(new X509Certificate(await readFile(third.certPath)).toLegacyObject()).toMatchObject({
      ext_key_usage: ['1.3.6.1.5.5.7.3.1'],
    });
    // The file is DER, as served at the distribution point; Node takes PEM.
    const crl = x509.PemConverter.encode(await readFile(third.crlPath), 'X509 CRL');
    // Node's TLS client checks the CRL when given one (OpenSSL's CRL_CHECK): the real verdict.
    const verdict = async (pair: { key: Buffer; cert: Buffer }) => {
      const server = createTlsServer(pair, (socket) => socket.end());
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      try {
        return await new Promise<string>((resolve) => {
          const socket = tlsConnect({
            host: '127.0.0.1',
            port,
            servername: 'localhost',
            ca: third.caCertPem,
            crl,
          });
          socket.once('secureConnect', () => {
            socket.end();
            resolve('trusted');
          });
          socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        });
      } finally {
        server.close();
      }
    };
    expect(await verdict(firstLeaf)).toBe('CERT_REVOKED');
    expect(await verdict({ key: await readFile(third.keyPath), cert: await readFile(third.certPath) })).toBe(
      'trusted',
    );

    // A new CA starts a new, empty list (the old entries were another issuer's).
    const fresh = await createLocalTls(dir, { crlUrl, reuseCa: false });
    expect(fresh.revokedSerials).toEqual([]);
  });
});

describe('freePorts', () => {
  test('returns distinct ports that can be bound', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) {
      await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
      });
    }
  });
});
