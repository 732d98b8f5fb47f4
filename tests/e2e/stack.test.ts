/**
 * `pulumi up` for real: the air-gapped stack deployed from nothing on the Docker engine, checked
 * through its real containers, broken, and destroyed. Needs `npm run airgap:toolchain`,
 * `npm run airgap:images` and a running engine; it stops with what is missing, never skips.
 *
 * Traffic goes to 127.0.0.1 (the published ports) only. Every phase's duration is printed at the end.
 * Updates under load, engine restarts and the memory soak are the `e2e-faults` tier's
 * (`npm run test:e2e:faults`); throughput is `npm run bench -- --only docker`'s.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { httpRequest } from '../../deployments/local/http-client';
import { pollUntil } from '../../deployments/local/readiness';
import { DEBUG_GROUP, EXPERIMENT_HEADER, GATEWAY_PATHS, PORTS } from '../../deployments/names';
import { ALERTS } from '../../deployments/prometheus/rules';
import {
  DASHBOARDS,
  buildDashboard,
  expandGrafanaVariables,
  panelQueries,
} from '../../deployments/grafana/dashboards';
import { replicaHosts } from '../../infra/api-fleet';
import { dockerMonitoringSettings } from '../../infra/monitoring';
import { containerEvents, docker, dockerExec } from '../../airgap/engine';
import { failures, steadyLoad } from '../integration/faults/helpers';
import { phaseClock } from './phases';
import { predict, type GatewayClient, type Prediction } from '../integration/gateway/helpers';
import {
  currentContainer,
  engineObjects,
  firstAddress,
  inspect,
  prepareDeployment,
  presentedCertificate,
  signedBy,
  type Deployment,
  type StackOutputs,
} from '../../airgap/deployment';

const run = promisify(execFile);

let deployment: Deployment | undefined;
let outputs: StackOutputs;
let gateway: GatewayClient;
let destroyed = false;
const clock = phaseClock();
const phase = clock.phase;

/** The Docker name of the stack's container `suffix` (replicas carry a spec hash after it). */
const container = (suffix: string) => currentContainer(deployment!.prefix, suffix);

/** Everything a container wrote, stdout and stderr (where Prometheus, nginx errors and mtail log). */
async function containerLogs(name: string): Promise<string> {
  const { stdout, stderr } = await dockerExec(['logs', name]);
  return `${stdout}\n${stderr}`;
}

beforeAll(async () => {
  deployment = await phase('prepare (project, stack, config)', prepareDeployment);
  await phase('pulumi up from nothing', () =>
    deployment!.pulumi(['up', '--yes', '--skip-preview'], { timeoutMs: 400_000 }),
  );
  outputs = await deployment.outputs();
  gateway = deployment.client(outputs);
});

afterAll(async () => {
  // A check failed before teardown: destroy anyway, then remove whatever destroy left.
  await deployment?.discard({ destroyed });
  console.log(clock.report('e2e phases'));
});

describe('deploy', () => {
  test('pulumi stack output urls lists the gateway, HTTP and monitoring URLs (no Grafana in this stack)', () => {
    expect(Object.keys(outputs.urls).sort()).toEqual(['alertmanager', 'gateway', 'http', 'prometheus']);
    expect(outputs.urls.gateway).toMatch(/^https:\/\/localhost:\d+$/);
    expect(outputs.v1Replicas).toBe(3);
  });

  test('caCertificate verifies the certificate the gateway presents', async () => {
    const { pem, authorizationError } = await presentedCertificate(gateway);
    const presented = authorizationError === null ? pem : `unauthorized: ${authorizationError}`;
    expect(presented).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(signedBy(presented, outputs.caCertificate)).toBe(true);
  });
});

