/**
 * Every dashboard panel query and every alert expression is valid PromQL for the real Prometheus:
 * each is run as an instant query against a real (empty) Prometheus, which answers 400 to a query
 * it cannot parse. Whether the queries return data is proven by the local-stack test.
 */
import path from 'node:path';
import { stringify } from 'yaml';
import {
  DASHBOARDS,
  buildDashboard,
  expandGrafanaVariables,
  panelQueries,
} from '../../../deployments/grafana/dashboards';
import { resolveGrafanaSettings } from '../../../deployments/grafana/settings';
import { alertRules } from '../../../deployments/prometheus/rules';
import { resolveAlertRuleSettings } from '../../../deployments/prometheus/settings';
import { type Proc, answers200, freeTcpPort, put, startProcess, tempDir } from './helpers';

jest.setTimeout(60_000);

let prometheus: Proc;
let base: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  let dir: string;
  ({ dir, cleanup } = await tempDir('sg-promql'));
  const port = await freeTcpPort();
  base = `http://127.0.0.1:${port}`;
  const config = await put(
    dir,
    'prometheus.yml',
    stringify({ global: { scrape_interval: '1m' }, scrape_configs: [] }),
  );
  prometheus = await startProcess(
    'prometheus',
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    () => answers200(`${base}/-/ready`),
  );
});

afterAll(async () => {
  await prometheus?.stop();
  await cleanup();
});

async function query(expr: string): Promise<{ status: number; body: { status: string; error?: string } }> {
  const response = await fetch(`${base}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query: expr }),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: (await response.json()) as { status: string; error?: string } };
}

const settings = resolveGrafanaSettings();
const panelCases = DASHBOARDS.flatMap((spec) =>
  panelQueries(buildDashboard(spec, settings)).map(
    (q) => [`${spec.file} "${q.panelTitle}" ${q.refId}`, q.expr] as const,
  ),
);
const ruleCases = alertRules(resolveAlertRuleSettings()).map((r) => [r.alert, r.expr] as const);

test.each([...panelCases, ...ruleCases])('Prometheus parses %s', async (_name, expr) => {
  const result = await query(expandGrafanaVariables(expr, { rateInterval: '1m', range: '1h' }));
  expect({ expr, status: result.status, error: result.body.error }).toEqual({
    expr,
    status: 200,
    error: undefined,
  });
  expect(result.body.status).toBe('success');
});

test('Prometheus rejects a malformed query with 400 (the check can fail)', async () => {
  const result = await query('sum by (route (rate(x[1m]))');
  expect(result.status).toBe(400);
  expect(result.body.status).toBe('error');
});
