/**
 * @jest-environment ./tests/unit/api/onnx-environment.ts
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '../../../model/src/dataset';
import { MODEL_IO, readOnnxModel } from '../../../model/src/onnx';
import { ReferenceScorer } from '../../../model/src/reference';
import {
  runTraining,
  writeArtifacts,
  type TrainingResult,
  type TrainingSettings,
} from '../../../model/src/train';

const root = join(__dirname, '../../..');
const fixture = join(root, 'tests/fixtures/model/tiny.csv');
const run = promisify(execFile);

// Training runs in-process and the CLI spawns tsx: allow for a loaded 2-core machine.
jest.setTimeout(120_000);

/** Small search space that suits the 42-row fixture. */
const TINY: TrainingSettings = {
  testFraction: 0.2,
  folds: 3,
  macroF1Floor: 0,
  seed: 42,
  space: { c: [10], minDf: [1], maxFeatures: [1000], charMaxFeatures: [1000], classWeightPower: [0] },
  fixed: { ngramMax: 2, charNgramMin: 2, charNgramMax: 4, maxIterations: 300 },
};

/** Sentences that are not in the fixture. */
const HELD_OUT = [
  'I love my friends',
  'so sad and lonely',
  'worried about tomorrow',
  'LOVE LOVE LOVE',
  'the exam is tomorrow and I am nervous',
  'my dog is sick, I miss him',
  'a sentence with no known words at all',
  'mixed: love, sad, worried?',
];

/** Inputs with no token the model knows: each must get the intercept prior, alone or in a batch. */
const NO_TOKENS = ['', '😀', '\u0000', '☃☃'];

async function score(session: ort.InferenceSession, texts: string[]) {
  const out = await session.run({ [MODEL_IO.input]: new ort.Tensor('string', texts, [texts.length]) });
  const probs = out[MODEL_IO.probabilities] as ort.Tensor;
  const k = Number(probs.dims[1]);
  const data = probs.data as Float32Array;
  return {
    labels: (out[MODEL_IO.label] as ort.Tensor).data as string[],
    probabilities: texts.map((_, i) => Array.from(data.subarray(i * k, (i + 1) * k))),
    classes: (out[MODEL_IO.classes] as ort.Tensor).data as string[],
    dims: probs.dims,
  };
}

