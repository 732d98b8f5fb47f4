import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ModelInfo } from './classifier';

/** Route label of every request that matched no route, so unknown paths cannot explode cardinality. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Where the metrics are registered; tests pass a fresh one. */
  registry: Registry;
  model: ModelInfo;
  /** Route patterns served; any other route label becomes {@link UNMATCHED_ROUTE}. */
  routes: readonly string[];
  /** Register prom-client's process and Node.js metrics (default true). */
  collectDefault?: boolean;
}

/** The API's instruments. Label sets carry no replica/version: Prometheus adds those as target labels. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** Counts and times one finished HTTP request. */
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** Records one inference call: its duration and number of sentences. */
  observeInference(seconds: number, sentences: number): void;
  /** Counts one request's predictions by label. */
  countPredictions(labels: readonly string[]): void;
}

// Sub-millisecond to one second: a warm prediction takes well under 1 ms, a loaded replica tens of ms.
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const INFERENCE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/**
 * Registers the API's metrics on the given registry: http_requests_total, http_request_duration_seconds,
 * predictions_total, inference_duration_seconds, inference_batch_size, model_info and (by default)
 * process metrics.
 */
export function createMetrics(options: MetricsOptions): ApiMetrics {
  const { registry, model, routes } = options;
  const knownRoutes = new Set(routes);
  if (options.collectDefault ?? true) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving a request to producing its response, by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [registry],
  });
  const predictions = new Counter({
    name: 'predictions_total',
    help: 'Predictions served, by predicted label.',
    labelNames: ['label'] as const,
    registers: [registry],
  });
  const inferenceDuration = new Histogram({
    name: 'inference_duration_seconds',
    help: 'Duration of one ONNX inference call (one sentence, a batch, or concurrent requests merged).',
    buckets: INFERENCE_BUCKETS,
    registers: [registry],
  });
  const inferenceBatchSize = new Histogram({
    name: 'inference_batch_size',
    help: 'Sentences per ONNX inference call (concurrent requests are merged into one call).',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const modelInfo = new Gauge({
    name: 'model_info',
    help: 'The loaded model: name, sha256 of the file, and labels in column order. Always 1.',
    labelNames: ['model', 'sha256', 'labels'] as const,
    registers: [registry],
  });
  modelInfo.set({ model: model.name, sha256: model.sha256, labels: model.labels.join(',') }, 1);
  // Zero series for every label, so rate() and label-share panels work before the first prediction.
  for (const label of model.labels) predictions.inc({ label }, 0);

  // Only methods a client can send legitimately; anything else shares one label value.
  const methods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

  return {
    registry,
    observeRequest(method, route, status, seconds) {
      const labels = {
        method: methods.has(method) ? method : 'OTHER',
        route: knownRoutes.has(route) ? route : UNMATCHED_ROUTE,
        status: String(status),
      };
      requests.inc(labels);
      requestDuration.observe(labels, seconds);
    },
    observeInference(seconds, sentences) {
      inferenceDuration.observe(seconds);
      inferenceBatchSize.observe(sentences);
    },
    countPredictions(labels) {
      for (const label of labels) predictions.inc({ label });
    },
  };
}