describe('the gateway behaves as on the local stack', () => {
  test('npm run smoke -- --stack passes in full against the deployed stack', async () => {
    const { stdout } = await phase('smoke', () =>
      run('npx', ['tsx', 'deployments/local/smoke.ts', '--stack', deployment!.stack], {
        cwd: deployment!.project.dir,
        env: deployment!.project.env,
        timeout: 180_000,
      }),
    );
    expect(stdout).toMatch(/^(\d+) passed, 0 failed$/m);
    expect(Number(/^(\d+) passed/m.exec(stdout)![1])).toBeGreaterThanOrEqual(17);
  });
});

interface Target {
  labels: Record<string, string>;
  health: string;
  lastError: string;
}

describe('monitoring is wired', () => {
  test('in the Prometheus container every target is up: the replicas, the exporter and mtail', async () => {
    const targets = await phase('prometheus targets up', () =>
      pollUntil(
        async () => {
          const response = await fetch(`${outputs.urls.prometheus}/api/v1/targets`, {
            signal: AbortSignal.timeout(5_000),
          });
          const list = ((await response.json()) as { data: { activeTargets: Target[] } }).data.activeTargets;
          return list.length > 0 && list.every((t) => t.health === 'up') ? list : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1_000, what: 'every Prometheus target up' },
      ),
    );
    expect(targets.map((t) => `${t.labels.job} ${t.labels.replica ?? ''}`.trim()).sort()).toEqual([
      'alertmanager',
      'api api-v1-1',
      'api api-v1-2',
      'api api-v1-3',
      'api api-v2',
      'gateway-metrics',
      'nginx-exporter',
      'prometheus',
    ]);
  });
});

describe('dashboards', () => {
  test('after mixed traffic every dashboard panel query returns data from the Prometheus container', async () => {
    // Grafana's own settings for the deployed stack: the queries Grafana would run (Grafana itself
    // is not part of this stack; see README).
    const apiTargets = (['v1', 'v2'] as const).flatMap((version) =>
      replicaHosts(version, version === 'v1' ? outputs.v1Replicas : 1).map((replica) => ({
        address: `${replica}:${PORTS.api}`,
        replica,
        version,
      })),
    );
    const grafana = dockerMonitoringSettings({ apiTargets, stackLabel: deployment!.prefix }).grafana;
    const queries = DASHBOARDS.flatMap((spec) => panelQueries(buildDashboard(spec, grafana)));
    expect(queries.length).toBeGreaterThan(20);
    let missing: string[] = [];
    await phase('every panel query returns data', () =>
      pollUntil(
        async () => {
          missing = [];
          // Keep traffic flowing (both versions): series born in the smoke burst need later samples.
          await Promise.all([
            predict(gateway, 'Still here'),
            predict(gateway, 'Still here', { headers: { [EXPERIMENT_HEADER]: DEBUG_GROUP } }),
          ]);
          for (const q of queries) {
            const expr = expandGrafanaVariables(q.expr, { rateInterval: '1m', range: '1h' });
            const response = await fetch(`${outputs.urls.prometheus}/api/v1/query`, {
              method: 'POST',
              body: new URLSearchParams({ query: expr }),
              signal: AbortSignal.timeout(5_000),
            });
            const result = ((await response.json()) as { data?: { result: { value: [number, string] }[] } })
              .data?.result;
            if (!result?.some((sample) => Number.isFinite(Number(sample.value[1])))) {
              missing.push(`${q.panelTitle} ${q.refId}`);
            }
          }
          return missing.length === 0;
        },
        { timeoutMs: 150_000, intervalMs: 3_000, what: 'every panel query to return a finite sample' },
      ).catch(() => undefined),
    );
    expect(missing).toEqual([]);
  });
});

