/**
 * `npm run dev` and `npm run smoke` as a person runs them: the dev CLI starts the stack on chosen
 * ports, writes dev.json and a summary, the smoke CLI passes against it (and fails with a wrong
 * password), and SIGTERM stops every process the dev CLI started.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from '../../../deployments/local/ports';
import { pollUntil } from '../../../deployments/local/readiness';
import { type DevJson, REPO_ROOT } from '../../../deployments/local/stack';

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs a TypeScript entry point of the repo with node + tsx, capturing stdout and stderr. */
function runScript(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, script), ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** The live processes whose parent is `pid`, with their command lines (Linux /proc). */
function children(pid: number): { pid: number; command: string }[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
        if (Number(fields[1]) !== pid) return [];
        const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
        return [{ pid: Number(entry), command }];
      } catch {
        return [];
      }
    });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const mode = async (file: string) => (await stat(file)).mode & 0o777;

let dir: string;
let dev: Run | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dev-cli-'));
});

afterAll(async () => {
  if (dev !== undefined && dev.child.exitCode === null) {
    dev.child.kill('SIGTERM');
    await dev.exited;
  }
  await rm(dir, { recursive: true, force: true });
});

test('npm run dev starts the stack, smoke passes, SIGTERM stops every process', async () => {
  const [httpsPort, httpPort] = (await freePorts(2)) as [number, number];
  const stackDir = path.join(dir, 'stack');
  dev = runScript('deployments/local/dev.ts', [
    '--https-port',
    String(httpsPort),
    '--http-port',
    String(httpPort),
    '--dir',
    stackDir,
  ]);
  const run = dev;
  let exitCode: number | null | undefined;
  void run.exited.then((code) => (exitCode = code));
  await pollUntil(
    async () => {
      if (exitCode !== undefined) throw new Error(`dev exited early (${exitCode}):\n${run.output()}`);
      return run.output().includes('Ctrl-C');
    },
    { what: 'the dev summary', timeoutMs: 90_000, intervalMs: 200 },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n${run.output()}`);
  });

  // dev.json: the documented shape, readable by its owner only.
  const devJsonPath = path.join(stackDir, 'dev.json');
  const devJson = JSON.parse(await readFile(devJsonPath, 'utf8')) as DevJson;
  expect(devJson.urls.https).toBe(`https://localhost:${httpsPort}`);
  expect(devJson.urls.http).toBe(`http://localhost:${httpPort}`);
  expect(devJson.caCert).toBe(path.join(stackDir, 'tls', 'ca.crt'));
  expect(devJson.auth.user).toBe('api');
  expect(devJson.auth.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
  expect(await mode(stackDir)).toBe(0o700);
  for (const secret of ['dev.json', 'netrc', 'htpasswd', 'tls/ca.key', 'tls/server.key']) {
    expect([secret, await mode(path.join(stackDir, secret))]).toEqual([secret, 0o600]);
  }
  // The password is not in the htpasswd file in clear.
  expect(await readFile(path.join(stackDir, 'htpasswd'), 'utf8')).not.toContain(devJson.auth.password);

  // The summary has a ready-to-paste curl with the CA, the credentials file and the URL, and it works;
  // the password itself is never printed.
  expect(run.output()).not.toContain(devJson.auth.password);
  const curl = run
    .output()
    .split('\n')
    .find((line) => line.trim().startsWith('curl '))!;
  expect(curl).toContain(`--cacert ${devJson.caCert}`);
  expect(curl).toContain(`--netrc-file ${path.join(stackDir, 'netrc')}`);
  expect(curl).toContain(`https://localhost:${httpsPort}/predict`);
  const pasted = spawnSync('sh', ['-c', `${curl.trim()} --silent --show-error --max-time 10`], {
    encoding: 'utf8',
  });
  expect([pasted.status, pasted.stderr]).toEqual([0, '']);
  expect(JSON.parse(pasted.stdout)).toMatchObject({ version: 'v1' });

  // npm run smoke against it: every check passes, one line each, then the count.
  const smoke = runScript('deployments/local/smoke.ts', ['--stack-file', devJsonPath]);
  expect(await smoke.exited).toBe(0);
  const smokeLines = smoke.output().trim().split('\n');
  expect(smokeLines.at(-1)).toMatch(/^\d+ passed, 0 failed$/);
  const passed = Number(/^(\d+) passed/.exec(smokeLines.at(-1)!)![1]);
  expect(smokeLines.filter((line) => line.startsWith('PASS  '))).toHaveLength(passed);
  expect(passed).toBeGreaterThanOrEqual(15);

  // ... and fails, exiting non-zero, when the password is wrong.
  const wrongPath = path.join(dir, 'wrong.json');
  await writeFile(
    wrongPath,
    JSON.stringify({ ...devJson, auth: { ...devJson.auth, password: 'not-the-password' } }),
  );
  const wrong = runScript('deployments/local/smoke.ts', ['--stack-file', wrongPath]);
  expect(await wrong.exited).toBe(1);
  expect(wrong.output()).toMatch(/^FAIL {2}200 with the credentials/m);
  expect(wrong.output().trim().split('\n').at(-1)).toMatch(/^\d+ passed, [1-9]\d* failed$/);

  // SIGTERM: every child (replicas, nginx master and workers, any monitoring process) is gone.
  const started = children(run.child.pid!);
  expect(started.filter((c) => c.command.includes('services/api/src/server.ts'))).toHaveLength(4);
  const nginxMaster = Number((await readFile(path.join(stackDir, 'nginx', 'nginx.pid'), 'utf8')).trim());
  expect(started.map((c) => c.pid)).toContain(nginxMaster);
  const nginxWorkers = children(nginxMaster);
  expect(nginxWorkers.length).toBeGreaterThan(0);
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  // Grandchildren (nginx workers) are reaped by their own parent: allow it a moment, then name survivors.
  const survivors = () => [...started, ...nginxWorkers].filter(({ pid }) => alive(pid)).map((p) => p.command);
  await pollUntil(async () => survivors().length === 0, {
    what: 'every child to exit',
    timeoutMs: 5_000,
  }).catch(() => undefined);
  expect(survivors()).toEqual([]);
  expect(await portAccepts(httpsPort)).toBe(false);
  expect(await portAccepts(httpPort)).toBe(false);
}, 180_000);

test('npm run dev without nginx says how to install it', async () => {
  const run = runScript('deployments/local/dev.ts', ['--dir', path.join(dir, 'no-nginx')], {
    ...process.env,
    NGINX_BIN: path.join(dir, 'no-such-nginx'),
  });
  expect(await run.exited).toBe(1);
  expect(run.output()).toMatch(/nginx was not found/);
  expect(run.output()).toMatch(/apt-get install nginx/);
}, 60_000);
