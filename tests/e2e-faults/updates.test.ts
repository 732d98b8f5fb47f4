/**
 * Updates and faults on a real deployment, each under paced load through the gateway (6 r/s, below
 * the 10 r/s limit): a new API image rolls out, v1 scales 3 -> 4 -> 3, the rate limit, the
 * certificate and the API password change by reload, the one setting kept that replaces the gateway
 * is measured, a 60 s soak at 64 connections stays inside every memory limit, and the Docker engine
 * restarts under the stack. Needs what `npm run test:e2e` needs, plus wrk; it restarts the engine
 * (run it where that is fine: CI, or your own machine's engine).
 *
 * The load generator retries once, on a new connection, a request reset before any answer (what a
 * reload's closing of idle connections does; README, Faults), and each test checks nginx never read
 * such a request. Everything else counts as a failure.
 */
import { pollUntil } from '../../deployments/local/readiness';
import { containerEvents, dockerExec, docker, relabelImage, restartEngine } from '../../airgap/engine';
import {
  currentContainer,
  firstAddress,
  namesStartingWith,
  inspect,
  prepareDeployment,
  presentedCertificate,
  type Deployment,
  type StackOutputs,
} from '../../airgap/deployment';
import { memorySoak, soakMarkdown } from '../../bench/soak';
import { failures, steadyLoad, type LoadOutcome } from '../integration/faults/helpers';
import { predict, type GatewayClient, type Prediction } from '../integration/gateway/helpers';
import { phaseClock } from '../e2e/phases';

let deployment: Deployment;
let outputs: StackOutputs;
let gateway: GatewayClient;
let destroyed = false;
const clock = phaseClock();
const figures: string[] = [];
/** Images the tests built (new ids for the same content), removed at the end. */
const builtImages: string[] = [];

/** A new image id for `from`'s content (`relabelImage`), removed at the end. */
async function relabel(from: string, repository: string): Promise<string> {
  const tag = await relabelImage(from, repository);
  builtImages.push(tag);
  return tag;
}

const up = () => deployment.pulumi(['up', '--yes', '--skip-preview'], { timeoutMs: 400_000 });
const name = (suffix: string) => currentContainer(deployment.prefix, suffix);

beforeAll(async () => {
  deployment = await clock.phase('prepare', prepareDeployment);
  await clock.phase('pulumi up from nothing', up);
  outputs = await deployment.outputs();
  gateway = deployment.client(outputs);
});

afterAll(async () => {
  await deployment?.discard({ destroyed });
  for (const tag of builtImages) await dockerExec(['rmi', tag]);
  console.log(clock.report('e2e-faults phases'));
  console.log(`e2e-faults figures:\n${figures.map((f) => `  ${f}`).join('\n')}`);
});

/** The stack's API containers now: name, id and backend address. */
async function apiContainers(): Promise<{ name: string; id: string; address: string }[]> {
  const names = await namesStartingWith('container', `${deployment.prefix}-api-`);
  return Promise.all(
    names.map(async (n) => {
      const state = await inspect(n);
      return { name: n, id: state.Id, address: firstAddress(state)! };
    }),
  );
}

/** request id -> upstream address of every request the gateway logged (its JSON access log). */
async function gatewayUpstreams(): Promise<Map<string, string>> {
  const { stdout } = await dockerExec(['logs', await name('gateway')]);
  const map = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { request_id?: string; upstream_addr?: string };
    if (entry.request_id) map.set(entry.request_id, entry.upstream_addr ?? '');
  }
  return map;
}

/** Paced load for as long as `operation` runs (and 2 s after), resets of reused connections retried. */
async function loadDuring(
  label: string,
  operation: () => Promise<unknown>,
  client = gateway,
  perClientRate = 6,
): Promise<{ outcomes: LoadOutcome[]; ms: number }> {
  const started = Date.now();
  const running = operation();
  const outcomes = await steadyLoad(client, {
    clients: ['127.0.0.1'],
    perClientRate,
    durationMs: 400_000,
    stopAfter: running,
    retryResets: true,
    label,
  });
  await running;
  return { outcomes, ms: Date.now() - started };
}

