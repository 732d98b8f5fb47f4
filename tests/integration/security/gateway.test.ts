/**
 * The security pass on a real nginx in front of real API processes: what an attacker can send and what
 * reaches a replica. Each replica's own `http_requests_total` is the witness: a request that a replica
 * never counted never reached it. Every case sends from its own client address so the rate limit
 * (2 r/s, burst 8 per address) only shows where a test is about it.
 */
import { spawnSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { httpRequest } from '../../../deployments/local/http-client';
import { findNginx } from '../../../deployments/local/nginx';
import type { LocalStack } from '../../../deployments/local/stack';
import { API_ROUTES, DEBUG_GROUP, EXPERIMENT_HEADER, GATEWAY_PATHS } from '../../../deployments/names';
import { scanText } from '../../../security/secrets';
import { httpsBase, predict, startTestStack } from '../gateway/helpers';

const RATE = 2;
const BURST = 8;

let stack: LocalStack;
let nginxVersion: [number, number, number];

beforeAll(async () => {
  stack = await startTestStack({
    nginx: { rateLimitPerSecond: RATE, rateLimitBurst: BURST },
    // Replicas log every request: the log scan below checks no credential reaches those lines.
    apiLogLevel: 'info',
  });
  // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
  const { stderr } = spawnSync(findNginx(), ['-v'], { encoding: 'utf8' });
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(stderr);
  expect(match).not.toBeNull();
  nginxVersion = [Number(match![1]), Number(match![2]), Number(match![3])];
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

let nextAddress = 0;
/** A fresh client address (own rate-limit bucket) for each case: 127.0.2.2, 127.0.2.3, ... */
function freshAddress(): string {
  const n = nextAddress++;
  return `127.0.${2 + Math.floor(n / 250)}.${2 + (n % 250)}`;
}

/** Sum of `http_requests_total` of every replica, the replicas' own scrapes (`/metrics`) excluded. */
async function replicaRequestCount(): Promise<number> {
  let total = 0;
  for (const replica of stack.replicas) {
    const response = await httpRequest({ url: `${replica.url}${API_ROUTES.metrics}` });
    expect(response.status).toBe(200);
    for (const line of response.body.split('\n')) {
      const match = /^http_requests_total\{([^}]*)\} (\d+(?:\.\d+)?)$/.exec(line);
      if (match && !match[1]!.includes(`route="${API_ROUTES.metrics}"`)) {
        total += Number(match[2]);
      }
    }
  }
  return total;
}

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('requests with bad or absent credentials never reach an API replica', () => {
  const cases: [string, () => Record<string, string>][] = [
    ['no Authorization header', () => ({})],
    ['a wrong password', () => ({ authorization: basic(`${stack.auth.user}:${stack.auth.password}x`) })],
    ['a wrong user', () => ({ authorization: basic(`admin:${stack.auth.password}`) })],
    [
      'the user in another case',
      () => ({ authorization: basic(`${stack.auth.user.toUpperCase()}:${stack.auth.password}`) }),
    ],
    ['an empty password', () => ({ authorization: basic(`${stack.auth.user}:`) })],
    ['the password without a user', () => ({ authorization: basic(stack.auth.password) })],
    [
      'a password prefix',
      () => ({ authorization: basic(`${stack.auth.user}:${stack.auth.password.slice(0, -1)}`) }),
    ],
    ['"Basic" and no value', () => ({ authorization: 'Basic' })],
    ['a value that is not base64', () => ({ authorization: 'Basic !!!not-base64!!!' })],
    ['the password as a Bearer token', () => ({ authorization: `Bearer ${stack.auth.password}` })],
    [
      'the right credentials unencoded',
      () => ({ authorization: `Basic ${stack.auth.user}:${stack.auth.password}` }),
    ],
  ];

  test.each(cases)('%s: 401 JSON on /predict, /docs and /openapi.json', async (_, headers) => {
    const before = await replicaRequestCount();
    const address = freshAddress();
    for (const route of [API_ROUTES.predict, API_ROUTES.docs, API_ROUTES.openapi]) {
      const response = await httpRequest({
        url: `${httpsBase(stack)}${route}`,
        method: route === API_ROUTES.predict ? 'POST' : 'GET',
        body: route === API_ROUTES.predict ? { sentence: 'let me in' } : undefined,
        headers: headers(),
        ca: stack.tls.caCertPem,
        localAddress: address,
      });
      expect(response.status).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'unauthorized' } });
    }
    expect(await replicaRequestCount()).toBe(before);
  });

  test('two Authorization headers are refused (400) and reach no replica', async () => {
    const before = await replicaRequestCount();
    const response = await rawRequest(
      postHead([
        `Authorization: ${basic('nobody:nothing-at-all')}`,
        `Authorization: ${basic(`${stack.auth.user}:${stack.auth.password}`)}`,
      ]),
      freshAddress(),
    );
    expect(response.status).toBe(400);
    expect(await replicaRequestCount()).toBe(before);
  });

  test.each([
    ['/predict/', 404],
    ['//predict', 401],
    ['/./predict', 401],
    ['/%70redict', 401],
    ['/PREDICT', 404],
    ['/predict;x', 404],
    ['/x/../predict', 401],
  ])('path variant %s without credentials: %i JSON, and no replica sees it', async (target, status) => {
    const before = await replicaRequestCount();
    const response = await rawRequest(postHead([], target), freshAddress());
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(await replicaRequestCount()).toBe(before);
  });

  test('a NUL byte in the path (/predict%00) is refused without credentials, and no replica sees it', async () => {
    const before = await replicaRequestCount();
    const response = await rawRequest(postHead([], '/predict%00'), freshAddress());
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await replicaRequestCount()).toBe(before);
  });

  // nginx cannot send an unparsed URI to a named error location (it would answer its own 500 HTML).
  test('a NUL byte in the path gets a 400 JSON error', async () => {
    const response = await rawRequest(postHead([], '/predict%00'), freshAddress());
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'bad_request' } });
  });

  test('control: the right credentials do reach a replica (the counter can move)', async () => {
    const before = await replicaRequestCount();
    const response = await predict(stack, 'I love this!', { localAddress: freshAddress() });
    expect(response.status).toBe(200);
    expect(await replicaRequestCount()).toBe(before + 1);
  });
});

