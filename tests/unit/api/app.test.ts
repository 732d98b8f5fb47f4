/** @jest-environment ./tests/unit/api/onnx-environment.ts */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { Registry } from 'prom-client';
import {
  API_ROUTES,
  API_VERSION_HEADER,
  REQUEST_ID_HEADER,
  type ApiVariant,
} from '../../../deployments/names';
import { createApp, type AppOptions } from '../../../services/api/src/app';
import { loadClassifier, type Classifier, type OnnxClassifier } from '../../../services/api/src/classifier';
import { MAX_BATCH_SIZE, MAX_BODY_BYTES, MAX_SENTENCE_CHARS } from '../../../services/api/src/schemas';
import { DEFAULT_MODEL_PATH } from '../../../services/api/src/settings';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const JSON_TYPE = { 'content-type': 'application/json' };

interface PredictionBody {
  prediction: string;
  'prediction value': string;
  version: string;
  replica: string;
  probabilities: Record<string, number>;
  prediction_proba_dict: Record<string, number>;
  model: { name: string; sha256: string; labels: string[]; label_count: number };
  latency_ms: number;
}
interface BatchBody {
  predictions: PredictionBody[];
}
interface ErrorBody {
  error: { code: string; message: string; field: string | null; requestId: string };
}
interface SchemaObject {
  description?: string;
  required?: string[];
  properties: Record<string, SchemaObject>;
}
interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody: unknown }>>;
  components: { schemas: Record<string, SchemaObject> };
}

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

let classifier: OnnxClassifier;
beforeAll(async () => {
  classifier = await loadClassifier(DEFAULT_MODEL_PATH);
});
afterAll(() => classifier.close());

function makeApp(variant: ApiVariant, extra: Partial<AppOptions> = {}) {
  const registry = new Registry();
  const app = createApp({
    variant,
    classifier,
    replicaId: 'test-replica',
    registry,
    collectDefaultMetrics: false,
    ...extra,
  });
  return { app, registry };
}

type App = ReturnType<typeof makeApp>['app'];

const post = (app: App, body: unknown, headers: Record<string, string> = JSON_TYPE) =>
  app.request(API_ROUTES.predict, { method: 'POST', headers, body: JSON.stringify(body) });

/** A request whose body is streamed in chunks without Content-Length, as a chunked upload arrives. */
function streamedRequest(text: string, chunkBytes = 8192): Request {
  const bytes = new TextEncoder().encode(text);
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(sent, sent + chunkBytes));
      sent += chunkBytes;
    },
  });
  return new Request(`http://localhost${API_ROUTES.predict}`, {
    method: 'POST',
    headers: JSON_TYPE,
    body,
    duplex: 'half',
  } as RequestInit);
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as {
    value: number;
    labels: Record<string, string | number>;
    metricName?: string;
  }[];
  const match = values.find(
    (v) =>
      (v.metricName === undefined || v.metricName === name || v.metricName === `${name}_count`) &&
      Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val),
  );
  return match?.value ?? 0;
}

