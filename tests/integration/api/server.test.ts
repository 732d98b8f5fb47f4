import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { API_ROUTES, API_VERSION_HEADER, REQUEST_ID_HEADER } from '../../../deployments/names';
import { MAX_BODY_BYTES } from '../../../services/api/src/schemas';
import { DEFAULT_MODEL_PATH } from '../../../services/api/src/settings';
import { SHUTDOWN_GRACE_MS } from '../../../services/api/src/server';
import { wrongNamesModel } from '../../unit/api/onnx-fixtures';
import { closedWithin, openSocket, postHead, readResponse, refusedWithin } from './http';
import { REPO, exitWithin, spawnReplica, startReplica, type Replica } from './replica';

// Process start-up (tsx), the tsc build and the 8 s shutdown grace need more than jest's default 5 s.
jest.setTimeout(120_000);

const run = promisify(execFile);
const started: Replica[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.kill()));
});
const track = <T extends Replica>(replica: T): T => {
  started.push(replica);
  return replica;
};

interface Prediction {
  prediction: string;
  'prediction value': string;
  version: string;
  replica: string;
  probabilities?: Record<string, number>;
  model?: { sha256: string };
}

const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}${API_ROUTES.predict}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

describe('a replica started with node --import tsx services/api/src/server.ts', () => {
  let replica: Awaited<ReturnType<typeof startReplica>>;
  beforeAll(async () => {
    replica = await startReplica({ REPLICA_ID: 'it-v1' });
  });
  afterAll(() => replica.kill());

  it('serves predictions, readiness and metrics over HTTP', async () => {
    const res = await postJson(replica.url, { sentence: 'I love this!' }, { [REQUEST_ID_HEADER]: 'it-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get(REQUEST_ID_HEADER)).toBe('it-1');
    expect(res.headers.get(API_VERSION_HEADER)).toBe('v1');
    expect(await res.json()).toEqual({
      prediction: 'love',
      'prediction value': 'love',
      version: 'v1',
      replica: 'it-v1',
    });
    expect((await fetch(`${replica.url}${API_ROUTES.ready}`)).status).toBe(200);
    const metrics = await (await fetch(`${replica.url}${API_ROUTES.metrics}`)).text();
    expect(metrics).toMatch(/^model_info\{model="sentiment",sha256="[0-9a-f]{64}",labels="[^"]+"\} 1$/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    const logged = replica.lines.find((l) => l.msg === 'request' && l.reqId === 'it-1');
    expect(logged).toMatchObject({
      method: 'POST',
      path: '/predict',
      status: 200,
      replica: 'it-v1',
      variant: 'v1',
    });
  });

  it('answers 64 concurrent requests, each with its own request id and the same answer as alone', async () => {
    const sentences = ['I love this!', 'worst day ever', 'see you tomorrow', 'so bored right now'];
    const alone = await Promise.all(
      sentences.map(
        async (sentence) =>
          ((await (await postJson(replica.url, { sentence })).json()) as Prediction).prediction,
      ),
    );
    const responses = await Promise.all(
      Array.from({ length: 64 }, async (_, i) => {
        const id = `concurrent-${i}`;
        const res = await postJson(
          replica.url,
          { sentence: sentences[i % sentences.length] },
          { [REQUEST_ID_HEADER]: id },
        );
        return {
          id,
          status: res.status,
          echoed: res.headers.get(REQUEST_ID_HEADER),
          body: (await res.json()) as Prediction,
        };
      }),
    );
    responses.forEach((r, i) => {
      expect(r).toMatchObject({ status: 200, echoed: r.id });
      expect(r.body.prediction).toBe(alone[i % sentences.length]);
    });
  });

  it('rejects a chunked body over 64 KiB with a 413 JSON error', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = request(`${replica.url}${API_ROUTES.predict}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => done({ status: res.statusCode!, body: text }));
      });
      req.on('error', fail);
      setTimeout(() => fail(new Error('no answer within 15 s: the limit did not apply')), 15_000).unref();
      // Just over the limit, then stop (without ending the body): writing on after the server has
      // answered and closed would race its reset against reading the answer.
      const chunk = 'a'.repeat(4096);
      for (let written = 0; written <= MAX_BODY_BYTES; written += chunk.length) req.write(chunk);
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'payload_too_large', field: 'body' } });
  });

  it('rejects a declared Content-Length over 64 KiB before the body is sent, and closes the connection', async () => {
    const socket = await openSocket(replica.port);
    try {
      socket.write(postHead(API_ROUTES.predict, MAX_BODY_BYTES + 1));
      const response = await readResponse(socket);
      expect(response.status).toBe(413);
      expect(response.headers.connection).toBe('close');
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'payload_too_large' } });
      await closedWithin(socket, 5000);
    } finally {
      socket.destroy();
    }
  });
});

it('a v2 replica answers with probabilities, the model sha256 and its REPLICA_ID', async () => {
  const replica = track(await startReplica({ API_VARIANT: 'v2', REPLICA_ID: 'debug-0' }));
  const res = await postJson(replica.url, { sentences: ['I love this!', 'so sad today'] });
  expect(res.status).toBe(200);
  expect(res.headers.get(API_VERSION_HEADER)).toBe('v2');
  const { predictions } = (await res.json()) as { predictions: Prediction[] };
  const sha256 = createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex');
  expect(predictions).toHaveLength(2);
  for (const p of predictions) {
    expect(p).toMatchObject({ version: 'v2', replica: 'debug-0', model: { sha256 } });
    expect(Object.values(p.probabilities!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }
});

describe('SIGTERM', () => {
  const body = JSON.stringify({ sentence: 'I love this!' });

  it('stops accepting, finishes the in-flight request, closes idle keep-alive connections and exits 0 within 10 s', async () => {
    const replica = track(await startReplica());
    const inFlight = await openSocket(replica.port);
    const idle = await openSocket(replica.port);
    try {
      inFlight.write(postHead(API_ROUTES.predict, Buffer.byteLength(body)) + body.slice(0, 10));
      // A round trip on another connection, sent after the partial request, so the server has read it.
      idle.write(`GET ${API_ROUTES.health} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect((await readResponse(idle)).status).toBe(200);

      const signalled = Date.now();
      replica.child.kill('SIGTERM');
      await replica.waitForLog('draining', 5000);
      await refusedWithin(replica.port, 3000);
      await closedWithin(idle, 3000);

      inFlight.write(body.slice(10));
      const response = await readResponse(inFlight);
      expect(response.status).toBe(200);
      expect(response.headers.connection).toBe('close');
      expect(JSON.parse(response.body)).toMatchObject({ prediction: 'love' });

      const exit = await exitWithin(replica, 10_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(10_000);
      expect(replica.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));
    } finally {
      inFlight.destroy();
      idle.destroy();
    }
  });

  it('gives up on a request that never completes once the grace period ends, exiting non-zero within 10 s', async () => {
    const replica = track(await startReplica());
    const stalled = await openSocket(replica.port);
    const probe = await openSocket(replica.port);
    try {
      stalled.write(postHead(API_ROUTES.predict, Buffer.byteLength(body)) + body.slice(0, 5));
      probe.write(`GET ${API_ROUTES.health} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect((await readResponse(probe)).status).toBe(200);
      const signalled = Date.now();
      replica.child.kill('SIGTERM');
      const exit = await exitWithin(replica, 10_000);
      const elapsed = Date.now() - signalled;
      expect(exit).toEqual({ code: 1, signal: null });
      expect(elapsed).toBeGreaterThanOrEqual(SHUTDOWN_GRACE_MS - 100);
      expect(elapsed).toBeLessThan(10_000);
      expect(replica.lines.map((l) => l.msg)).toContain(
        'in-flight requests did not finish in time; closing connections',
      );
    } finally {
      stalled.destroy();
      probe.destroy();
    }
  });
});

describe('start-up failures end the process with a clear message and a non-zero exit', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-startup-'));
    writeFileSync(join(dir, 'corrupt.onnx'), Buffer.from('definitely not onnx '.repeat(50)));
    writeFileSync(join(dir, 'wrong-names.onnx'), wrongNamesModel());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [
      'a missing model',
      () => ({ MODEL_PATH: join(dir, 'absent.onnx') }),
      /absent\.onnx: file not found \(set MODEL_PATH/,
    ],
    [
      'a corrupt model',
      () => ({ MODEL_PATH: join(dir, 'corrupt.onnx') }),
      /corrupt\.onnx is not a loadable ONNX model/,
    ],
    [
      'a model breaking the input/output contract',
      () => ({ MODEL_PATH: join(dir, 'wrong-names.onnx') }),
      /does not match the contract: expected input \[text\]/,
    ],
    [
      'an unknown API_VARIANT',
      () => ({ API_VARIANT: 'v3' }),
      /invalid configuration: API_VARIANT must be one of v1, v2/,
    ],
    [
      'an invalid PORT',
      () => ({ PORT: '99999' }),
      /invalid configuration: PORT must be an integer from 0 to 65535/,
    ],
    [
      'an invalid LOG_LEVEL',
      () => ({ LOG_LEVEL: 'loud' }),
      /invalid configuration: LOG_LEVEL must be one of/,
    ],
  ])('%s', async (_case, env, message) => {
    const replica = track(spawnReplica(env()));
    const exit = await exitWithin(replica, 30_000);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(replica.stderr()).toMatch(message);
    expect(replica.lines.some((l) => l.msg === 'listening')).toBe(false);
  });

  it('a port already in use', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const { port } = blocker.address() as { port: number };
    try {
      const replica = track(spawnReplica({ PORT: String(port) }));
      const exit = await exitWithin(replica, 30_000);
      expect(exit.code).toBe(1);
      expect(replica.stderr()).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`));
    } finally {
      blocker.close();
    }
  });
});

describe('the built server in the image layout (/app/{dist,node_modules,model})', () => {
  let app: string;
  beforeAll(async () => {
    app = mkdtempSync(join(tmpdir(), 'api-image-'));
    await run(
      process.execPath,
      [
        join(REPO, 'node_modules/typescript/bin/tsc'),
        '-p',
        'services/api/tsconfig.build.json',
        '--outDir',
        join(app, 'dist'),
      ],
      { cwd: REPO, timeout: 90_000 },
    );
    symlinkSync(join(REPO, 'node_modules'), join(app, 'node_modules'));
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const dockerfile = () => readFileSync(join(REPO, 'services/api/Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const healthcheck = (): string => {
    const exec = /^HEALTHCHECK\s.*?CMD\s+(\[.*\])\s*$/m.exec(dockerfile())![1]!;
    const [node, flag, script] = JSON.parse(exec) as string[];
    expect([node, flag]).toEqual(['node', '-e']);
    return script!;
  };
  /** The runtime CMD's arguments after `node`, run from the image's /app layout. */
  const imageArgs = (): string[] => {
    const [node, ...args] = JSON.parse(/^CMD\s+(\[.*\])\s*$/m.exec(dockerfile())![1]!) as string[];
    expect(node).toBe('node');
    return args;
  };
  const probe = (script: string, port: number) =>
    run(process.execPath, ['-e', script], {
      env: { ...process.env, PORT: String(port) },
      timeout: 10_000,
    }).then(
      () => 0,
      (error: { code?: number }) => error.code ?? -1,
    );

  it('finds the model next to dist/ by default, naming the path it looked for when absent', async () => {
    const replica = track(spawnReplica({}, { args: imageArgs(), cwd: app }));
    await exitWithin(replica, 30_000);
    expect(replica.stderr()).toContain(`${join(app, 'model', 'sentiment.onnx')}: file not found`);
  });

  it('starts with the Dockerfile CMD and passes the Dockerfile HEALTHCHECK probe', async () => {
    mkdirSync(join(app, 'model'), { recursive: true });
    copyFileSync(DEFAULT_MODEL_PATH, join(app, 'model', 'sentiment.onnx'));
    const replica = track(await startReplica({}, { args: imageArgs(), cwd: app }));
    const res = await postJson(replica.url, { sentence: 'I love this!' });
    expect(res.status).toBe(200);
    const script = healthcheck();
    expect(await probe(script, replica.port)).toBe(0);
    replica.child.kill('SIGTERM');
    expect(await exitWithin(replica, 10_000)).toEqual({ code: 0, signal: null });
    expect(await probe(script, replica.port)).toBe(1);
  });
});

it('npm run api starts a replica, and SIGTERM to its process group stops it cleanly', async () => {
  const replica = track(
    await startReplica(
      { REPLICA_ID: 'npm-run' },
      { command: 'npm', args: ['run', '--silent', 'api'], detached: true },
    ),
  );
  expect((await fetch(`${replica.url}${API_ROUTES.health}`)).status).toBe(200);
  process.kill(-replica.child.pid!, 'SIGTERM');
  // npm's own exit status on a signal varies by version; the replica's clean stop is what matters.
  await exitWithin(replica, 10_000);
  // npm can exit before the replica it started has drained; the shared stdout pipe ends only once
  // the replica itself has exited, so wait for that (bounded) before reading its log.
  const stdout = replica.child.stdout!;
  if (!stdout.readableEnded) {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('replica stdout still open 10 s after npm exited')),
        10_000,
      );
      stdout.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  expect(replica.lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['draining', 'stopped']));
});