describe('password guessing is rate limited like any other request', () => {
  test(`a sequential burst of wrong passwords from one address: 401 up to the limit, then 429, and no replica sees any`, async () => {
    const before = await replicaRequestCount();
    const address = freshAddress();
    const started = Date.now();
    const statuses: number[] = [];
    for (let i = 0; i < 3 * BURST; i++) {
      const response = await predict(stack, 'guess', {
        localAddress: address,
        auth: { user: stack.auth.user, password: `guess-number-${i}-${'x'.repeat(20)}` },
      });
      statuses.push(response.status);
    }
    // Requests the limiter may have paid back while the loop ran (a slow machine).
    const earned = Math.ceil(((Date.now() - started) / 1000) * RATE);
    const guessed = statuses.filter((s) => s === 401).length;
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(guessed).toBeGreaterThanOrEqual(1 + BURST);
    expect(guessed).toBeLessThanOrEqual(1 + BURST + earned);
    // The first refusal comes after the burst, and the limit holds from there on within the paid-back slack.
    expect(statuses.slice(0, 1 + BURST)).toEqual(Array(1 + BURST).fill(401));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(3 * BURST - 1 - BURST - earned);
    // Limited means limited: even the right password gets 429 from this address now.
    const right = await predict(stack, 'now with the password', { localAddress: address });
    expect(right.status).toBe(429);
    expect(await replicaRequestCount()).toBe(before);
  });
});

interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly raw: string;
}

/** Request head for POST /predict with exact header lines (nothing normalised by a client library). */
function postHead(
  lines: readonly string[],
  target: string = API_ROUTES.predict,
  body = '{"sentence":"I love this!"}',
) {
  return [
    `POST ${target} HTTP/1.1`,
    'Host: localhost',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...lines,
    '',
    body,
  ].join('\r\n');
}

/**
 * Sends raw bytes and reads the first response: over TLS (HTTP/1.1) to the HTTPS port by default, or
 * in plain text to `port` ('http', or 'https' to send plain HTTP where TLS is expected).
 */
