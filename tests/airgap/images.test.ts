/**
 * The images `npm run airgap:images` built, run the way the Pulumi program runs them: same command
 * and flags, users, capabilities, read-only roots, memory limits, the uploaded config the renderers
 * produce, data volumes, and each healthcheck command. One user-defined network holds the whole
 * stack under the program's aliases (the program splits it into edge and backend networks, which this
 * test does not reproduce). Traffic goes only to 127.0.0.1 and to these containers.
 *
 * Not proven here: Pulumi itself (tests/infra mocks it), Grafana (no image can be made offline), or the
 * official images' behaviour (this checks ours against the program's expectations).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path, { posix } from 'node:path';
import { mtailArgs } from '../../deployments/gateway-metrics/program';
import { httpRequest } from '../../deployments/local/http-client';
import { pollUntil } from '../../deployments/local/readiness';
import { createLocalTls } from '../../deployments/local/tls';
import { MONITORING_FILES, renderMonitoringFiles } from '../../deployments/monitoring/files';
import { API_ROUTES, GATEWAY_FILES, GATEWAY_PATHS, PORTS, SERVICE } from '../../deployments/names';
import { renderNginxConf, resolveNginxSettings } from '../../deployments/nginx';
import { htpasswdLine } from '../../deployments/nginx/htpasswd';
import { gatewayNginxSettings } from '../../infra/gateway';
import { dockerMonitoringSettings } from '../../infra/monitoring';
import type { ImagesManifest } from '../../airgap/images/manifest';
import { builtImages, docker, dockerExec, publishedPort, Scope, untilExecPasses } from './harness';
import type { Upload } from './uploads';

const HARDENING = ['--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true'];
const wgetProbe = (port: number, route: string) => [
  'wget',
  '-q',
  '-O',
  '/dev/null',
  `http://127.0.0.1:${port}${route}`,
];
/** The API replicas' healthcheck (infra/api-fleet.ts READY_CHECK). */
const API_READY = [
  'node',
  '-e',
  `fetch('http://127.0.0.1:${PORTS.api}${API_ROUTES.ready}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
];
const USER = 'api';
const PASSWORD = randomBytes(24).toString('base64url');
const V1 = `${SERVICE.apiV1}-1`;

const scope = new Scope();
let images: ImagesManifest['images'];
let tlsDir: string;
let caCertPem: string;
let names: Record<'v1' | 'v2' | 'gateway' | 'exporter' | 'prometheus' | 'alertmanager' | 'mtail', string>;
let apiPort: number;
let gatewayPort: number;

/** Runs one API replica as infra/api-fleet.ts does: env, read-only root, tmpfs /tmp, no capabilities. */
async function apiReplica(
  network: string,
  variant: 'v1' | 'v2',
  host: string,
  service: string,
): Promise<string> {
  return scope.run(
    host,
    [
      '--network',
      network,
      '--network-alias',
      host,
      '--network-alias',
      service,
      '--env',
      `PORT=${PORTS.api}`,
      '--env',
      `API_VARIANT=${variant}`,
      '--env',
      `REPLICA_ID=${host}`,
      '--env',
      'LOG_LEVEL=info',
      '--read-only',
      '--tmpfs',
      '/tmp:rw,noexec,nosuid,size=16m',
      '--memory',
      '256m',
      ...HARDENING,
      '--publish',
      `127.0.0.1::${PORTS.api}`,
    ],
    images.api,
  );
}

beforeAll(async () => {
  images = (await builtImages()).images;
  const network = await scope.network('net');
  tlsDir = await mkdtemp(path.join(tmpdir(), 'airgap-tls-'));
  const tls = await createLocalTls(tlsDir, { hosts: ['localhost', '127.0.0.1'], reuseCa: false });
  caCertPem = tls.caCertPem;

  const v1 = await apiReplica(network, 'v1', V1, SERVICE.apiV1);
  const v2 = await apiReplica(network, 'v2', SERVICE.apiV2, SERVICE.apiV2);
  await Promise.all([untilExecPasses(v1, API_READY), untilExecPasses(v2, API_READY)]);
  apiPort = await publishedPort(v1, PORTS.api);

  // nginx resolves its upstreams at start: the replicas run first, as in the program.
  const monitoring = dockerMonitoringSettings({
    apiTargets: [
      { address: `${V1}:${PORTS.api}`, replica: V1, version: 'v1' },
      { address: `${SERVICE.apiV2}:${PORTS.api}`, replica: SERVICE.apiV2, version: 'v2' },
    ],
    stackLabel: scope.prefix,
  });
  const logPath = monitoring.gatewayMetrics.logPath;
  const metricsLog = await scope.volume('gateway-metrics-log');
  const conf = renderNginxConf(
    resolveNginxSettings(
      gatewayNginxSettings({
        v1Upstreams: [`${V1}:${PORTS.api}`],
        v2Upstreams: [`${SERVICE.apiV2}:${PORTS.api}`],
        httpsPort: PORTS.gatewayHttps,
        rateLimitPerSecond: 100,
        rateLimitBurst: 100,
        canaryPercent: 0,
        metricsLog: { path: logPath, volumeName: metricsLog },
      }),
    ),
  );
  // The Gateway's uploads (infra/gateway.ts): modes and owners included.
  const gatewayUploads: Upload[] = [
    { path: GATEWAY_FILES.conf, content: conf, mode: 0o444 },
    { path: GATEWAY_FILES.certificate, content: await readFile(tls.certPath), mode: 0o444 },
    { path: GATEWAY_FILES.certificateKey, content: await readFile(tls.keyPath), mode: 0o400 },
    {
      path: GATEWAY_FILES.htpasswd,
      content: `${htpasswdLine(USER, PASSWORD, randomBytes(16))}\n`,
      mode: 0o440,
      gid: 101,
    },
  ];
  const gateway = await scope.run(
    'gateway',
    [
      '--network',
      network,
      '--network-alias',
      SERVICE.gateway,
      '--env',
      'NGINX_ENTRYPOINT_QUIET_LOGS=1',
      '--volume',
      `${metricsLog}:${posix.dirname(logPath)}`,
      '--publish',
      `127.0.0.1::${PORTS.gatewayHttps}`,
      '--memory',
      '128m',
      '--cap-drop',
      'ALL',
      // As infra/gateway.ts GATEWAY_CAPABILITIES.
      '--cap-add',
      'CAP_CHOWN',
      '--cap-add',
      'CAP_SETGID',
      '--cap-add',
      'CAP_SETUID',
      '--security-opt',
      'no-new-privileges:true',
    ],
    images.nginx,
    [],
    gatewayUploads,
  );
  gatewayPort = await publishedPort(gateway, PORTS.gatewayHttps);
  await untilExecPasses(gateway, wgetProbe(PORTS.gatewayStatus, GATEWAY_PATHS.stubStatus));

  const exporter = await scope.run(
    'nginx-exporter',
    [
      '--network',
      network,
      '--network-alias',
      SERVICE.nginxExporter,
      '--memory',
      '32m',
      '--read-only',
      ...HARDENING,
    ],
    images.nginxExporter,
    [
      `--nginx.scrape-uri=http://${SERVICE.gateway}:${PORTS.gatewayStatus}${GATEWAY_PATHS.stubStatus}`,
      `--web.listen-address=:${PORTS.nginxExporter}`,
    ],
  );

  // The rendered files go to /etc/<relative path> (infra/monitoring.ts), read-only to everyone.
  const files = renderMonitoringFiles(monitoring);
  const under = (dir: string): Upload[] =>
    files
      .filter((f) => f.path.startsWith(`${dir}/`))
      .map((f) => ({ path: `/etc/${f.path}`, content: f.content, mode: 0o444 }));
  const prometheus = await scope.run(
    'prometheus',
    [
      '--network',
      network,
      '--network-alias',
      SERVICE.prometheus,
      '--volume',
      `${await scope.volume('prometheus-data')}:/prometheus`,
      '--memory',
      '512m',
      ...HARDENING,
    ],
    images.prometheus,
    [
      `--config.file=/etc/${MONITORING_FILES.prometheusConfig}`,
      '--storage.tsdb.path=/prometheus',
      '--storage.tsdb.retention.time=15d',
      `--web.listen-address=:${PORTS.prometheus}`,
    ],
    under('prometheus'),
  );
  const alertmanager = await scope.run(
    'alertmanager',
    [
      '--network',
      network,
      '--network-alias',
      SERVICE.alertmanager,
      '--volume',
      `${await scope.volume('alertmanager-data')}:/alertmanager`,
      '--memory',
      '128m',
      ...HARDENING,
    ],
    images.alertmanager,
    [
      `--config.file=/etc/${MONITORING_FILES.alertmanagerConfig}`,
      '--storage.path=/alertmanager',
      `--web.listen-address=:${PORTS.alertmanager}`,
      '--cluster.listen-address=',
    ],
    under('alertmanager'),
  );
  const mtail = await scope.run(
    'gateway-metrics',
    [
      '--network',
      network,
      '--network-alias',
      SERVICE.gatewayMetrics,
      '--volume',
      `${metricsLog}:${posix.dirname(logPath)}:ro`,
      '--memory',
      '64m',
      ...HARDENING,
    ],
    images.gatewayMetrics,
    mtailArgs({
      progsDir: posix.dirname(`/etc/${MONITORING_FILES.mtailProgram}`),
      httpAddress: '0.0.0.0',
      httpPort: PORTS.gatewayMetrics,
      logPath,
    }),
    under(MONITORING_FILES.mtailProgram.split('/')[0]!),
  );
  names = { v1, v2, gateway, exporter, prometheus, alertmanager, mtail };
});