describe.each(API_VARIANTS())('POST /predict on %s', (variant) => {
  it('answers one sentence with the prediction, its compatibility alias, version and replica', async () => {
    const { app } = makeApp(variant);
    const res = await post(app, { sentence: 'I love this!' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get(API_VERSION_HEADER)).toBe(variant);
    const body = await json<PredictionBody>(res);
    expect(body.prediction).toBe('love');
    expect(body['prediction value']).toBe(body.prediction);
    expect(body.version).toBe(variant);
    expect(body.replica).toBe('test-replica');
    if (variant === 'v1') {
      expect(Object.keys(body)).toEqual(['prediction', 'prediction value', 'version', 'replica']);
    } else {
      const labels = [...classifier.info.labels];
      expect(Object.keys(body.probabilities)).toEqual(labels);
      const total = Object.values(body.probabilities).reduce((a, b) => a + b, 0);
      expect(total).toBeCloseTo(1, 5);
      expect(body.prediction_proba_dict).toEqual(body.probabilities);
      expect(Math.max(...Object.values(body.probabilities))).toBe(body.probabilities[body.prediction]);
      expect(body.model).toEqual({
        name: 'sentiment',
        sha256: createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex'),
        labels,
        label_count: labels.length,
      });
      expect(body.latency_ms).toBeGreaterThan(0);
      expect(body.latency_ms).toBeLessThan(1000);
    }
  });

  it('merges concurrent requests into one inference call, recorded once with its size', async () => {
    const { app, registry } = makeApp(variant);
    const sentences = ['I love this!', 'worst day ever', 'see you tomorrow', 'I miss you so much', 'ok'];
    const responses = await Promise.all(sentences.map((sentence) => post(app, { sentence })));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await metricValue(registry, 'inference_duration_seconds')).toBe(1);
    const text = await registry.metrics();
    expect(text).toContain('inference_batch_size_sum 5');
    const counted = [...text.matchAll(/^predictions_total\{label="[^"]+"\} (\d+)$/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(counted).toBe(5);
  });

  it('answers a batch in request order with one inference call', async () => {
    const { app, registry } = makeApp(variant);
    const sentences = ['I love this!', 'worst day ever', 'see you tomorrow', 'I miss you so much'];
    const singles = await Promise.all(
      sentences.map(
        async (sentence) => (await json<PredictionBody>(await post(app, { sentence }))).prediction,
      ),
    );
    const callsBefore = await metricValue(registry, 'inference_duration_seconds');
    const res = await post(app, { sentences });
    expect(res.status).toBe(200);
    const body = await json<BatchBody>(res);
    expect(Object.keys(body)).toEqual(['predictions']);
    expect(body.predictions.map((p) => p.prediction)).toEqual(singles);
    for (const p of body.predictions) {
      expect(p.version).toBe(variant);
      expect(p['prediction value']).toBe(p.prediction);
      if (variant === 'v2') expect(p.prediction_proba_dict).toEqual(p.probabilities);
    }
    expect(await metricValue(registry, 'inference_duration_seconds')).toBe(callsBefore + 1);
  });

  it(`accepts the largest batch (${MAX_BATCH_SIZE}) and a JSON content type with parameters`, async () => {
    const { app } = makeApp(variant);
    const sentences = Array.from({ length: MAX_BATCH_SIZE }, (_, i) => `sentence number ${i}`);
    const res = await post(app, { sentences }, { 'content-type': 'Application/JSON; charset=utf-8' });
    expect(res.status).toBe(200);
    expect((await json<BatchBody>(res)).predictions).toHaveLength(MAX_BATCH_SIZE);
  });
});

describe('request bodies', () => {
  it('accepts a streamed body just under the limit without Content-Length, passing it through intact', async () => {
    const { app } = makeApp('v1');
    const sentence = `${'word '.repeat(180)}end`;
    const body = JSON.stringify({ sentences: Array.from({ length: MAX_BATCH_SIZE }, () => sentence) });
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES - 8192);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    const res = await app.request(streamedRequest(body, 1000));
    expect(res.status).toBe(200);
    expect((await json<BatchBody>(res)).predictions).toHaveLength(MAX_BATCH_SIZE);
  });
});

function API_VARIANTS(): ApiVariant[] {
  return ['v1', 'v2'];
}

interface BadCase {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: RequestInit['body'];
  request?: () => Request;
  status: number;
  code: string;
  field: string | null;
  allow?: string;
}

const BAD_INPUT: BadCase[] = [
  {
    name: 'malformed JSON',
    body: '{"sentence": "unterminated',
    status: 400,
    code: 'malformed_json',
    field: 'body',
  },
  { name: 'an empty body', body: '', status: 400, code: 'malformed_json', field: 'body' },
  {
    name: 'JSON with a trailing comma',
    body: '{"sentence": "a",}',
    status: 400,
    code: 'malformed_json',
    field: 'body',
  },
  {
    name: 'no Content-Type',
    headers: {},
    body: new TextEncoder().encode('{"sentence":"a"}'),
    status: 415,
    code: 'unsupported_media_type',
    field: 'Content-Type',
  },
  {
    name: 'Content-Type text/plain',
    headers: { 'content-type': 'text/plain' },
    body: '{"sentence":"a"}',
    status: 415,
    code: 'unsupported_media_type',
    field: 'Content-Type',
  },
  {
    name: 'Content-Type form-urlencoded',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'sentence=a',
    status: 415,
    code: 'unsupported_media_type',
    field: 'Content-Type',
  },
  { name: 'a missing sentence', body: '{}', status: 422, code: 'missing_field', field: 'sentence' },
  {
    name: 'a misspelt field',
    body: '{"sentense":"hi"}',
    status: 422,
    code: 'missing_field',
    field: 'sentence',
  },
  {
    name: 'a numeric sentence',
    body: '{"sentence":1}',
    status: 422,
    code: 'invalid_type',
    field: 'sentence',
  },
  {
    name: 'a null sentence',
    body: '{"sentence":null}',
    status: 422,
    code: 'invalid_type',
    field: 'sentence',
  },
  {
    name: 'an object sentence',
    body: '{"sentence":{}}',
    status: 422,
    code: 'invalid_type',
    field: 'sentence',
  },
  { name: 'an empty sentence', body: '{"sentence":""}', status: 422, code: 'empty_value', field: 'sentence' },
  {
    name: 'a whitespace sentence',
    body: '{"sentence":"  \\n\\t "}',
    status: 422,
    code: 'empty_value',
    field: 'sentence',
  },
  {
    name: `a sentence over ${MAX_SENTENCE_CHARS} characters`,
    body: JSON.stringify({ sentence: 'a'.repeat(MAX_SENTENCE_CHARS + 1) }),
    status: 422,
    code: 'too_long',
    field: 'sentence',
  },
  { name: 'a JSON array body', body: '["I love this"]', status: 422, code: 'invalid_type', field: 'body' },
  { name: 'a JSON number body', body: '3', status: 422, code: 'invalid_type', field: 'body' },
  {
    name: 'an empty batch',
    body: '{"sentences":[]}',
    status: 422,
    code: 'invalid_batch_size',
    field: 'sentences',
  },
  {
    name: `a batch over ${MAX_BATCH_SIZE}`,
    body: JSON.stringify({ sentences: Array.from({ length: MAX_BATCH_SIZE + 1 }, () => 'x') }),
    status: 422,
    code: 'invalid_batch_size',
    field: 'sentences',
  },
  {
    name: 'a batch that is a string',
    body: '{"sentences":"a"}',
    status: 422,
    code: 'invalid_type',
    field: 'sentences',
  },
  {
    name: 'a blank batch item',
    body: '{"sentences":["a"," "]}',
    status: 422,
    code: 'empty_value',
    field: 'sentences[1]',
  },
  {
    name: 'both sentence and sentences',
    body: '{"sentence":"a","sentences":["b"]}',
    status: 422,
    code: 'conflicting_fields',
    field: 'sentences',
  },
  {
    name: 'a declared Content-Length over 64 KiB',
    headers: { ...JSON_TYPE, 'content-length': String(MAX_BODY_BYTES + 1) },
    body: 'x'.repeat(MAX_BODY_BYTES + 1),
    status: 413,
    code: 'payload_too_large',
    field: 'body',
  },
  {
    name: 'a streamed body over 64 KiB without Content-Length',
    request: () => streamedRequest('a'.repeat(MAX_BODY_BYTES + 1)),
    status: 413,
    code: 'payload_too_large',
    field: 'body',
  },
  { name: 'an unknown route', method: 'GET', path: '/nope', status: 404, code: 'not_found', field: 'path' },
  {
    name: 'a sub-path of /predict',
    path: '/predict/x',
    body: '{}',
    status: 404,
    code: 'not_found',
    field: 'path',
  },
  {
    name: 'an upper-case route',
    path: '/PREDICT',
    body: '{}',
    status: 404,
    code: 'not_found',
    field: 'path',
  },
  {
    name: 'GET /predict',
    method: 'GET',
    status: 405,
    code: 'method_not_allowed',
    field: 'method',
    allow: 'POST',
  },
  {
    name: 'PUT /predict',
    method: 'PUT',
    body: '{}',
    status: 405,
    code: 'method_not_allowed',
    field: 'method',
    allow: 'POST',
  },
  {
    name: 'POST /health',
    path: API_ROUTES.health,
    body: '{}',
    status: 405,
    code: 'method_not_allowed',
    field: 'method',
    allow: 'GET, HEAD',
  },
  {
    name: 'DELETE /metrics',
    method: 'DELETE',
    path: API_ROUTES.metrics,
    status: 405,
    code: 'method_not_allowed',
    field: 'method',
    allow: 'GET, HEAD',
  },
];

describe.each(API_VARIANTS())(
  'bad input on %s: a JSON error naming what is wrong, never a 5xx',
  (variant) => {
    let app: App;
    let registry: Registry;
    beforeAll(() => ({ app, registry } = makeApp(variant)));

    it.each(BAD_INPUT)('$name -> $status $code', async (bad) => {
      const request =
        bad.request?.() ??
        new Request(`http://localhost${bad.path ?? API_ROUTES.predict}`, {
          method: bad.method ?? 'POST',
          headers: bad.headers ?? JSON_TYPE,
          body: bad.body,
        });
      const res = await app.request(request);
      expect(res.status).toBe(bad.status);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get(API_VERSION_HEADER)).toBe(variant);
      expect(res.headers.get(REQUEST_ID_HEADER)).toMatch(UUID);
      if (bad.allow) expect(res.headers.get('allow')).toBe(bad.allow);
      const body = await json<ErrorBody>(res);
      expect(body).toEqual({
        error: {
          code: bad.code,
          message: expect.any(String),
          field: bad.field,
          requestId: res.headers.get(REQUEST_ID_HEADER),
        },
      });
      expect(body.error.message.length).toBeGreaterThan(5);
    });

    it('never ran an inference for any of them', async () => {
      expect(await metricValue(registry, 'inference_duration_seconds')).toBe(0);
    });
  },
);