/** The checks every update shares: no failure, and no reset request ever reached nginx. */
async function expectNoLoss(what: string, outcomes: LoadOutcome[]): Promise<void> {
  expect(failures(outcomes)).toEqual([]);
  const resets = outcomes.filter((o) => o.resetRetried !== undefined);
  const logged = await gatewayUpstreams();
  expect(resets.filter((o) => logged.has(o.resetRetried!))).toEqual([]);
  figures.push(
    `${what}: ${outcomes.length} requests, 0 failed, ${resets.length} reset before any answer and retried`,
  );
}

describe('rolling updates', () => {
  test('a new API image rolls out with 0 failed requests: one new replica at a time, each healthy and serving before any old one stops', async () => {
    const before = await apiContainers();
    const current = (await deployment.pulumi(['config', 'get', 'apiImage'])).trim();
    // A new image id with the same content: to the program exactly what a code or model change is.
    const next = await relabel(current, 'sentiment-gateway/api');
    // Kept afterwards: going back would be one more rollout.
    await deployment.pulumi(['config', 'set', 'apiImage', next]);
    const started = Date.now();
    const { outcomes, ms } = await clock.phase('rollout of a new API image', () => loadDuring('rollout', up));
    await expectNoLoss('API image rollout', outcomes);
    figures.push(`API image rollout (3 v1 + 1 v2 replicas): ${(ms / 1000).toFixed(1)} s`);

    const after = await apiContainers();
    expect(after).toHaveLength(before.length);
    expect(after.filter((a) => before.some((b) => b.id === a.id))).toEqual([]);

    const events = await containerEvents(started, Date.now());
    const at = (id: string, status: string) => events.find((e) => e.id === id && e.status === status)?.time;
    const firstOldStop = Math.min(...before.map((b) => at(b.id, 'kill') ?? Infinity));
    expect(Number.isFinite(firstOldStop)).toBe(true);
    // The gateway's reload: `nginx -s reload` run in the nginx container (GatewayConfig then waits
    // until nginx answers with the new generation before Pulumi goes on to delete anything).
    const gatewayName = await name('gateway');
    const reloads = events.filter(
      (e) =>
        e.attributes.name === gatewayName &&
        e.status.startsWith('exec_start: nginx') &&
        e.status.endsWith('-s reload'),
    );
    expect(reloads).toHaveLength(1);
    const reloadAt = reloads[0]!.time;
    expect(reloadAt).toBeLessThan(firstOldStop);
    const upstreams = await gatewayUpstreams();
    const served = (address: string) =>
      outcomes.filter((o) => upstreams.get(o.requestId)?.startsWith(`${address}:`)).map((o) => o.sentAt);
    const v1 = after.filter((a) => a.name.includes('-api-v1-'));
    v1.forEach((replica, i) => {
      const healthy = at(replica.id, 'health_status: healthy');
      expect([replica.name, healthy]).toEqual([replica.name, expect.any(Number)]);
      // Healthy before nginx was reloaded onto it, before any old replica got its stop signal; and
      // nginx did send it traffic during the rollout.
      expect(healthy!).toBeLessThan(reloadAt);
      expect([replica.name, served(replica.address).length > 0]).toEqual([replica.name, true]);
      // One at a time: the next replica is created only once this one is healthy.
      const next = v1[i + 1];
      if (next) expect(at(next.id, 'create')!).toBeGreaterThan(healthy!);
    });
    // No old replica was sent a request after its stop signal.
    const oldServedAfterStop = before.filter((b) => served(b.address).some((t) => t > at(b.id, 'kill')!));
    expect(oldServedAfterStop).toEqual([]);
    figures.push(
      `rollout: reload ${((firstOldStop - reloadAt) / 1000).toFixed(2)} s before the first old replica's stop signal`,
    );
  });

  test('v1 scales 3 -> 4 -> 3 with 0 failed requests; the fourth replica serves while it exists', async () => {
    await deployment.pulumi(['config', 'set', 'replicas', '4']);
    const grow = await clock.phase('scale v1 3 -> 4', () => loadDuring('scale-up', up));
    await expectNoLoss('scale 3 -> 4', grow.outcomes);
    expect((await apiContainers()).filter((c) => c.name.includes('-api-v1-'))).toHaveLength(4);
    const fourth = await pollUntil(
      async () =>
        (await predict(gateway, 'four')).json<Prediction>().replica === 'api-v1-4' ? true : undefined,
      { timeoutMs: 10_000, intervalMs: 50, what: 'api-v1-4 answering through the gateway' },
    );
    expect(fourth).toBe(true);

    await deployment.pulumi(['config', 'set', 'replicas', '3']);
    const shrink = await clock.phase('scale v1 4 -> 3', () => loadDuring('scale-down', up));
    await expectNoLoss('scale 4 -> 3', shrink.outcomes);
    expect((await apiContainers()).filter((c) => c.name.includes('-api-v1-'))).toHaveLength(3);
    const tail = shrink.outcomes.slice(-5);
    expect(tail.map((o) => o.replica)).not.toContain('api-v1-4');
    figures.push(
      `scale 3 -> 4: ${(grow.ms / 1000).toFixed(1)} s; 4 -> 3: ${(shrink.ms / 1000).toFixed(1)} s`,
    );
  });
});