describe('faults', () => {
  test('killing the API process of one v1 container under paced load fails no request; it restarts and serves again', async () => {
    const victim = await container('api-v1-2');
    const before = await inspect(victim);
    // One client address (the published port's proxy makes every local client one address to nginx):
    // 6 r/s is below the 10 r/s limit.
    const outcomes = await phase('kill a v1 replica under load', () =>
      steadyLoad(gateway, {
        clients: ['127.0.0.1'],
        perClientRate: 6,
        durationMs: 12_000,
        label: 'e2e-kill',
        actions: [{ atMs: 3_000, run: () => void process.kill(before.State.Pid, 'SIGKILL') }],
      }),
    );
    expect(outcomes.length).toBeGreaterThanOrEqual(70);
    expect(failures(outcomes)).toEqual([]);

    const restarted = await pollUntil(
      async () => {
        const state = await inspect(victim);
        return state.RestartCount > before.RestartCount && state.State.Health?.Status === 'healthy'
          ? state
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `${victim} restarted and healthy` },
    );
    expect(restarted.State.Pid).not.toBe(before.State.Pid);
    // nginx resolved the name at its last (re)load: the replica must come back where nginx looks.
    console.log(
      `killed replica: address ${firstAddress(before)} before, ${firstAddress(restarted)} after its restart`,
    );
    const served = await pollUntil(
      async () => {
        const response = await predict(gateway, 'Back again');
        return response.status === 200 && response.json<Prediction>().replica === 'api-v1-2'
          ? true
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 150, what: 'api-v1-2 to answer through the gateway again' },
    );
    expect(served).toBe(true);
  });

  test('with the v2 container stopped, a debug request gets a JSON 502 or 503 in under 1 s, v1 traffic is untouched, and ApiV2Down fires in Alertmanager', async () => {
    await docker(['stop', await container('api-v2')]);
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const response = await predict(gateway, 'debug me', {
          headers: { [EXPERIMENT_HEADER]: DEBUG_GROUP },
        });
        expect(Date.now() - started).toBeLessThan(1_000);
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        expect([502, 503]).toContain(response.status);
        expect(response.json<{ error: { code: string } }>().error.code).toMatch(
          /^(bad_gateway|service_unavailable)$/,
        );
      }
      const v1 = await Promise.all(Array.from({ length: 5 }, () => predict(gateway, 'plain')));
      expect(v1.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

      const alert = await phase('ApiV2Down to reach Alertmanager', () =>
        pollUntil(
          async () => {
            const response = await fetch(`${outputs.urls.alertmanager}/api/v2/alerts`, {
              signal: AbortSignal.timeout(5_000),
            });
            const list = (await response.json()) as {
              labels: Record<string, string>;
              status: { state: string };
            }[];
            return list.find((a) => a.labels.alertname === ALERTS.apiV2Down);
          },
          { timeoutMs: 300_000, intervalMs: 2_000, what: 'ApiV2Down in Alertmanager' },
        ),
      );
      expect(alert.labels).toMatchObject({ replica: 'api-v2', version: 'v2' });
      expect(alert.status.state).toBe('active');
    } finally {
      await docker(['start', await container('api-v2')]);
    }
    await pollUntil(
      async () =>
        (await inspect(await container('api-v2'))).State.Health?.Status === 'healthy' ? true : undefined,
      { timeoutMs: 90_000, intervalMs: 500, what: 'api-v2 healthy again' },
    );
  });

  test('restarting the gateway container: HTTPS answers again within 20 s', async () => {
    const started = Date.now();
    await docker(['restart', await container('gateway')]);
    await pollUntil(
      async () => {
        const response = await httpRequest({
          url: `https://127.0.0.1:${gateway.ports.https}${GATEWAY_PATHS.health}`,
          ca: outputs.caCertificate,
          timeoutMs: 1_000,
        }).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100, what: 'HTTPS after a gateway restart' },
    );
    clock.record('gateway restart to HTTPS 200', Date.now() - started);
    const response = await predict(gateway, 'after restart');
    expect(response.status).toBe(200);
  });
});