describe('request correlation and the access log', () => {
  it('echoes a caller X-Request-ID and generates one otherwise, or when the caller sends junk', async () => {
    const { app } = makeApp('v1');
    const echoed = await app.request(API_ROUTES.health, {
      headers: { [REQUEST_ID_HEADER]: 'gw-1234.abc:9' },
    });
    expect(echoed.headers.get(REQUEST_ID_HEADER)).toBe('gw-1234.abc:9');
    const generated = await app.request(API_ROUTES.health);
    expect(generated.headers.get(REQUEST_ID_HEADER)).toMatch(UUID);
    for (const junk of ['has space', 'x'.repeat(129), 'quote"d', '']) {
      const res = await app.request(API_ROUTES.health, { headers: { [REQUEST_ID_HEADER]: junk } });
      expect(res.headers.get(REQUEST_ID_HEADER)).toMatch(UUID);
    }
  });

  it('writes one structured JSON line per request with its id, method, path, status and duration', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { app } = makeApp('v2', { logger });
    await post(app, { sentence: 'hello there' }, { ...JSON_TYPE, [REQUEST_ID_HEADER]: 'req-1' });
    await app.request('/missing', { headers: { [REQUEST_ID_HEADER]: 'req-2' } });
    await post(app, { sentence: '' }, { ...JSON_TYPE, [REQUEST_ID_HEADER]: 'req-3' });
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries).toHaveLength(3);
    expect(entries.map((e) => [e.reqId, e.method, e.path, e.status, e.msg])).toEqual([
      ['req-1', 'POST', '/predict', 200, 'request'],
      ['req-2', 'GET', '/missing', 404, 'request'],
      ['req-3', 'POST', '/predict', 422, 'request'],
    ]);
    for (const e of entries) expect(e.ms).toBeGreaterThanOrEqual(0);
  });
});

