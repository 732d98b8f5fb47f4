/**
 * End-to-end checks of a running gateway (local stack or Docker deployment), used by `npm run smoke`
 * and by the integration tests. Each check returns pass/fail with a one-line detail.
 */
import { API_ROUTES, API_VERSION_HEADER, EXPERIMENT_HEADER, GATEWAY_PATHS } from '../names';
import { type HttpRequest, type HttpResponse, httpRequest } from './http-client';
import { pollUntil } from './readiness';

/** A gateway to check. */
export interface SmokeTarget {
  /** `https://host:port` */
  readonly httpsUrl: string;
  /** `http://host:port`; the redirect check is skipped without it. */
  readonly httpUrl?: string;
  /** PEM of the CA that signs the gateway certificate. */
  readonly caCert: string;
  readonly auth: { readonly user: string; readonly password: string };
  /** Expected number of v1 replicas. */
  readonly v1Replicas: number;
  /** The gateway's per-client rate limit, used to pace requests below it. */
  readonly rateLimitPerSecond: number;
  /** Concurrent requests fired by the burst check. Default 60. */
  readonly burstRequests?: number;
}

export interface CheckResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  readonly detail: string;
}

interface Prediction {
  prediction?: unknown;
  version?: unknown;
  replica?: unknown;
}

interface ErrorBody {
  error?: { code?: unknown; message?: unknown; field?: unknown };
}

class CheckFailed extends Error {}
class CheckSkipped extends Error {}

function ensure(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new CheckFailed(message);
  }
}

function parseJson<T>(response: HttpResponse): T {
  try {
    return response.json<T>();
  } catch {
    throw new CheckFailed(`status ${response.status}, body is not JSON: ${response.body.slice(0, 120)}`);
  }
}

function expectJsonError(
  response: HttpResponse,
  status: number | ((s: number) => boolean),
  what: string,
): ErrorBody {
  const ok = typeof status === 'number' ? response.status === status : status(response.status);
  ensure(ok, `${what}: got status ${response.status} (${response.body.slice(0, 120)})`);
  const body = parseJson<ErrorBody>(response);
  ensure(
    typeof body.error?.code === 'string' && typeof body.error.message === 'string',
    `${what}: body is not a JSON error: ${response.body.slice(0, 120)}`,
  );
  return body;
}

/**
 * Runs every check in order and reports each result through `report` as soon as it is known.
 * Requests to rate-limited routes are paced at 80% of the limit so only the burst check sees 429.
 */
