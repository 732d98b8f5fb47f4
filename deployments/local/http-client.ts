/**
 * A small HTTP(S) client on node:http/https for the smoke check and the tests: certificate checked
 * against a given CA, basic auth, a chosen local address, explicit TLS versions. No curl needed.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { SecureVersion } from 'node:tls';

export interface HttpRequest {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  /** Request body; a plain object is sent as JSON. */
  readonly body?: string | Buffer | object;
  /** Basic-auth credentials. */
  readonly auth?: { readonly user: string; readonly password: string };
  /** PEM CA certificate(s) that must sign the server certificate (HTTPS). */
  readonly ca?: string | Buffer;
  /** Source address to bind, e.g. 127.0.0.2 to appear as another client. */
  readonly localAddress?: string;
  /** Connection reuse; default: a fresh connection per request. */
  readonly agent?: http.Agent | https.Agent;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly ciphers?: string;
  /** Abort after this long. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** The body parsed as JSON (throws if it is not JSON). */
  json<T = unknown>(): T;
}

/** A network error, with whether it happened on a reused keep-alive connection (Node's `reusedSocket`). */
export interface HttpRequestError extends NodeJS.ErrnoException {
  reusedSocket?: boolean;
}

/** Sends one request and reads the whole response. Rejects on network or TLS errors ({@link HttpRequestError}). */
export function httpRequest(req: HttpRequest): Promise<HttpResponse> {
  const url = new URL(req.url);
  const isJsonBody = req.body !== undefined && !Buffer.isBuffer(req.body) && typeof req.body === 'object';
  const body =
    req.body === undefined
      ? undefined
      : isJsonBody
        ? JSON.stringify(req.body)
        : (req.body as string | Buffer);
  const headers: Record<string, string | readonly string[]> = { ...req.headers };
  if (isJsonBody && headers['content-type'] === undefined && headers['Content-Type'] === undefined) {
    headers['content-type'] = 'application/json';
  }
  if (body !== undefined) {
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (req.auth !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${req.auth.user}:${req.auth.password}`).toString('base64')}`;
  }
  const isHttps = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: req.method ?? (body === undefined ? 'GET' : 'POST'),
    headers: headers as http.OutgoingHttpHeaders,
    localAddress: req.localAddress,
    agent: req.agent ?? false,
    timeout: req.timeoutMs ?? 10_000,
    ...(isHttps
      ? {
          ca: req.ca,
          minVersion: req.minVersion,
          maxVersion: req.maxVersion,
          ciphers: req.ciphers,
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const request = (isHttps ? https : http).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: text,
          json: <T>() => JSON.parse(text) as T,
        });
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${options.method} ${req.url} timed out`)));
    request.on('error', (error: HttpRequestError) => {
      error.reusedSocket = request.reusedSocket;
      reject(error);
    });
    request.end(body);
  });
}
