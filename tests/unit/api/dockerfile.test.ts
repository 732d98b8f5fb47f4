import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { API_ROUTES, PORTS } from '../../../deployments/names';
import { parseDockerfile } from '../dockerfile-parse';

const REPO = resolve(__dirname, '../../..');
const DOCKERFILE = join(REPO, 'services/api/Dockerfile');

/** .dockerignore evaluation for the pattern subset used here: `*`, `**`, `?`, `!` and plain paths. */
function isSentToBuild(path: string, patterns: string[]): boolean {
  const toRegExp = (glob: string) =>
    new RegExp(
      `^${glob
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*')}$`,
    );
  const parents = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = toRegExp((negated ? raw.slice(1) : raw).replace(/\/$/, ''));
    if (parents.some((p) => pattern.test(p))) included = negated;
  }
  return included;
}

const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const dockerignore = readFileSync(join(REPO, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const of = (keyword: string) => instructions.filter((i) => i.keyword === keyword);
const execForm = (args: string): string[] => JSON.parse(args.replace(/^--\S+\s+/g, '')) as string[];

describe('services/api/Dockerfile', () => {
  it('builds from one pinned Debian-slim Node 20 image in every stage (glibc for onnxruntime, no :latest)', () => {
    const arg = of('ARG').find((i) => i.args.startsWith('NODE_IMAGE='));
    expect(arg?.args).toMatch(/^NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/);
    const froms = of('FROM').map((i) => i.args);
    expect(froms).toEqual(['${NODE_IMAGE} AS build', '${NODE_IMAGE} AS deps', '${NODE_IMAGE} AS runtime']);
  });

  it('copies only paths that exist in the repository and that .dockerignore sends to the build', () => {
    const copies = of('COPY').filter((i) => !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const sources = parts.slice(0, -1);
      for (const source of sources) {
        expect({ source, exists: existsSync(join(REPO, source)) }).toEqual({ source, exists: true });
        expect({ source, sent: isSentToBuild(source, dockerignore) }).toEqual({ source, sent: true });
      }
    }
  });

  it('keeps data, secrets, local state and installed modules out of the build context', () => {
    for (const path of [
      'tweet_emotions.csv',
      'model/tweet_emotions.csv',
      'node_modules/hono/package.json',
      '.git/config',
      '.stack/htpasswd',
      'dist/services/api/src/server.js',
      'infra/index.ts',
      'tests/unit/api/app.test.ts',
      'Pulumi.dev.yaml',
    ]) {
      expect({ path, sent: isSentToBuild(path, dockerignore) }).toEqual({ path, sent: false });
    }
    expect(isSentToBuild('services/api/src/app.ts', dockerignore)).toBe(true);
  });

  it('starts the file that tsc emits for services/api/src/server.ts, and copies that output directory', () => {
    const configPath = join(REPO, 'services/api/tsconfig.build.json');
    const parsed = ts.getParsedCommandLineOfConfigFile(
      configPath,
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
        },
      },
    )!;
    const server = join(REPO, 'services/api/src/server.ts');
    expect(parsed.fileNames).toContain(server);
    expect(parsed.options.noEmit).toBe(false);
    const outDir = parsed.options.outDir!;
    const rootDir = parsed.options.rootDir!;
    const emitted = relative(REPO, join(outDir, relative(rootDir, server))).replace(/\.ts$/, '.js');
    const cmd = execForm(of('CMD').at(-1)!.args);
    expect(cmd[0]).toBe('node');
    expect(cmd.at(-1)).toBe(emitted);
    for (const flag of cmd.slice(1, -1)) expect(flag).toMatch(/^--[a-z-]+(=\S+)?$/);
    const build = of('RUN').filter((i) => i.stage === 'build');
    expect(build.some((i) => i.args.includes('tsc -p services/api/tsconfig.build.json'))).toBe(true);
    const copied = of('COPY').find((i) => i.args.startsWith('--from=build'));
    expect(copied?.args).toBe(`--from=build /app/${relative(REPO, outDir)} ${relative(REPO, outDir)}`);
    expect(dirname(emitted).startsWith(relative(REPO, outDir))).toBe(true);
  });

  it('installs only the API workspace production dependencies, skipping the CUDA download', () => {
    const deps = of('RUN').find((i) => i.stage === 'deps' && i.args.includes('npm ci'))!;
    expect(deps.args).toMatch(/npm ci --omit=dev -w services\/api\b/);
    for (const stage of ['build', 'deps']) {
      const env = of('ENV').filter((i) => i.stage === stage);
      expect(env.map((i) => i.args)).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
    }
  });

  it('prunes onnxruntime binaries to linux and the target architecture, and checks the binding remains', () => {
    const deps = of('RUN').find((i) => i.stage === 'deps' && i.args.includes('npm ci'))!.args;
    expect(deps).toContain('! -name linux -exec rm -rf');
    expect(deps).toContain('! -name "$arch" -exec rm -rf');
    expect(deps).toContain('test -f "$ort/linux/$arch/onnxruntime_binding.node"');
    // The pruned directory must be where the installed package keeps its binaries.
    expect(
      existsSync(join(REPO, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node')),
    ).toBe(true);
  });

  it('has no `# syntax=` line: BuildKit would pull that frontend image, and offline the build fails', () => {
    expect(readFileSync(DOCKERFILE, 'utf8')).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('hands npm ci a registry and a CA only through a build arg and a secret mount, and fails without node_modules', () => {
    expect(of('ARG').map((i) => i.args)).toContain('NPM_REGISTRY=');
    for (const stage of ['build', 'deps']) {
      const npmCi = of('RUN').find((i) => i.stage === stage && i.args.includes('npm ci'))!.args;
      expect(npmCi.startsWith('--mount=type=secret,id=npm-ca,required=false ')).toBe(true);
      expect(npmCi).toContain('export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca');
      expect(npmCi).toContain('${NPM_REGISTRY:+--registry="$NPM_REGISTRY"}');
      // npm 10 can exit 0 after a failed fetch ("Exit handler never called!") with empty directories left.
      expect(npmCi).toMatch(
        /npm ci [^&]*&& npm ls --all\b[^&]*>\/dev\/null && test -f node_modules\/hono\/package\.json/,
      );
      expect(of('ARG').some((i) => i.stage === stage && i.args === 'NPM_REGISTRY')).toBe(true);
    }
    // The CA never reaches the runtime image: no COPY of it, no ENV pointing at it.
    const runtime = instructions.filter((i) => i.stage === 'runtime');
    expect(runtime.some((i) => /npm-ca|NODE_EXTRA_CA_CERTS|--mount/.test(i.args))).toBe(false);
  });

  it('runs as the non-root node user, exposes the API port, and health-checks /health with node', () => {
    const runtime = instructions.filter((i) => i.stage === 'runtime');
    const user = runtime.filter((i) => i.keyword === 'USER').at(-1);
    expect(user?.args).toBe('node');
    expect(runtime.findIndex((i) => i.keyword === 'USER')).toBeLessThan(
      runtime.findIndex((i) => i.keyword === 'CMD'),
    );
    expect(runtime.find((i) => i.keyword === 'EXPOSE')?.args).toBe(String(PORTS.api));
    expect(runtime.find((i) => i.keyword === 'ENV')?.args).toContain(`PORT=${PORTS.api}`);
    const healthcheck = runtime.find((i) => i.keyword === 'HEALTHCHECK')!;
    const probe = execForm(healthcheck.args.replace(/^(--\S+\s+)*CMD\s+/, ''));
    expect(probe[0]).toBe('node');
    expect(probe.join(' ')).toContain(API_ROUTES.health);
    expect(
      runtime.some((i) => i.keyword === 'COPY' && i.args === 'model/sentiment.onnx model/sentiment.onnx'),
    ).toBe(true);
  });
});