describe('gateway changes reach nginx by reload, never by replacement', () => {
  test('a new rate limit: no failed request, the same gateway container, which Docker still restarts after the reload', async () => {
    const id = (await inspect(await name('gateway'))).Id;
    await deployment.pulumi(['config', 'set', 'rateLimitPerSecond', '12']);
    const { outcomes, ms } = await clock.phase('rate limit change', () => loadDuring('rate-limit', up));
    await expectNoLoss('rate limit change', outcomes);
    expect((await inspect(await name('gateway'))).Id).toBe(id);
    const conf = await docker(['exec', await name('gateway'), 'cat', '/etc/nginx/sg/nginx.conf']);
    expect(conf).toMatch(/rate=12r\/s/);
    figures.push(`rate limit change applied in ${(ms / 1000).toFixed(1)} s`);
    // A reload must not leave the gateway looking manually stopped to Docker: its process killed
    // now, the restart policy still brings it back (a `docker kill --signal HUP` reload did not).
    const before = await inspect(await name('gateway'));
    process.kill(before.State.Pid, 'SIGKILL');
    const back = await pollUntil(
      async () => {
        const state = await inspect(await name('gateway'));
        return state.RestartCount > before.RestartCount && state.State.Status === 'running'
          ? state
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the gateway restarted by its policy after a reload' },
    );
    expect(back.State.Pid).not.toBe(before.State.Pid);
    await pollUntil(async () => ((await predict(gateway, 'back')).status === 200 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'HTTPS 200 after the gateway restarted',
    });
  });

  test('a rotated certificate: no failed request, the same gateway container, the new certificate served', async () => {
    const id = (await inspect(await name('gateway'))).Id;
    const old = (await presentedCertificate(gateway)).pem;
    // Another server name: a new CSR, so a new certificate from the same CA.
    await deployment.pulumi(['config', 'set', 'serverNames', '["rotated.example.test"]']);
    const { outcomes } = await clock.phase('certificate rotation', () => loadDuring('rotation', up));
    await expectNoLoss('certificate rotation', outcomes);
    expect((await inspect(await name('gateway'))).Id).toBe(id);
    const served = (await presentedCertificate(gateway)).pem;
    expect(served).not.toBe(old);
    expect(new (await import('node:crypto')).X509Certificate(served).subjectAltName).toContain(
      'rotated.example.test',
    );
  });

  test('a new API password: no failed request, the same gateway container; the old password stops and the new one starts at one instant', async () => {
    const id = (await inspect(await name('gateway'))).Id;
    const password = `rotated-${Date.now().toString(36)}-password`;
    await deployment.pulumi(['config', 'set', '--secret', 'apiPassword', password]);
    const withPassword = (p: string): GatewayClient => ({
      ...gateway,
      auth: { ...gateway.auth, password: p },
    });
    const running = up();
    const [oldSide, newSide] = await Promise.all([
      // 4 r/s each: together below the 12 r/s limit set above (one client address to nginx).
      loadDuring('password-old', () => running, gateway, 4),
      loadDuring('password-new', () => running, withPassword(password), 4),
    ]);
    const statuses = (o: LoadOutcome[]) => [...o].sort((a, b) => a.sentAt - b.sentAt).map((x) => x.status);
    const switchesOnce = (list: number[], from: number, to: number) => {
      const first = list.indexOf(to);
      return (
        first > 0 && list.slice(0, first).every((s) => s === from) && list.slice(first).every((s) => s === to)
      );
    };
    expect(switchesOnce(statuses(oldSide.outcomes), 200, 401)).toBe(true);
    expect(switchesOnce(statuses(newSide.outcomes), 401, 200)).toBe(true);
    expect((await inspect(await name('gateway'))).Id).toBe(id);
    outputs = await deployment.outputs();
    gateway = deployment.client(outputs);
    expect(outputs.apiPassword).toBe(password);
  });

  test('the nginx image still replaces the gateway container: the gap is measured', async () => {
    const id = (await inspect(await name('gateway'))).Id;
    const current = (await deployment.pulumi(['config', 'get', 'nginxImage'])).trim();
    const next = await relabel(current, 'sentiment-gateway/nginx');
    await deployment.pulumi(['config', 'set', 'nginxImage', next]);
    const { outcomes } = await clock.phase('nginx image change (replacement)', () =>
      loadDuring('replace-gateway', up),
    );
    expect((await inspect(await name('gateway'))).Id).not.toBe(id);
    const failed = failures(outcomes);
    const sorted = [...outcomes].sort((a, b) => a.sentAt - b.sentAt);
    const firstFail = sorted.findIndex((o) => o.status !== 200);
    const lastFail = sorted.length - 1 - [...sorted].reverse().findIndex((o) => o.status !== 200);
    // From the last answer before the outage to the first after it (0 if nothing failed).
    const gapMs =
      firstFail < 0
        ? 0
        : (sorted[lastFail + 1]?.sentAt ?? Date.now()) - (sorted[firstFail - 1]?.sentAt ?? sorted[0]!.sentAt);
    figures.push(
      `nginx image change replaces the gateway: ${failed.length} of ${outcomes.length} requests failed, a gap of ${(gapMs / 1000).toFixed(1)} s`,
    );
    // Bounded: stop (SIGQUIT, graceful), create, start, healthy.
    expect(gapMs).toBeLessThan(30_000);
    expect(sorted.at(-1)!.status).toBe(200);
  });
});

describe('memory under load', () => {
  test('a 60 s soak at 64 connections: no container OOM-killed or restarted, each peak below its limit', async () => {
    await deployment.pulumi(['config', 'set', 'rateLimitPerSecond', '100000']);
    await deployment.pulumi(['config', 'set', 'rateLimitBurst', '100000']);
    await clock.phase('lift the rate limit (reload)', up);
    const result = await clock.phase('soak 60 s at 64 connections', () =>
      memorySoak({
        prefix: deployment.prefix,
        url: `${outputs.urls.gateway.replace('localhost', '127.0.0.1')}/predict`,
        authorization: `Basic ${Buffer.from(`${outputs.apiUser}:${outputs.apiPassword}`).toString('base64')}`,
        connections: 64,
        seconds: 60,
      }),
    );
    console.log(soakMarkdown(result));
    figures.push(
      `soak: ${result.wrk.requests} requests, ${result.wrk.errors} errors, ${result.wrk.non2xx} non-2xx`,
    );
    for (const c of result.containers) {
      figures.push(
        `  ${c.name}: peak ${c.peakMb} MiB in the soak (${c.startPeakMb} before) of ${c.limitMb} MiB`,
      );
    }
    expect(result.containers.length).toBe(9);
    expect(result.wrk.requests).toBeGreaterThan(1000);
    expect(result.wrk.errors).toBe(0);
    expect(result.wrk.non2xx).toBe(0);
    expect(result.containers.filter((c) => c.oomKilled || c.restarts > 0)).toEqual([]);
    expect(result.containers.filter((c) => c.peakPercent >= 100 || c.startPeakMb >= c.limitMb)).toEqual([]);
  });
});

describe('restarts the engine makes', () => {
  test('after a Docker engine restart the whole stack serves again with no manual step, every replica included', async () => {
    const before = await apiContainers();
    const started = Date.now();
    await clock.phase('engine restart', restartEngine);
    const seen = new Set<string>();
    const answers = new Map<string, number>();
    await pollUntil(
      async () => {
        const response = await predict(gateway, 'after the engine restart', { timeoutMs: 2_000 }).catch(
          (error: NodeJS.ErrnoException) => error.code ?? 'error',
        );
        const key = typeof response === 'string' ? response : String(response.status);
        answers.set(key, (answers.get(key) ?? 0) + 1);
        if (typeof response !== 'string' && response.status === 200) {
          seen.add(response.json<Prediction>().replica);
        }
        return ['api-v1-1', 'api-v1-2', 'api-v1-3'].every((r) => seen.has(r)) ? true : undefined;
      },
      {
        timeoutMs: 180_000,
        intervalMs: 100,
        what: 'every v1 replica answering through the gateway after the engine restart',
      },
    ).catch(async (error: Error) => {
      // What the engine shows, for the failure message: states, addresses, what nginx logged.
      const ps = await dockerExec(['ps', '-a', '--format', '{{.Names}} {{.Status}}']);
      const gatewayLogs = await dockerExec(['logs', '--tail', '30', await name('gateway')]);
      const addresses = (await apiContainers()).map((c) => `${c.name} ${c.address}`).join('\n');
      throw new Error(
        `${error.message}\nseen: ${[...seen].join(', ')}; answers: ${JSON.stringify([...answers])}\n` +
          `${ps.stdout}\n${addresses}\ngateway log (stderr):\n${gatewayLogs.stderr}`,
      );
    });
    const ms = Date.now() - started;
    clock.record('engine restart to every v1 replica serving', ms);
    const after = await apiContainers();
    const moved = after.filter((a) => before.find((b) => b.id === a.id)?.address !== a.address).length;
    figures.push(
      `engine restart: every v1 replica served again ${(ms / 1000).toFixed(1)} s after the restart began; ${moved} of ${after.length} API containers came back on a new address`,
    );
    // Prometheus, Alertmanager and the exporter come back too.
    const prometheus = await pollUntil(
      async () =>
        (await fetch(`${outputs.urls.prometheus}/-/ready`).catch(() => undefined))?.status === 200 ||
        undefined,
      { timeoutMs: 60_000, intervalMs: 250, what: 'Prometheus ready after the engine restart' },
    );
    expect(prometheus).toBe(true);
  });
});

describe('teardown', () => {
  test('pulumi destroy removes the stack', async () => {
    await clock.phase('pulumi destroy', () =>
      deployment.pulumi(['destroy', '--yes', '--skip-preview'], { timeoutMs: 300_000 }),
    );
    destroyed = true;
    await deployment.project.pulumiOk(['stack', 'rm', deployment.stack, '--yes']);
  });
});
