import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEBIAN_IMAGES } from '../../../airgap/images/settings';
import { lastStage, type Instruction } from '../dockerfile-parse';

const IMAGES_DIR = resolve(__dirname, '../../../airgap/images');

const dockerfile = (dir: string) => readFileSync(join(IMAGES_DIR, dir, 'Dockerfile'), 'utf8');
const last = (stage: Instruction[], keyword: string) =>
  stage.filter((i) => i.keyword === keyword).at(-1)?.args;

/** What the Pulumi program relies on in the official image each one replaces (infra/gateway.ts, monitoring.ts). */
const CONTRACTS: Record<string, { entrypoint?: string[]; cmd?: string[]; user?: string; wget: boolean }> = {
  nginx: { cmd: ['nginx', '-g', 'daemon off;'], wget: true },
  'nginx-exporter': { entrypoint: ['/usr/bin/prometheus-nginx-exporter'], user: 'nobody', wget: false },
  prometheus: {
    entrypoint: ['/usr/bin/prometheus'],
    cmd: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus'],
    user: 'nobody',
    wget: true,
  },
  alertmanager: {
    entrypoint: ['/usr/bin/prometheus-alertmanager'],
    cmd: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
    user: 'nobody',
    wget: true,
  },
  mtail: { entrypoint: ['/usr/bin/mtail'], user: 'nobody', wget: false },
};

describe.each([...DEBIAN_IMAGES.map((s) => s.dir), 'node'])('airgap/images/%s/Dockerfile', (dir) => {
  const text = dockerfile(dir);

  test('builds FROM the local base passed as a build arg, with no `# syntax=` line (it makes BuildKit pull)', () => {
    expect(text).not.toMatch(/^#\s*syntax\s*=/m);
    const froms = text.split('\n').filter((l) => /^FROM\s/i.test(l));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM \$\{BASE_IMAGE\}( AS \w+)?$/);
    expect(text.search(/^ARG BASE_IMAGE$/m)).toBeLessThan(text.search(/^FROM /m));
    expect(text.search(/^ARG BASE_IMAGE$/m)).toBeGreaterThan(-1);
  });
});

describe.each(DEBIAN_IMAGES.map((s) => [s.dir, s] as const))('airgap/images/%s/Dockerfile', (dir, spec) => {
  const stage = lastStage(dockerfile(dir));
  const contract = CONTRACTS[dir]!;
  const run = stage
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join(' && ');

  test(`installs the Debian package ${spec.debianPackage} non-interactively and drops the apt lists`, () => {
    expect(run).toMatch(new RegExp(`apt-get install --yes ${spec.debianPackage}\\b`));
    expect(run).toContain('apt-get --yes upgrade');
    expect(run).toContain('rm -rf /var/lib/apt/lists/*');
    expect(stage.some((i) => i.keyword === 'ARG' && i.args === 'DEBIAN_FRONTEND=noninteractive')).toBe(true);
  });

  test("keeps the official image's entrypoint, command and user where the program relies on them", () => {
    const json = (args: string | undefined) =>
      args === undefined ? undefined : (JSON.parse(args) as string[]);
    expect(json(last(stage, 'ENTRYPOINT'))).toEqual(contract.entrypoint);
    expect(json(last(stage, 'CMD'))).toEqual(contract.cmd);
    expect(last(stage, 'USER')).toEqual(contract.user);
  });

  test(contractWget(contract.wget), () => {
    if (contract.wget) {
      expect(run).toMatch(/apt-get install --yes [\w-]+ busybox\b/);
      expect(run).toContain('ln -s /bin/busybox /usr/local/bin/wget');
    } else {
      expect(run).not.toContain('busybox');
    }
  });
});

function contractWget(wget: boolean): string {
  return wget
    ? 'puts wget on PATH for the healthcheck (busybox)'
    : 'carries no busybox: nothing health-checks it with wget';
}

describe('nginx keeps the official image layout the Gateway uploads into', () => {
  const stage = lastStage(dockerfile('nginx'));
  const run = stage
    .filter((i) => i.keyword === 'RUN')
    .map((i) => i.args)
    .join(' && ');

  test('user and group nginx are uid/gid 101 (the htpasswd upload is 0440 root:101)', () => {
    expect(run).toContain('groupadd --system --gid 101 nginx');
    expect(run).toContain('useradd --system --uid 101 --gid nginx');
  });

  test('temp dirs can be created under /var/cache/nginx, logs go to stdout/stderr, SIGQUIT stops it', () => {
    expect(run).toContain('mkdir -p /var/cache/nginx');
    expect(run).toContain('ln -sf /dev/stdout /var/log/nginx/access.log');
    expect(run).toContain('ln -sf /dev/stderr /var/log/nginx/error.log');
    expect(last(stage, 'STOPSIGNAL')).toBe('SIGQUIT');
  });
});

describe('prometheus and alertmanager own their data directories as nobody', () => {
  test.each([
    ['prometheus', '/prometheus'],
    ['alertmanager', '/alertmanager'],
  ])('%s: %s', (dir, data) => {
    const stage = lastStage(dockerfile(dir));
    const run = stage
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    expect(run).toMatch(new RegExp(`chown nobody:nogroup ${data}\\b`));
    expect(last(stage, 'WORKDIR')).toBe(data);
  });
});

describe('the offline Node base', () => {
  const text = dockerfile('node');
  const stage = lastStage(text);

  test('holds node and npm under /usr/local, checked against the pinned versions', () => {
    expect(text).toContain('ADD node.tgz /tmp/node/');
    expect(text).toContain('ADD npm.tgz /tmp/npm/');
    expect(text).toContain('ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/usr/local/bin/npm');
    expect(last(stage, 'COPY')).toBe('--from=unpack /out/usr/local /usr/local');
    const run = stage
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    expect(run).toContain('test "$(node --version)" = "v${NODE_VERSION}"');
    expect(run).toContain('test "$(npm --version)" = "${NPM_VERSION}"');
  });

  test('has the user node with uid/gid 1000 that the API Dockerfile switches to', () => {
    const run = stage
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    expect(run).toContain('groupadd --gid 1000 node');
    expect(run).toContain('useradd --uid 1000 --gid node');
  });
});