function rawRequest(
  payload: string,
  localAddress: string,
  { plain = false, port = 'https' }: { plain?: boolean; port?: 'https' | 'http' } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // A plain socket first: the source address is a net option, not a TLS one.
    const tcp = net.connect({ host: stack.host, port: stack.ports[port], localAddress });
    const socket = plain
      ? tcp
      : tls.connect({
          socket: tcp,
          servername: 'localhost',
          ca: stack.tls.caCertPem,
          ALPNProtocols: ['http/1.1'],
        });
    socket.setTimeout(10_000, () => socket.destroy(new Error('no response within 10 s')));
    // write, not end: a half-closed client looks like an aborted one to nginx. Connection: close ends it.
    socket.once(plain ? 'connect' : 'secureConnect', () => socket.write(payload));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? '';
      resolve({ status, contentType, body: rest.join('\r\n\r\n'), raw });
    });
  });
}

/** The variant that answered (from the JSON body, which is not chunked for these small answers). */
const variantOf = (response: RawResponse) => /"version":"(v\d)"/.exec(response.body)?.[1];

describe(`${EXPERIMENT_HEADER} smuggling: only the exact value "${DEBUG_GROUP}" routes to v2`, () => {
  const H = EXPERIMENT_HEADER;
  const atLeast = (major: number, minor: number) =>
    nginxVersion[0] > major || (nginxVersion[0] === major && nginxVersion[1] >= minor);

  // [case, header lines, expected variant]; README "Security" documents the same table.
  const rows: [string, string[], () => 'v1' | 'v2'][] = [
    ['exact value', [`${H}: debug`], () => 'v2'],
    ['header name in lower case', [`${H.toLowerCase()}: debug`], () => 'v2'],
    ['spaces around the value (optional whitespace)', [`${H}:   debug  `], () => 'v2'],
    ['capitalised value', [`${H}: Debug`], () => 'v1'],
    ['upper-case value', [`${H}: DEBUG`], () => 'v1'],
    ['a list', [`${H}: debug, x`], () => 'v1'],
    ['a quoted value', [`${H}: "debug"`], () => 'v1'],
    ['a parameter', [`${H}: debug;q=1`], () => 'v1'],
    ['a leading tab (nginx strips spaces only)', [`${H}:\tdebug`], () => 'v1'],
    ['underscores in the name (nginx drops the header)', ['X_Experiment_Group: debug'], () => 'v1'],
    ['a longer name', [`${H}s: debug`], () => 'v1'],
    // nginx >= 1.23 joins repeated lines ("debug, x"); 1.22 keeps the first.
    ['repeated: debug then x', [`${H}: debug`, `${H}: x`], () => (atLeast(1, 23) ? 'v1' : 'v2')],
    ['repeated: x then debug', [`${H}: x`, `${H}: debug`], () => 'v1'],
    ['repeated: debug twice', [`${H}: debug`, `${H}: debug`], () => (atLeast(1, 23) ? 'v1' : 'v2')],
  ];

  test.each(rows)('%s', async (_, lines, expected) => {
    const auth = `Authorization: ${basic(`${stack.auth.user}:${stack.auth.password}`)}`;
    const response = await rawRequest(postHead([auth, ...lines]), freshAddress());
    expect(response.status).toBe(200);
    expect(variantOf(response)).toBe(expected());
  });

  test('the query string and cookies do not route', async () => {
    const auth = `Authorization: ${basic(`${stack.auth.user}:${stack.auth.password}`)}`;
    const byQuery = await rawRequest(postHead([auth], `${API_ROUTES.predict}?${H}=debug`), freshAddress());
    expect(variantOf(byQuery)).toBe('v1');
    const byCookie = await rawRequest(postHead([auth, `Cookie: ${H}=debug`]), freshAddress());
    expect(variantOf(byCookie)).toBe('v1');
  });

  const smuggled = `0\r\n\r\nPOST ${API_ROUTES.predict} HTTP/1.1\r\nHost: localhost\r\n${H}: debug\r\n\r\n`;
  const hi = '{"sentence":"hi"}';
  // [case, status, header lines, body]: four columns always (jest treats a spare parameter as `done`).
  const refused: [string, number, string[], string][] = [
    ['a folded (obs-fold) continuation', 400, [`${H}: x`, ' debug'], hi],
    ['a space before the colon', 400, [`${H} : debug`], hi],
    ['a NUL byte in the value', 400, [`${H}: deb\0ug`], hi],
    ['a bare CR in the value', 400, [`${H}: debug\rx`], hi],
    [
      'Content-Length with Transfer-Encoding (a CL.TE smuggled request)',
      400,
      ['Transfer-Encoding: chunked'],
      smuggled,
    ],
    ['an unknown Transfer-Encoding', 501, ['Transfer-Encoding: xchunked'], hi],
  ];

  test.each(refused)('%s: refused with %i, and no replica sees it', async (_, status, lines, body) => {
    const auth = `Authorization: ${basic(`${stack.auth.user}:${stack.auth.password}`)}`;
    const before = await replicaRequestCount();
    const response = await rawRequest(postHead([auth, ...lines], API_ROUTES.predict, body), freshAddress());
    expect(response.status).toBe(status);
    expect(response.raw).not.toMatch(/"version":"v\d"/);
    expect(await replicaRequestCount()).toBe(before);
  });

  test('refusals for malformed headers are JSON', async () => {
    const auth = `Authorization: ${basic(`${stack.auth.user}:${stack.auth.password}`)}`;
    const response = await rawRequest(postHead([auth, `${H} : debug`]), freshAddress());
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'bad_request' } });
  });

  test('an unknown Transfer-Encoding gets a JSON 501', async () => {
    const auth = `Authorization: ${basic(`${stack.auth.user}:${stack.auth.password}`)}`;
    const response = await rawRequest(postHead([auth, 'Transfer-Encoding: xchunked']), freshAddress());
    expect(response.status).toBe(501);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_implemented' } });
  });
});