describe('idempotence', () => {
  test('right after up, pulumi preview --expect-no-changes passes; so it does after pulumi refresh', async () => {
    await phase('preview --expect-no-changes', () => deployment!.pulumi(['preview', '--expect-no-changes']));
    await phase('refresh', () => deployment!.pulumi(['refresh', '--yes', '--skip-preview']));
    await phase('preview after refresh', () => deployment!.pulumi(['preview', '--expect-no-changes']));
  });

  test('a no-change pulumi up changes nothing', async () => {
    const out = await phase('pulumi up with no change', () =>
      deployment!.pulumi(['up', '--yes', '--skip-preview']),
    );
    expect(out).toMatch(/^Resources:\n\s+\d+ unchanged\n/m);
    expect(out).not.toMatch(/\b(created|updated|replaced|deleted)\b/);
  });

  test('changing only the rate limit replaces nothing: it updates the gateway config generation (a reload)', async () => {
    await deployment!.pulumi(['config', 'set', 'rateLimitPerSecond', '12']);
    try {
      const out = await deployment!.pulumi(['preview', '--json']);
      const steps = (JSON.parse(out) as { steps: { op: string; urn: string }[] }).steps;
      const changed = steps
        .filter((s) => s.op !== 'same')
        .map((s) => `${s.op} ${s.urn.split('::').at(-1)}`)
        .sort();
      // Only the gateway renders the rate limit: a new config generation, reloaded; no container changes.
      expect(changed).toEqual([`update ${deployment!.prefix}-gateway-live-config`]);
    } finally {
      await deployment!.pulumi(['config', 'set', 'rateLimitPerSecond', '10']);
    }
  });
});

describe('clean stops', () => {
  /** The URN of one of the stack's containers, by its Docker name. */
  async function containerUrn(name: string): Promise<string> {
    const state = JSON.parse(await deployment!.pulumi(['stack', 'export'])) as {
      deployment: { resources: { urn: string; type: string }[] };
    };
    const found = state.deployment.resources.find(
      (r) => r.type === 'docker:index/container:Container' && r.urn.endsWith(`::${name}`),
    );
    if (found === undefined) throw new Error(`no container ${name} in the state`);
    return found.urn;
  }

  /**
   * The exit code of a container's stop between `since` (ms) and now, from the engine's `die` event:
   * 0 when its process shut down on its stop signal, 137 when the engine had to SIGKILL it.
   */
  async function stopExitCode(id: string, since: number): Promise<string> {
    const dies = await containerEvents(since, Date.now(), [`container=${id}`, 'event=die']);
    return dies.at(-1)?.attributes.exitCode ?? '';
  }

  test('a silence made in Alertmanager survives its replacement, which stops it cleanly (exit 0, not killed)', async () => {
    const now = Date.now();
    const created = await fetch(`${outputs.urls.alertmanager}/api/v2/silences`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        matchers: [{ name: 'alertname', value: 'E2eSilenceSurvives', isRegex: false, isEqual: true }],
        startsAt: new Date(now).toISOString(),
        endsAt: new Date(now + 3_600_000).toISOString(),
        createdBy: 'tests/e2e',
        comment: 'must survive a replacement of the container',
      }),
    });
    expect(created.status).toBe(200);
    const { silenceID } = (await created.json()) as { silenceID: string };
    const name = await container('monitoring-alertmanager');
    const before = (await inspect(name)).Id;
    const replacedAt = Date.now();
    await phase('replace Alertmanager', async () =>
      deployment!.pulumi(['up', '--yes', '--skip-preview', '--replace', await containerUrn(name)]),
    );
    expect((await inspect(name)).Id).not.toBe(before);
    // Shut down on its SIGTERM (writing its silence snapshot), not killed by the engine (137). With
    // this stack's little data it also did with no grace period at all (measured): this checks the
    // clean stop, it cannot show the grace period is what allowed it.
    expect(await stopExitCode(before, replacedAt)).toBe('0');
    const silence = await pollUntil(
      async () => {
        const response = await fetch(`${outputs.urls.alertmanager}/api/v2/silence/${silenceID}`, {
          signal: AbortSignal.timeout(5_000),
        });
        return response.status === 200
          ? ((await response.json()) as { status: { state: string } })
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the silence after the replacement' },
    );
    expect(silence.status.state).toBe('active');
  });

  test('Prometheus keeps its samples across a replacement, which stops it cleanly, with no WAL corruption in its log', async () => {
    const query = async (expr: string) => {
      const response = await fetch(`${outputs.urls.prometheus}/api/v1/query`, {
        method: 'POST',
        body: new URLSearchParams({ query: expr }),
        signal: AbortSignal.timeout(5_000),
      });
      return ((await response.json()) as { data: { result: { value: [number, string] }[] } }).data.result;
    };
    // Samples of one series over the whole life of the stack so far, and when the first one was taken.
    const expr = 'count_over_time(up{job="prometheus"}[1h])';
    // A few scrapes first (15 s apart), so that keeping them is a claim about stored samples.
    const before = await pollUntil(
      async () => {
        const result = await query(expr).catch(() => []);
        const count = result.length > 0 ? Number(result[0]!.value[1]) : 0;
        return count > 3 ? count : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2_000, what: 'more than 3 samples of up{job="prometheus"}' },
    );
    const name = await container('monitoring-prometheus');
    const id = (await inspect(name)).Id;
    const replacedAt = Date.now();
    await phase('replace Prometheus', async () =>
      deployment!.pulumi(['up', '--yes', '--skip-preview', '--replace', await containerUrn(name)]),
    );
    // Closed its TSDB on SIGTERM, not killed (137: a WAL replay on the next start). As for Alertmanager,
    // a small head closes in the instant Docker leaves even with no grace period (measured).
    expect(await stopExitCode(id, replacedAt)).toBe('0');
    const after = await pollUntil(
      async () => {
        const result = await query(expr).catch(() => []);
        return result.length > 0 ? Number(result[0]!.value[1]) : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000, what: 'Prometheus answering after its replacement' },
    );
    expect(after).toBeGreaterThanOrEqual(before);
    const logs = await containerLogs(name);
    expect(logs).toMatch(/Server is ready to receive web requests/);
    expect(logs).not.toMatch(/corrupt|WAL.*(repair|error)|Encountered WAL read error/i);
  });
});