afterAll(async () => {
  await scope.cleanup();
  if (tlsDir !== undefined) await rm(tlsDir, { recursive: true, force: true });
});

/** A URL fetched from inside the Prometheus container (its busybox wget), on the stack's network. */
async function fetchInside(url: string): Promise<string> {
  return docker(['exec', names.prometheus, 'wget', '-q', '-O', '-', url]);
}

const predict = (sentence: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: { sentence },
});

describe('the API image (offline Node base)', () => {
  test('answers POST /predict with a prediction, on a read-only root with tmpfs /tmp and no capabilities', async () => {
    const response = await httpRequest({
      url: `http://127.0.0.1:${apiPort}${API_ROUTES.predict}`,
      ...predict('I love this!'),
    });
    expect(response.status).toBe(200);
    const body = response.json<Record<string, unknown>>();
    expect(typeof body.prediction).toBe('string');
    expect(body.replica).toBe(V1);
    expect(body.version).toBe('v1');
  });

  test('runs as node (uid 1000) and passes its image HEALTHCHECK command', async () => {
    expect(await docker(['exec', names.v1, 'id', '-u'])).toBe('1000');
    const healthcheck = JSON.parse(
      await docker(['image', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', images.api]),
    ) as string[];
    expect(healthcheck[0]).toBe('CMD');
    expect((await dockerExec(['exec', names.v1, ...healthcheck.slice(1)])).code).toBe(0);
  });
});

describe('the nginx image', () => {
  test('passes the Gateway healthcheck (wget of stub_status on the status listener)', async () => {
    expect(
      (await dockerExec(['exec', names.gateway, ...wgetProbe(PORTS.gatewayStatus, GATEWAY_PATHS.stubStatus)]))
        .code,
    ).toBe(0);
  });

  test('serves the rendered config: HTTPS with basic auth to api-v1, and X-Experiment-Group: debug to api-v2', async () => {
    const base = `https://127.0.0.1:${gatewayPort}${API_ROUTES.predict}`;
    const auth = { user: USER, password: PASSWORD };
    const unauthorised = await httpRequest({ url: base, ca: caCertPem, ...predict('I love this!') });
    expect(unauthorised.status).toBe(401);
    const v1 = await httpRequest({ url: base, ca: caCertPem, auth, ...predict('I love this!') });
    expect(v1.status).toBe(200);
    expect(v1.json<{ replica: string; prediction: string }>().replica).toBe(V1);
    const v2 = await httpRequest({
      url: base,
      ca: caCertPem,
      auth,
      ...predict('I love this!'),
      headers: { 'content-type': 'application/json', 'x-experiment-group': 'debug' },
    });
    expect(v2.status).toBe(200);
    expect(v2.json<{ replica: string }>().replica).toBe(SERVICE.apiV2);
  });

  test('runs a root master with workers as nginx (uid/gid 101) under CHOWN, SETGID, SETUID only', async () => {
    expect(await docker(['exec', names.gateway, 'id', 'nginx'])).toBe(
      'uid=101(nginx) gid=101(nginx) groups=101(nginx)',
    );
    const uids = await docker([
      'exec',
      names.gateway,
      'sh',
      '-c',
      'grep -h "^Uid:" /proc/[0-9]*/status | cut -f2 | sort -u',
    ]);
    expect(uids.split('\n').sort()).toEqual(['0', '101']);
    expect(await docker(['exec', names.gateway, 'sh', '-c', 'ls -d /var/cache/nginx/*_temp | wc -l'])).toBe(
      '5',
    );
    expect(await docker(['image', 'inspect', '--format', '{{.Config.StopSignal}}', images.nginx])).toBe(
      'SIGQUIT',
    );
  });
});

describe('the nginx-exporter image', () => {
  test("takes the Gateway's flags and exports the gateway's stub_status (nginx_up 1), as nobody on a read-only root", async () => {
    const metrics = await pollUntil(
      async () => {
        const text = await fetchInside(`http://${SERVICE.nginxExporter}:${PORTS.nginxExporter}/metrics`);
        return /^nginx_up 1$/m.test(text) ? text : undefined;
      },
      { what: 'nginx_up 1 from the exporter', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(metrics).toMatch(/^nginx_connections_accepted \d+/m);
    expect(await docker(['exec', names.exporter, 'id', '-u'])).toBe('65534');
  });
});

describe('the Prometheus image', () => {
  test('passes the readiness healthcheck (wget /-/ready) with the rendered config and rules', async () => {
    await untilExecPasses(names.prometheus, wgetProbe(PORTS.prometheus, '/-/ready'));
    const rules = JSON.parse(await fetchInside(`http://127.0.0.1:${PORTS.prometheus}/api/v1/rules`)) as {
      data: { groups: { rules: { name: string }[] }[] };
    };
    expect(rules.data.groups.flatMap((g) => g.rules.map((r) => r.name))).toContain('ApiV1ReplicaDown');
  });

  test('serves its web UI (Debian: the classic UI at /classic/graph) with every script the page loads', async () => {
    // busybox wget follows the redirect from /.
    const graph = await fetchInside(`http://127.0.0.1:${PORTS.prometheus}/`);
    const scripts = [...graph.matchAll(/src="(\/[^"?]+)/g)].map((m) => m[1]!);
    expect(scripts).toContain('/classic/static/moment-timezone/moment-timezone-with-data.min.js');
    for (const script of scripts) {
      expect((await fetchInside(`http://127.0.0.1:${PORTS.prometheus}${script}`)).length).toBeGreaterThan(
        100,
      );
    }
  });

  test('runs as nobody and owns its fresh data volume at /prometheus', async () => {
    expect(await docker(['exec', names.prometheus, 'id', '-u'])).toBe('65534');
    expect(await docker(['exec', names.prometheus, 'stat', '-c', '%u:%g', '/prometheus'])).toBe(
      '65534:65534',
    );
    expect(await docker(['exec', names.prometheus, 'ls', '/prometheus'])).toContain('wal');
  });

  test('scrapes every target of the rendered config: API replicas, exporter, mtail, Alertmanager, itself', async () => {
    type Target = { labels: { job: string; instance: string }; health: string; lastError: string };
    const targets = await pollUntil(
      async () => {
        const body = JSON.parse(
          await fetchInside(`http://127.0.0.1:${PORTS.prometheus}/api/v1/targets?state=active`),
        ) as {
          data: { activeTargets: Target[] };
        };
        const active = body.data.activeTargets;
        return active.length > 0 && active.every((t) => t.health === 'up') ? active : undefined;
      },
      { what: 'every Prometheus target up', timeoutMs: 90_000, intervalMs: 1_000 },
    );
    expect(targets.map((t) => t.labels.instance).sort()).toEqual(
      [
        `${V1}:${PORTS.api}`,
        `${SERVICE.apiV2}:${PORTS.api}`,
        `${SERVICE.nginxExporter}:${PORTS.nginxExporter}`,
        `${SERVICE.gatewayMetrics}:${PORTS.gatewayMetrics}`,
        `${SERVICE.alertmanager}:${PORTS.alertmanager}`,
        `localhost:${PORTS.prometheus}`,
      ].sort(),
    );
  });
});

describe('the Alertmanager image', () => {
  test('passes the readiness healthcheck (wget /-/ready), as nobody owning /alertmanager', async () => {
    await untilExecPasses(names.alertmanager, wgetProbe(PORTS.alertmanager, '/-/ready'));
    expect(await docker(['exec', names.alertmanager, 'id', '-u'])).toBe('65534');
    expect(await docker(['exec', names.alertmanager, 'stat', '-c', '%u:%g', '/alertmanager'])).toBe(
      '65534:65534',
    );
  });

  test('is the Alertmanager Prometheus sends alerts to', async () => {
    const body = await pollUntil(
      async () => {
        const text = await fetchInside(`http://127.0.0.1:${PORTS.prometheus}/api/v1/alertmanagers`);
        return text.includes(`${SERVICE.alertmanager}:${PORTS.alertmanager}`) ? text : undefined;
      },
      { what: 'Prometheus discovering Alertmanager', timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(JSON.parse(body).data.activeAlertmanagers).toHaveLength(1);
  });
});

describe('the mtail image', () => {
  test('counts the requests nginx logs on the shared volume, by route and status, as nobody', async () => {
    // nginx answers the 401 itself: only this log (not the API's metrics) sees it.
    const denied = await httpRequest({
      url: `https://127.0.0.1:${gatewayPort}${API_ROUTES.predict}`,
      ca: caCertPem,
      ...predict('I love this!'),
    });
    expect(denied.status).toBe(401);
    const series = `gateway_http_requests_total{route="${API_ROUTES.predict}",status="401"}`;
    const metrics = await pollUntil(
      async () => {
        const text = await fetchInside(`http://${SERVICE.gatewayMetrics}:${PORTS.gatewayMetrics}/metrics`);
        return text.includes(series) ? text : undefined;
      },
      { what: `${series} from mtail`, timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(metrics).toMatch(new RegExp(`^${series.replace(/[{}/"]/g, (c) => `\\${c}`)} [1-9]\\d*$`, 'm'));
    expect(await docker(['exec', names.mtail, 'id', '-u'])).toBe('65534');
  });
});