describe('an unexpected classifier failure', () => {
  // A stub is the point here: the real model does not fail on demand.
  const failing: Classifier = {
    info: { name: 'stub', sha256: '0'.repeat(64), labels: ['a', 'b'] },
    predict: () => Promise.reject(new Error('onnx session exploded at /secret/path/model.onnx')),
  };

  it('becomes a logged 500 carrying the request id, without internals in the body', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const { app, registry } = makeApp('v1', { classifier: failing, logger });
    const res = await post(app, { sentence: 'hi' }, { ...JSON_TYPE, [REQUEST_ID_HEADER]: 'trace-500' });
    expect(res.status).toBe(500);
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe('trace-500');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      error: {
        code: 'internal_error',
        message: 'internal server error',
        field: null,
        requestId: 'trace-500',
      },
    });
    expect(text).not.toMatch(/secret|onnx|exploded/);
    const errorLine = lines.map((l) => JSON.parse(l)).find((e) => e.level === 50);
    expect(errorLine).toMatchObject({ reqId: 'trace-500', msg: 'unhandled error' });
    expect(errorLine.err.message).toMatch(/exploded/);
    expect(await metricValue(registry, 'http_requests_total', { route: '/predict', status: '500' })).toBe(1);
  });
});

describe('health, readiness, docs', () => {
  it('GET /health answers ok, and HEAD /health answers without a body', async () => {
    const { app } = makeApp('v1');
    const res = await app.request(API_ROUTES.health);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    const head = await app.request(API_ROUTES.health, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('GET /ready is ready with a loaded model, and 503 with Connection: close while draining', async () => {
    let accepting = true;
    const { app } = makeApp('v2', { isAccepting: () => accepting });
    const ready = await app.request(API_ROUTES.ready);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect(ready.headers.get('connection')).toBeNull();
    accepting = false;
    const draining = await app.request(API_ROUTES.ready);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ status: 'draining' });
    expect(draining.headers.get('connection')).toBe('close');
    const predict = await post(app, { sentence: 'still served while draining' });
    expect(predict.status).toBe(200);
    expect(predict.headers.get('connection')).toBe('close');
  });

  it.each(API_VARIANTS())(
    'GET /openapi.json documents every route and the %s response with its aliases',
    async (variant) => {
      const { app } = makeApp(variant);
      const res = await app.request(API_ROUTES.openapi);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const doc = await json<OpenApiDoc>(res);
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths).sort()).toEqual(
        [API_ROUTES.predict, API_ROUTES.health, API_ROUTES.ready, API_ROUTES.metrics].sort(),
      );
      const predict = doc.paths[API_ROUTES.predict]!.post!;
      expect(Object.keys(predict.responses).sort()).toEqual(['200', '400', '413', '415', '422']);
      expect(JSON.stringify(predict.requestBody)).toMatch(/SinglePredictRequest.*BatchPredictRequest/);
      const schemas = doc.components.schemas;
      const prediction = schemas[`Prediction${variant.toUpperCase()}`]!;
      expect(prediction.properties['prediction value']!.description).toMatch(
        /[Cc]ompatibility alias of `prediction`/,
      );
      if (variant === 'v2') {
        expect(prediction.properties.prediction_proba_dict!.description).toMatch(/alias of `probabilities`/);
        expect(prediction.required).toEqual(expect.arrayContaining(['probabilities', 'model', 'latency_ms']));
      } else {
        expect(prediction.properties.probabilities).toBeUndefined();
      }
      expect(schemas.Error!.properties.error!.required).toEqual(['code', 'message', 'field', 'requestId']);
    },
  );

  it('GET /docs serves Swagger UI pointing at /openapi.json', async () => {
    const { app } = makeApp('v1');
    const res = await app.request(API_ROUTES.docs);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/SwaggerUIBundle/);
    expect(html).toContain(`url: '${API_ROUTES.openapi}'`);
  });
});