export async function runSmokeChecks(
  target: SmokeTarget,
  report: (result: CheckResult) => void = () => {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const base = target.httpsUrl.replace(/\/$/, '');
  const minGapMs = 1000 / (target.rateLimitPerSecond * 0.8);
  let nextSlot = 0;
  const pace = async () => {
    const now = Date.now();
    const wait = Math.max(0, nextSlot - now);
    nextSlot = Math.max(now, nextSlot) + minGapMs;
    if (wait > 0) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  };
  const gateway = async (path: string, req: Omit<HttpRequest, 'url'> = {}, paced = true) => {
    if (paced) {
      await pace();
    }
    return httpRequest({ ca: target.caCert, ...req, url: `${base}${path}` });
  };
  const predict = (sentence: unknown, req: Omit<HttpRequest, 'url'> = {}) =>
    gateway(API_ROUTES.predict, { auth: target.auth, body: { sentence }, ...req });

  const check = async (name: string, run: () => Promise<string>) => {
    let result: CheckResult;
    try {
      result = { name, status: 'pass', detail: await run() };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      result = { name, status: error instanceof CheckSkipped ? 'skip' : 'fail', detail: message };
    }
    results.push(result);
    report(result);
  };

  await check('TLS certificate verifies against the CA', async () => {
    const response = await gateway(GATEWAY_PATHS.health, {}, false);
    ensure(response.status === 200, `GET /health answered ${response.status}`);
    const untrusted = await httpRequest({ url: `${base}${GATEWAY_PATHS.health}` }).then(
      () => 'accepted',
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    ensure(
      untrusted !== 'accepted',
      'the certificate was also accepted without the CA (a public certificate?)',
    );
    return `without the CA: ${untrusted}`;
  });

  await check('TLS 1.1 and older are refused', async () => {
    const outcome = await httpRequest({
      url: `${base}${GATEWAY_PATHS.health}`,
      ca: target.caCert,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      // Let this client offer the old protocols at all (OpenSSL 3 refuses them at the default level).
      ciphers: 'DEFAULT:@SECLEVEL=0',
    }).then(
      (response) => `accepted (${response.status})`,
      (error: NodeJS.ErrnoException) => error.message,
    );
    // The server's protocol_version alert (70) proves the client offered TLS 1.1 and the server said no.
    ensure(/alert protocol version/i.test(outcome), `TLS 1.1: ${outcome}`);
    return 'TLS 1.1 handshake refused by the server (alert 70, protocol_version)';
  });

  await check('HTTP redirects to HTTPS on the public port', async () => {
    if (target.httpUrl === undefined) {
      throw new CheckSkipped('no HTTP URL known for this stack');
    }
    const response = await httpRequest({
      url: `${target.httpUrl.replace(/\/$/, '')}${API_ROUTES.predict}?q=1`,
    });
    const location = response.headers.location ?? '';
    const expected = new URL(`${API_ROUTES.predict}?q=1`, base).href;
    ensure([301, 308].includes(response.status), `status ${response.status}, expected 301 or 308`);
    ensure(location === expected, `Location ${location}, expected ${expected}`);
    return `${response.status} -> ${location}`;
  });

  await check('GET /health answers without credentials', async () => {
    const response = await gateway(GATEWAY_PATHS.health, {}, false);
    ensure(response.status === 200, `status ${response.status}`);
    return response.body.trim();
  });

  await check('security headers are set (HSTS, nosniff)', async () => {
    const response = await gateway(GATEWAY_PATHS.health, {}, false);
    ensure(/max-age=\d+/.test(String(response.headers['strict-transport-security'])), 'no HSTS header');
    ensure(response.headers['x-content-type-options'] === 'nosniff', 'no X-Content-Type-Options: nosniff');
    ensure(response.headers.server === 'nginx', `Server header reveals ${response.headers.server}`);
    return `HSTS ${response.headers['strict-transport-security']}`;
  });

  await check('401 without credentials (JSON)', async () => {
    const response = await predict('I love this!', { auth: undefined });
    expectJsonError(response, 401, 'no credentials');
    ensure(/^Basic /.test(String(response.headers['www-authenticate'])), 'no WWW-Authenticate: Basic');
    return '401 + WWW-Authenticate';
  });

  await check('401 with a wrong password (JSON)', async () => {
    const response = await predict('I love this!', {
      auth: { user: target.auth.user, password: 'wrong-password' },
    });
    expectJsonError(response, 401, 'wrong password');
    return '401';
  });

  await check('200 with the credentials: a v1 prediction', async () => {
    const response = await predict('I love this!', { headers: { 'x-request-id': 'smoke-check-1' } });
    ensure(response.status === 200, `status ${response.status}: ${response.body.slice(0, 120)}`);
    const body = parseJson<Prediction>(response);
    ensure(typeof body.prediction === 'string', `no prediction in ${response.body.slice(0, 120)}`);
    ensure(body.version === 'v1', `version ${String(body.version)}`);
    ensure(response.headers['x-request-id'] === 'smoke-check-1', 'X-Request-ID not passed through');
    return `"I love this!" -> ${body.prediction} (${String(body.replica)})`;
  });

  await check(`${EXPERIMENT_HEADER}: debug reaches v2, every time`, async () => {
    for (let i = 0; i < 5; i++) {
      const response = await predict('so tired of waiting', { headers: { [EXPERIMENT_HEADER]: 'debug' } });
      const body = parseJson<Prediction>(response);
      ensure(
        response.status === 200 && body.version === 'v2',
        `request ${i + 1}: ${response.status} ${String(body.version)}`,
      );
      ensure(response.headers[API_VERSION_HEADER.toLowerCase()] !== 'v1', 'answered by v1');
    }
    return '5/5 answered by v2';
  });

  await check('other requests reach v1, every time', async () => {
    const variants: (string | undefined)[] = [undefined, 'Debug', 'debug2', '', 'v2'];
    for (const value of variants) {
      const response = await predict('so tired of waiting', {
        headers: value === undefined ? {} : { [EXPERIMENT_HEADER]: value },
      });
      const body = parseJson<Prediction>(response);
      ensure(
        response.status === 200 && body.version === 'v1',
        `header ${JSON.stringify(value)}: ${response.status} ${String(body.version)}`,
      );
    }
    return `no header, "Debug", "debug2", "", "v2" -> v1`;
  });

  await check(`load spreads over all ${target.v1Replicas} v1 replicas`, async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < target.v1Replicas * 6; i++) {
      const response = await predict(`spread ${i}`);
      const body = parseJson<Prediction>(response);
      ensure(response.status === 200, `request ${i + 1}: ${response.status}`);
      counts.set(String(body.replica), (counts.get(String(body.replica)) ?? 0) + 1);
    }
    const summary = [...counts].map(([replica, n]) => `${replica}=${n}`).join(' ');
    ensure(counts.size === target.v1Replicas, `answered by ${counts.size} replicas: ${summary}`);
    return summary;
  });

  await check('bad input -> 4xx JSON error naming the field', async () => {
    const missing = await gateway(API_ROUTES.predict, { auth: target.auth, body: {} });
    const body = expectJsonError(missing, (s) => s >= 400 && s < 500, 'missing sentence');
    ensure(typeof body.error?.field === 'string', `no field named in ${missing.body.slice(0, 120)}`);
    const wrongType = await predict(42);
    expectJsonError(wrongType, (s) => s >= 400 && s < 500, 'sentence: 42');
    const malformed = await gateway(API_ROUTES.predict, {
      auth: target.auth,
      body: '{"sentence": ',
      headers: { 'content-type': 'application/json' },
    });
    expectJsonError(malformed, (s) => s >= 400 && s < 500, 'malformed JSON');
    return `{} -> ${missing.status} (${String(body.error?.field)}), 42 -> ${wrongType.status}, malformed -> ${malformed.status}`;
  });

  await check('oversized body -> 413 JSON', async () => {
    const response = await predict('x'.repeat(70 * 1024));
    expectJsonError(response, 413, 'a 70 KiB sentence');
    return '413';
  });

  await check('unknown route -> 404 JSON', async () => {
    const response = await gateway('/no-such-route', {}, false);
    expectJsonError(response, 404, 'GET /no-such-route');
    return '404';
  });

  await check('stub_status is not served on the public port', async () => {
    const response = await gateway(GATEWAY_PATHS.stubStatus, { auth: target.auth }, false);
    ensure(!/Active connections/.test(response.body), 'stub_status output on the public port');
    ensure(response.status === 404, `status ${response.status}`);
    return '404';
  });

  await check('a burst gets 429 with Retry-After and a JSON body', async () => {
    const count = target.burstRequests ?? 60;
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        httpRequest({
          url: `${base}${API_ROUTES.predict}`,
          ca: target.caCert,
          auth: target.auth,
          body: { sentence: `burst ${i}` },
        }),
      ),
    );
    nextSlot = Date.now() + 1000;
    const limited = responses.filter((r) => r.status === 429);
    const other = responses.filter((r) => r.status !== 429 && r.status !== 200);
    ensure(other.length === 0, `unexpected statuses: ${other.map((r) => r.status).join(', ')}`);
    ensure(limited.length > 0, `no 429 among ${count} concurrent requests (rate limit above ${count}?)`);
    for (const response of limited) {
      ensure(/^\d+$/.test(String(response.headers['retry-after'])), '429 without a numeric Retry-After');
      const body = expectJsonError(response, 429, '429');
      ensure(body.error?.code === 'rate_limited', `429 code ${String(body.error?.code)}`);
    }
    return `${count - limited.length} served, ${limited.length} x 429 (Retry-After ${limited[0]!.headers['retry-after']})`;
  });

  await check('requests succeed again after the burst', async () => {
    const started = Date.now();
    await pollUntil(async () => (await predict('recovered?')).status === 200, {
      what: 'a 200 after the burst',
      timeoutMs: 10_000,
      intervalMs: 250,
    });
    return `200 after ${Date.now() - started} ms`;
  });

  return results;
}

/** `N passed, M failed[, K skipped]` for a list of results. */
export function summarize(results: readonly CheckResult[]): string {
  const count = (status: CheckResult['status']) => results.filter((r) => r.status === status).length;
  const skipped = count('skip');
  return `${count('pass')} passed, ${count('fail')} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}
