import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { OpenAPIHono, createRoute } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { routePath } from 'hono/route';
import { Registry } from 'prom-client';
import {
  API_ROUTES,
  API_VARIANTS,
  API_VERSION_HEADER,
  REQUEST_ID_HEADER,
  type ApiVariant,
} from '../../../deployments/names';
import type { Classifier, Prediction } from './classifier';
import { silentLogger, type Logger } from './logger';
import { createMetrics } from './metrics';
import {
  BatchPredictRequest,
  ErrorResponse,
  HealthResponse,
  MAX_BATCH_SIZE,
  MAX_BODY_BYTES,
  MAX_SENTENCE_CHARS,
  ReadyResponse,
  SinglePredictRequest,
  apiError,
  parsePredictRequest,
  predictionSchemas,
  type ApiError,
} from './schemas';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** v1 answers the prediction; v2 adds probabilities, model identity and latency. */
  variant: ApiVariant;
  /** A loaded, warmed-up classifier (loadClassifier), so the app is ready as soon as it exists. */
  classifier: Classifier;
  /** Echoed as `replica` in every prediction. */
  replicaId: string;
  /** Metrics registry; default a new one, so apps (and tests) never share series. */
  registry?: Registry;
  /** Default: silent. */
  logger?: Logger;
  /** Register process metrics on the registry (default true). */
  collectDefaultMetrics?: boolean;
  /**
   * False once the server drains on SIGTERM: /ready answers 503 and every response carries
   * `Connection: close`, so keep-alive clients and proxies move to another replica. Default: always true.
   */
  isAccepting?: () => boolean;
}

type AppEnv = { Variables: { requestId: string } };

// Accept the caller's id only if it is a plain token: it is echoed in headers and logs.
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const JSON_MEDIA_TYPE = 'application/json';
const ROUTES = Object.values(API_ROUTES);

function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const semicolon = header.indexOf(';');
  const mediaType = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return mediaType === JSON_MEDIA_TYPE;
}

function validateOptions(options: AppOptions): void {
  if (!(API_VARIANTS as readonly string[]).includes(options.variant)) {
    throw new TypeError(
      `createApp: variant must be one of ${API_VARIANTS.join(', ')} (got ${options.variant})`,
    );
  }
  if (typeof options.replicaId !== 'string' || options.replicaId === '') {
    throw new TypeError('createApp: replicaId must be a non-empty string');
  }
  if (typeof options.classifier?.predict !== 'function' || options.classifier.info.labels.length === 0) {
    throw new TypeError('createApp: classifier must be a loaded Classifier with at least one label');
  }
}

/** Documents the routes; the handlers below do their own validation so every error keeps one shape. */
function registerOpenApi(app: OpenAPIHono<AppEnv>, variant: ApiVariant): void {
  const { single, batch } = predictionSchemas(variant);
  const error = (description: string) => ({
    description,
    content: { 'application/json': { schema: ErrorResponse } },
  });
  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'post',
      path: API_ROUTES.predict,
      summary: 'Classify the emotion of one sentence or a batch',
      description:
        `Send \`{"sentence": "..."}\` for one prediction or \`{"sentences": [...]}\` (1 to ${MAX_BATCH_SIZE}) ` +
        'for a batch, classified with one inference call. `prediction value` (and, in v2, ' +
        '`prediction_proba_dict`) are compatibility aliases of `prediction` and `probabilities` for ' +
        'clients of the classroom API this service replaces.',
      request: {
        body: {
          required: true,
          content: { 'application/json': { schema: SinglePredictRequest.or(BatchPredictRequest) } },
        },
      },
      responses: {
        200: {
          description: 'The prediction (single form) or predictions in request order (batch form).',
          content: { 'application/json': { schema: single.or(batch) } },
        },
        400: error('The body is not valid JSON (`malformed_json`) or could not be read (`unreadable_body`).'),
        413: error(`The body is larger than ${MAX_BODY_BYTES} bytes.`),
        415: error('Content-Type is missing or not application/json.'),
        422: error(
          `A sentence is missing, not a string, blank or longer than ${MAX_SENTENCE_CHARS} characters, or a ` +
            `batch is empty or longer than ${MAX_BATCH_SIZE}. \`field\` names it, e.g. \`sentences[3]\`.`,
        ),
      },
    }),
  );
  const get = (path: string, summary: string, schema: typeof HealthResponse | typeof ReadyResponse) =>
    app.openAPIRegistry.registerPath(
      createRoute({
        method: 'get',
        path,
        summary,
        responses: {
          200: { description: summary, content: { 'application/json': { schema } } },
          ...(path === API_ROUTES.ready
            ? { 503: { description: 'Draining on shutdown', content: { 'application/json': { schema } } } }
            : {}),
        },
      }),
    );
  get(API_ROUTES.health, 'Liveness: the process serves HTTP', HealthResponse);
  get(
    API_ROUTES.ready,
    'Readiness: the model is loaded and warmed up, and the replica is not draining',
    ReadyResponse,
  );
  app.openAPIRegistry.registerPath(
    createRoute({
      method: 'get',
      path: API_ROUTES.metrics,
      summary: 'Prometheus metrics (text exposition format)',
      responses: {
        200: { description: 'Metrics', content: { 'text/plain': { schema: { type: 'string' } } } },
      },
    }),
  );
}