describe('no secret in the logs or in the files the stack rendered', () => {
  test('the password and the encoded credentials appear in no log line', async () => {
    // Traffic with the credentials first, so there is something to find if they leaked.
    for (let i = 0; i < 3; i++) {
      expect((await predict(stack, `log check ${i}`, { localAddress: freshAddress() })).status).toBe(200);
    }
    const logsDir = path.dirname(stack.accessLogPath);
    const files = await readdir(logsDir);
    expect(files).toEqual(expect.arrayContaining(['access.log', 'nginx.log', 'api-v1-1.log']));
    const encoded = Buffer.from(`${stack.auth.user}:${stack.auth.password}`).toString('base64');
    for (const file of files) {
      const text = await readFile(path.join(logsDir, file), 'utf8');
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toContain(stack.auth.password);
      expect(text).not.toContain(encoded);
      expect(text.toLowerCase()).not.toContain('authorization');
    }
  });

  test('the rendered nginx.conf holds no key, htpasswd entry or password, only paths to them', async () => {
    const conf = await readFile(stack.nginx.confPath, 'utf8');
    expect(scanText('nginx.conf', conf)).toEqual([]);
    expect(conf).not.toContain(stack.auth.password);
    expect(conf).toContain(stack.nginx.settings.htpasswdPath);
  });
});

describe('requests nginx refuses before routing get JSON errors, on both listeners', () => {
  const head = (requestLine: string, lines: readonly string[] = []) =>
    [requestLine, 'Host: localhost', 'Connection: close', ...lines, '', ''].join('\r\n');
  const long = 'a'.repeat(9000); // above large_client_header_buffers (4 x 8k)
  // [case, raw request, status on the wire, JSON error code]
  const cases: [string, string, number, string][] = [
    ['a request line that is not HTTP', 'GARBAGE\r\n\r\n', 400, 'bad_request'],
    ['an overlong request line', head(`GET /${long} HTTP/1.1`), 414, 'uri_too_long'],
    ['an overlong header', head('GET /x HTTP/1.1', [`X-Big: ${long}`]), 400, 'headers_too_large'],
    ['HTTP/2.0 in an HTTP/1 request line', head('GET /x HTTP/2.0'), 505, 'http_version_not_supported'],
    [
      'an unknown Transfer-Encoding',
      head('POST /x HTTP/1.1', ['Transfer-Encoding: gzip']),
      501,
      'not_implemented',
    ],
  ];

  test.each(cases)('%s', async (_, payload, status, code) => {
    for (const options of [{}, { plain: true, port: 'http' as const }]) {
      const response = await rawRequest(payload, freshAddress(), options);
      expect([response.status, response.contentType]).toEqual([
        status,
        expect.stringMatching(/^application\/json/),
      ]);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code } });
    }
  });

  test('plain HTTP sent to the HTTPS port: 400 JSON saying to use https', async () => {
    const response = await rawRequest(head('GET /predict HTTP/1.1'), freshAddress(), { plain: true });
    expect(response.status).toBe(400);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'https_required' } });
  });

  test('the internal error locations cannot be requested from outside (404)', async () => {
    const response = await rawRequest(head(`GET ${GATEWAY_PATHS.errors}/400 HTTP/1.1`), freshAddress());
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
  });
});