describe('training on the fixture, exporting, and serving with onnxruntime-node', () => {
  let dir: string;
  let result: TrainingResult;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'model-train-'));
    result = runTraining(loadDataset(fixture), TINY);
    const { modelPath } = writeArtifacts(result, dir);
    session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  });

  afterAll(async () => {
    await session?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the session exposes the contract: input text; outputs label, probabilities, classes', () => {
    expect(session.inputNames).toEqual([MODEL_IO.input]);
    expect([...session.outputNames].sort()).toEqual(
      [MODEL_IO.classes, MODEL_IO.label, MODEL_IO.probabilities].sort(),
    );
  });

  test('predicts labels from the label set with probability rows that sum to 1', async () => {
    const out = await score(session, HELD_OUT);
    expect(out.classes).toEqual(['love', 'sadness', 'worry']);
    expect(out.dims).toEqual([HELD_OUT.length, 3]);
    for (const [i, label] of out.labels.entries()) {
      expect(out.classes).toContain(label);
      const row = out.probabilities[i] ?? [];
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      expect(row.every((p) => p > 0 && p < 1)).toBe(true);
      // The label is the most probable class.
      expect(out.classes[row.indexOf(Math.max(...row))]).toBe(label);
    }
    expect(out.labels.slice(0, 3)).toEqual(['love', 'sadness', 'worry']);
  });

  test('the TypeScript reference scorer agrees with onnxruntime (probabilities within 1e-4, same labels)', async () => {
    const reference = new ReferenceScorer(result.model);
    const sentences = [...HELD_OUT, ...NO_TOKENS, 'I love 😀😀😀😀😀😀😀', 'İ LOVE it', 'SAD \u212a'];
    const out = await score(session, sentences);
    sentences.forEach((text, i) => {
      const ref = reference.predict(text);
      expect({ text, label: out.labels[i] }).toEqual({ text, label: ref.label });
      (out.probabilities[i] ?? []).forEach((p, c) =>
        expect(Math.abs(p - (ref.probabilities[c] ?? 0))).toBeLessThan(1e-4),
      );
    });
  });

  test('a sentence without known tokens gets the intercept prior, alone and in an all-empty batch', async () => {
    const intercepts = Array.from(result.model.linear.intercepts);
    const max = Math.max(...intercepts);
    const e = intercepts.map((b) => Math.exp(b - max));
    const prior = e.map((v) => v / e.reduce((s, x) => s + x, 0));
    const single = await score(session, ['☃']);
    const batch = await score(session, NO_TOKENS);
    for (const row of [...single.probabilities, ...batch.probabilities]) {
      row.forEach((p, c) => expect(p).toBeCloseTo(prior[c] ?? 0, 5));
    }
    expect(batch.labels).toHaveLength(NO_TOKENS.length);
  });

  test('the model read back from the ONNX file scores like the trained model', () => {
    const fromFile = new ReferenceScorer(readOnnxModel(readFileSync(join(dir, 'sentiment.onnx'))));
    const trained = new ReferenceScorer(result.model);
    for (const text of HELD_OUT) {
      const a = fromFile.predict(text);
      const b = trained.predict(text);
      expect(a.label).toBe(b.label);
      a.probabilities.forEach((p, c) => expect(p).toBeCloseTo(b.probabilities[c] ?? 0, 5));
    }
  });

  test('training is deterministic: the same data and seed give a byte-identical model', () => {
    const again = runTraining(loadDataset(fixture), TINY);
    expect(Buffer.from(again.onnx).equals(Buffer.from(result.onnx))).toBe(true);
  });

  test('the card records the split, held-out metrics and the model file hash', () => {
    const { card } = result;
    expect(card.dataset).toMatchObject({ file: 'tiny.csv', rows: 42 });
    expect(card.split).toMatchObject({ testFraction: 0.2, seed: 42, trainRows: 33, testRows: 9 });
    expect(card.heldOut.confusionMatrix.matrix.flat().reduce((s, v) => s + v, 0)).toBe(9);
    expect(card.model.bytes).toBe(result.onnx.length);
    expect(card.trainedOn).toMatch(/all 42 rows/);
  });
});

describe('npm run train (the CLI as a process)', () => {
  const tsx = join(root, 'node_modules/.bin/tsx');
  const cli = join(root, 'model/src/cli.ts');

  test('writes sentiment.onnx and model-card.json and prints the held-out metrics', async () => {
    const out = mkdtempSync(join(tmpdir(), 'model-cli-'));
    try {
      const args = ['--data', fixture, '--out', out, '--c', '10', '--min-df', '1', '--max-features', '500'];
      const { stdout, stderr } = await run(tsx, [cli, ...args, '--class-weight-power', '0'], { cwd: root });
      expect(JSON.parse(stdout)).toMatchObject({ model: join(out, 'sentiment.onnx') });
      expect(stderr).toMatch(/fitting the final model on all 42 rows/);
      expect(existsSync(join(out, 'sentiment.onnx'))).toBe(true);
      const card = JSON.parse(readFileSync(join(out, 'model-card.json'), 'utf8')) as { labels: string[] };
      expect(card.labels).toEqual(['love', 'sadness', 'worry']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test.each([
    [
      ['--data', join(root, 'tests/fixtures/model/bad/bad-quoting.csv')],
      1,
      /error: bad-quoting\.csv:3: bad quoting/,
    ],
    [
      ['--data', join(root, 'tests/fixtures/model/missing.csv')],
      1,
      /error: missing\.csv: cannot read .*ENOENT/,
    ],
    [[], 2, /--data <csv> is required/],
    [['--data', fixture, '--c', 'abc'], 2, /--c must be a comma-separated list/],
  ])('fails cleanly on %j (exit %i, message on stderr)', async (args, code, message) => {
    const failure = await run(tsx, [cli, ...args], { cwd: root }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(code);
    expect(failure?.stderr).toMatch(message);
  });
});
