import { Registry } from 'prom-client';
import { UNMATCHED_ROUTE, createMetrics } from '../../../services/api/src/metrics';

const model = { name: 'm', sha256: 'ab'.repeat(32), labels: ['joy', 'anger'] };

function setup() {
  const registry = new Registry();
  const metrics = createMetrics({ registry, model, routes: ['/predict', '/health'], collectDefault: false });
  return { registry, metrics };
}

describe('createMetrics', () => {
  it('registers exactly the API families on the given registry', async () => {
    const { registry } = setup();
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name).sort();
    expect(names).toEqual([
      'http_request_duration_seconds',
      'http_requests_total',
      'inference_batch_size',
      'inference_duration_seconds',
      'model_info',
      'predictions_total',
    ]);
  });

  it('labels a known route by its pattern and any other route, or odd method, with one fixed value', async () => {
    const { registry, metrics } = setup();
    metrics.observeRequest('POST', '/predict', 200, 0.002);
    for (const route of ['*', '/*', '/wp-admin', '']) metrics.observeRequest('GET', route, 404, 0.0001);
    metrics.observeRequest('PROPFIND', '/health', 405, 0.0001);
    const text = await registry.metrics();
    expect(text).toContain('http_requests_total{method="POST",route="/predict",status="200"} 1');
    expect(text).toContain(`http_requests_total{method="GET",route="${UNMATCHED_ROUTE}",status="404"} 4`);
    expect(text).toContain('http_requests_total{method="OTHER",route="/health",status="405"} 1');
    expect(text).not.toContain('wp-admin');
  });

  it('uses latency buckets from half a millisecond to one second', async () => {
    const { registry, metrics } = setup();
    metrics.observeRequest('GET', '/health', 200, 0.0003);
    const text = await registry.metrics();
    const buckets = [...text.matchAll(/http_request_duration_seconds_bucket\{le="([^"]+)"/g)].map(
      (m) => m[1],
    );
    expect(buckets[0]).toBe('0.0005');
    expect(buckets).toContain('1');
    expect(text).toMatch(
      /http_request_duration_seconds_bucket\{le="0.0005",method="GET",route="\/health",status="200"\} 1/,
    );
  });

  it('records an inference call with its size, and each predicted label', async () => {
    const { registry, metrics } = setup();
    metrics.observeInference(0.0004, 3);
    metrics.countPredictions(['joy', 'joy', 'anger']);
    const text = await registry.metrics();
    expect(text).toContain('inference_duration_seconds_count 1');
    expect(text).toContain('inference_duration_seconds_bucket{le="0.0005"} 1');
    expect(text).toContain('inference_batch_size_bucket{le="2"} 0');
    expect(text).toContain('inference_batch_size_bucket{le="4"} 1');
    expect(text).toContain('predictions_total{label="joy"} 2');
    expect(text).toContain('predictions_total{label="anger"} 1');
    expect(text).toContain(`model_info{model="m",sha256="${model.sha256}",labels="joy,anger"} 1`);
  });
});