describe('secrets', () => {
  test('pulumi stack export holds no API password or private key in plain text, only as secrets', async () => {
    const state = await deployment!.pulumi(['stack', 'export']);
    expect(state).not.toContain(outputs.apiPassword);
    expect(state).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    expect(state).not.toContain(Buffer.from(`${outputs.apiUser}:${outputs.apiPassword}`).toString('base64'));
    expect(
      (state.match(/"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"/g) ?? []).length,
    ).toBeGreaterThan(5);
  });

  test('no container has a password in its environment or command, and no log holds a credential', async () => {
    const names = (await engineObjects(deployment!.prefix))
      .filter((o) => o.startsWith('container '))
      .map((o) => o.slice(10));
    expect(names.length).toBe(9);
    const encoded = Buffer.from(`${outputs.apiUser}:${outputs.apiPassword}`).toString('base64');
    for (const name of names) {
      const { Config } = await inspect(name);
      const plain = [...(Config.Env ?? []), ...(Config.Cmd ?? []), ...(Config.Entrypoint ?? [])].join('\n');
      expect([name, plain.includes(outputs.apiPassword)]).toEqual([name, false]);
      expect([name, /PASSWORD=/i.test(plain)]).toEqual([name, false]);
      const logs = await containerLogs(name);
      expect([name, logs.includes(outputs.apiPassword) || logs.includes(encoded)]).toEqual([name, false]);
    }
  });
});

describe('teardown', () => {
  test('pulumi destroy leaves no container, network or volume with the stack prefix', async () => {
    await phase('pulumi destroy', () =>
      deployment!.pulumi(['destroy', '--yes', '--skip-preview'], { timeoutMs: 300_000 }),
    );
    destroyed = true;
    expect(await engineObjects(deployment!.prefix)).toEqual([]);
    await deployment!.project.pulumiOk(['stack', 'rm', deployment!.stack, '--yes']);
  });
});