describe('GET /metrics', () => {
  const scrape = async (app: App) => {
    const res = await app.request(API_ROUTES.metrics);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('counts requests by method, route pattern and status, collapsing unknown paths to one series', async () => {
    const { app } = makeApp('v1');
    await post(app, { sentence: 'I love this!' });
    await post(app, { sentence: '' });
    await app.request('/a');
    await app.request('/b/c?d=e');
    await app.request(`/${'x'.repeat(300)}`);
    await app.request(API_ROUTES.predict);
    const text = await scrape(app);
    expect(text).toContain('http_requests_total{method="POST",route="/predict",status="200"} 1');
    expect(text).toContain('http_requests_total{method="POST",route="/predict",status="422"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="unmatched",status="404"} 3');
    expect(text).toContain('http_requests_total{method="GET",route="/predict",status="405"} 1');
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.0005",method="POST",route="\/predict",status="200"\} [01]/,
    );
    expect(text).not.toMatch(/route="\/(a|b|x)/);
  });

  it('counts predictions by label (every label starts at 0) and inference calls', async () => {
    const { app } = makeApp('v2');
    const before = await scrape(app);
    for (const label of classifier.info.labels)
      expect(before).toContain(`predictions_total{label="${label}"} 0`);
    await post(app, { sentences: ['I love this!', 'I love this!', 'I love this!'] });
    const after = await scrape(app);
    expect(after).toContain('predictions_total{label="love"} 3');
    expect(after).toContain('inference_duration_seconds_count 1');
  });

  it('exposes model_info with the model name, file sha256 and labels', async () => {
    const { app } = makeApp('v1');
    const sha256 = createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex');
    const text = await scrape(app);
    expect(text).toContain(
      `model_info{model="sentiment",sha256="${sha256}",labels="${classifier.info.labels.join(',')}"} 1`,
    );
  });

  it('carries no replica or version label (Prometheus attaches those as target labels)', async () => {
    const { app } = makeApp('v2');
    await post(app, { sentence: 'hi' });
    const text = await scrape(app);
    expect(text).not.toMatch(/[{,](replica|version)="/);
  });

  it('includes process metrics by default, in a registry of its own per app', async () => {
    const one = makeApp('v1', { collectDefaultMetrics: true });
    const two = makeApp('v1', { collectDefaultMetrics: true });
    await post(one.app, { sentence: 'only on the first app' });
    const first = await scrape(one.app);
    const second = await scrape(two.app);
    expect(first).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(first).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect(first).toContain('http_requests_total{method="POST",route="/predict",status="200"} 1');
    expect(second).not.toContain('route="/predict",status="200"');
  });
});

describe('createApp', () => {
  it.each([
    [{ variant: 'v3' as ApiVariant }, /variant must be one of v1, v2/],
    [{ replicaId: '' }, /replicaId must be a non-empty string/],
    [{ classifier: {} as Classifier }, /classifier must be a loaded Classifier/],
  ])('rejects invalid options %#', (override, message) => {
    expect(() => createApp({ variant: 'v1', classifier, replicaId: 'r', ...override })).toThrow(message);
  });
});
