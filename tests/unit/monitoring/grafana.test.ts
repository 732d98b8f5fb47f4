import { parse } from 'yaml';
import {
  DASHBOARDS,
  buildDashboard,
  expandGrafanaVariables,
  panelQueries,
  renderDashboard,
} from '../../../deployments/grafana/dashboards';
import {
  renderGrafanaDashboardProvider,
  renderGrafanaDatasources,
} from '../../../deployments/grafana/provisioning';
import { GRAFANA_UIDS, resolveGrafanaSettings } from '../../../deployments/grafana/settings';

const settings = resolveGrafanaSettings();

interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource: { type: string; uid: string } }[];
}

describe('Grafana provisioning', () => {
  test('provisions Prometheus as the default datasource under its fixed uid', () => {
    const file = parse(renderGrafanaDatasources(settings));
    expect(file.apiVersion).toBe(1);
    expect(file.datasources[0]).toEqual({
      name: 'Prometheus',
      type: 'prometheus',
      uid: GRAFANA_UIDS.prometheusDatasource,
      access: 'proxy',
      url: 'http://prometheus:9090',
      isDefault: true,
      editable: false,
      jsonData: { timeInterval: '15s', httpMethod: 'POST' },
    });
    expect(file.datasources[1]).toMatchObject({
      type: 'alertmanager',
      uid: GRAFANA_UIDS.alertmanagerDatasource,
      url: 'http://alertmanager:9093',
    });
  });

  test('the scrape interval and URLs follow the settings; no Alertmanager datasource when its URL is null', () => {
    const file = parse(
      renderGrafanaDatasources(
        resolveGrafanaSettings({
          prometheusUrl: 'http://127.0.0.1:9999',
          scrapeInterval: '1s',
          alertmanagerUrl: null,
        }),
      ),
    );
    expect(file.datasources).toHaveLength(1);
    expect(file.datasources[0]).toMatchObject({
      url: 'http://127.0.0.1:9999',
      jsonData: { timeInterval: '1s' },
    });
  });

  test('the dashboard provider reads the dashboards directory, read-only', () => {
    const file = parse(
      renderGrafanaDashboardProvider(resolveGrafanaSettings({ dashboardsPath: '/etc/dash', folder: 'SG' })),
    );
    expect(file.providers).toEqual([
      {
        name: 'sentiment-gateway',
        orgId: 1,
        folder: 'SG',
        type: 'file',
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 30,
        options: { path: '/etc/dash', foldersFromFilesStructure: false },
      },
    ]);
  });
});

describe('dashboards', () => {
  test('two dashboards with fixed, distinct uids and files', () => {
    expect(DASHBOARDS.map((d) => [d.uid, d.file])).toEqual([
      [GRAFANA_UIDS.gatewayDashboard, 'gateway.json'],
      [GRAFANA_UIDS.apiDashboard, 'api-model.json'],
    ]);
  });

  describe.each(DASHBOARDS.map((d) => [d.title, d] as const))('%s', (_title, spec) => {
    const text = renderDashboard(spec, settings);
    const json = JSON.parse(text) as { uid: string; title: string; id?: unknown; panels: PanelJson[] };
    const panels = json.panels.filter((p) => p.type !== 'row');

    test('is valid JSON with its fixed uid, no numeric id, and no ${DS_…} import placeholder', () => {
      expect(json.uid).toBe(spec.uid);
      expect(json.title).toBe(spec.title);
      expect(json.id).toBeUndefined();
      expect(text).not.toContain('${DS_');
      expect(text).not.toContain('__inputs');
    });

    test('every panel has a query, and every panel and query uses the fixed Prometheus datasource uid', () => {
      expect(panels.length).toBeGreaterThanOrEqual(5);
      for (const p of panels) {
        expect({ title: p.title, datasource: p.datasource }).toEqual({
          title: p.title,
          datasource: { type: 'prometheus', uid: GRAFANA_UIDS.prometheusDatasource },
        });
        expect(p.targets?.length ?? 0).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.expr.trim()).not.toBe('');
          expect(t.datasource).toEqual({ type: 'prometheus', uid: GRAFANA_UIDS.prometheusDatasource });
        }
      }
    });

    test('panel ids are unique and refIds are unique within each panel', () => {
      const ids = json.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of panels) {
        const refIds = (p.targets ?? []).map((t) => t.refId);
        expect(refIds.every((r) => /^[A-Z]$/.test(r))).toBe(true);
        expect(new Set(refIds).size).toBe(refIds.length);
      }
    });

    test('panels fit the 24-column grid without overlapping', () => {
      const cells = new Set<string>();
      for (const p of json.panels) {
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
          for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
            expect(cells.has(`${x},${y}`)).toBe(false);
            cells.add(`${x},${y}`);
          }
        }
      }
    });

    test('panelQueries lists exactly the targets of the JSON', () => {
      const queries = panelQueries(buildDashboard(spec, settings));
      expect(queries.map((q) => [q.panelId, q.refId, q.expr])).toEqual(
        panels.flatMap((p) => (p.targets ?? []).map((t) => [p.id, t.refId, t.expr])),
      );
    });
  });

  test('the Gateway dashboard shows connections, request rate, accepted vs handled and 429s', () => {
    const exprs = panelQueries(buildDashboard(DASHBOARDS[0]!, settings))
      .map((q) => q.expr)
      .join('\n');
    for (const metric of [
      'nginx_connections_active',
      'nginx_http_requests_total',
      'nginx_connections_accepted',
      'nginx_connections_handled',
      'status="429"',
    ]) {
      expect(exprs).toContain(metric);
    }
  });

  test('the API & model dashboard shows replicas, versions, quantiles, errors, predictions and model info', () => {
    const exprs = panelQueries(buildDashboard(DASHBOARDS[1]!, settings))
      .map((q) => q.expr)
      .join('\n');
    for (const part of [
      'sum by (replica)',
      'sum by (version)',
      'histogram_quantile(0.5,',
      'histogram_quantile(0.95,',
      'histogram_quantile(0.99,',
      'status=~"5.."',
      'predictions_total',
      'model_info',
    ]) {
      expect(exprs).toContain(part);
    }
  });

  test('alert thresholds are drawn on the matching panels', () => {
    const custom = resolveGrafanaSettings({ alerts: { gateway5xxRatio: { threshold: 0.07 } } });
    const json = JSON.parse(renderDashboard(DASHBOARDS[0]!, custom)) as {
      panels: {
        title: string;
        fieldConfig?: { defaults?: { thresholds?: { steps: { value: number | null }[] } } };
      }[];
    };
    const panel = json.panels.find((p) => p.title === '5xx ratio');
    expect(panel?.fieldConfig?.defaults?.thresholds?.steps.map((s) => s.value)).toEqual([null, 0.07]);
  });

  test('expandGrafanaVariables replaces the rate and range windows', () => {
    expect(
      expandGrafanaVariables('rate(x[$__rate_interval]) + increase(y[$__range])', {
        rateInterval: '30s',
        range: '1h',
      }),
    ).toBe('rate(x[30s]) + increase(y[1h])');
  });
});