/**
 * Builds the prediction API for one variant. The server entry (server.ts) serves it; tests call
 * `app.request()` in-process.
 * @example createApp({ variant: 'v2', classifier: await loadClassifier(path), replicaId: 'api-v2' })
 */
export function createApp(options: AppOptions): OpenAPIHono<AppEnv> {
  validateOptions(options);
  const { variant, classifier, replicaId } = options;
  const logger = options.logger ?? silentLogger();
  const isAccepting = options.isAccepting ?? (() => true);
  const metrics = createMetrics({
    registry: options.registry ?? new Registry(),
    model: classifier.info,
    routes: ROUTES,
    collectDefault: options.collectDefaultMetrics ?? true,
  });
  const model = Object.freeze({
    name: classifier.info.name,
    sha256: classifier.info.sha256,
    labels: classifier.info.labels,
    label_count: classifier.info.labels.length,
  });
  const app = new OpenAPIHono<AppEnv>();

  // The request id in the body too, as in the gateway's own errors: clients quote it in support requests.
  const fail = (c: Context<AppEnv>, status: 400 | 404 | 405 | 413 | 415 | 422 | 500, { error }: ApiError) =>
    c.json({ error: { ...error, requestId: c.get('requestId') } }, status);

  // One middleware for request id, version header, metrics and the access log: one timer, one log line.
  app.use(async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header(REQUEST_ID_HEADER);
    const requestId = incoming !== undefined && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);
    c.header(REQUEST_ID_HEADER, requestId);
    c.header(API_VERSION_HEADER, variant);
    await next();
    // Checked after the handler: a request that began before SIGTERM may finish during the drain.
    if (!isAccepting()) c.header('Connection', 'close');
    const seconds = (performance.now() - started) / 1000;
    const status = c.res.status;
    metrics.observeRequest(c.req.method, routePath(c, -1), status, seconds);
    logger.info(
      {
        reqId: requestId,
        method: c.req.method,
        path: c.req.path,
        status,
        ms: Math.round(seconds * 1e6) / 1000,
      },
      'request',
    );
  });

  const tooLarge = (c: Context<AppEnv>) => {
    // The rest of an oversized body is never read: close the connection instead of draining it.
    c.header('Connection', 'close');
    return fail(
      c,
      413,
      apiError('payload_too_large', `request body must be at most ${MAX_BODY_BYTES} bytes`, 'body'),
    );
  };
  const streamingLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge });
  const requireJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
    const contentType = c.req.header('content-type');
    if (!isJsonContentType(contentType)) {
      const got = contentType === undefined ? 'none' : JSON.stringify(contentType.slice(0, 100));
      return fail(
        c,
        415,
        apiError(
          'unsupported_media_type',
          `Content-Type must be ${JSON_MEDIA_TYPE} (got ${got})`,
          'Content-Type',
        ),
      );
    }
    const length = c.req.header('content-length');
    // Fast path: a declared length is checked without touching the stream (Node enforces it is exact).
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > MAX_BODY_BYTES ? tooLarge(c) : next();
    }
    // Chunked or undeclared: count bytes while reading (hono >= 4.9.7, CVE-2025-59139).
    try {
      return await streamingLimit(c, next);
    } catch {
      return fail(c, 400, apiError('unreadable_body', 'request body could not be read', 'body'));
    }
  };

  const render = (prediction: Prediction, latencyMs: number) =>
    variant === 'v1'
      ? {
          prediction: prediction.label,
          'prediction value': prediction.label,
          version: variant,
          replica: replicaId,
        }
      : {
          prediction: prediction.label,
          'prediction value': prediction.label,
          version: variant,
          replica: replicaId,
          probabilities: prediction.probabilities,
          prediction_proba_dict: prediction.probabilities,
          model,
          latency_ms: latencyMs,
        };

  app.post(API_ROUTES.predict, requireJsonBody, async (c) => {
    let text: string;
    try {
      text = await c.req.text();
    } catch {
      return fail(c, 400, apiError('unreadable_body', 'request body could not be read', 'body'));
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(c, 400, apiError('malformed_json', 'request body is not valid JSON', 'body'));
    }
    const parsed = parsePredictRequest(body);
    if (!parsed.ok) return fail(c, 422, parsed.error);
    const { sentences, batch } = parsed.input;
    const result = await classifier.predict(sentences);
    if (result.firstInCall) metrics.observeInference(result.seconds, result.callSize);
    metrics.countPredictions(result.predictions.map((p) => p.label));
    const latencyMs = Math.round(result.seconds * 1e6) / 1000;
    const items = result.predictions.map((p) => render(p, latencyMs));
    return c.json(batch ? { predictions: items } : items[0]);
  });

  app.get(API_ROUTES.health, (c) => c.json({ status: 'ok' as const }));
  app.get(API_ROUTES.ready, (c) =>
    isAccepting() ? c.json({ status: 'ready' as const }) : c.json({ status: 'draining' as const }, 503),
  );
  app.get(API_ROUTES.metrics, async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  registerOpenApi(app, variant);
  let openApiDocument: string | undefined;
  app.get(API_ROUTES.openapi, (c) => {
    openApiDocument ??= JSON.stringify(
      app.getOpenAPI31Document({
        openapi: '3.1.0',
        info: {
          title: `sentiment-gateway prediction API (${variant})`,
          version: variant,
          description: 'Emotion classification of short English texts, served from an ONNX model.',
        },
      }),
    );
    c.header('Content-Type', 'application/json');
    return c.body(openApiDocument);
  });
  app.get(
    API_ROUTES.docs,
    swaggerUI({ url: API_ROUTES.openapi, title: `sentiment-gateway API (${variant})` }),
  );

  // Registered after the real handlers, so they only answer methods those did not.
  for (const route of ROUTES) {
    const allow = route === API_ROUTES.predict ? 'POST' : 'GET, HEAD';
    app.all(route, (c) => {
      c.header('Allow', allow);
      return fail(
        c,
        405,
        apiError(
          'method_not_allowed',
          `${c.req.method} is not allowed on ${route} (allowed: ${allow})`,
          'method',
        ),
      );
    });
  }
  app.notFound((c) =>
    fail(
      c,
      404,
      apiError('not_found', `no route matches ${JSON.stringify(c.req.path.slice(0, 200))}`, 'path'),
    ),
  );
  app.onError((error, c) => {
    logger.error({ err: error, reqId: c.get('requestId') }, 'unhandled error');
    return fail(c, 500, apiError('internal_error', 'internal server error'));
  });
  return app;
}
