/**
 * @jest-environment ./tests/unit/api/onnx-environment.ts
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { MODEL_IO, readOnnxModel } from '../../../model/src/onnx';
import { ReferenceScorer } from '../../../model/src/reference';
import type { ModelCard } from '../../../model/src/train';

// Session creation and batch runs can wait for a core when the whole suite runs on 2 workers.
jest.setTimeout(60_000);

const modelDir = join(__dirname, '../../../model');
const bytes = readFileSync(join(modelDir, 'sentiment.onnx'));
const card = JSON.parse(readFileSync(join(modelDir, 'model-card.json'), 'utf8')) as ModelCard;

/** Golden sentences (written for this test, not taken from the data set) and their expected labels. */
const GOLDEN: [string, string][] = [
  ['I love this!', 'love'],
  ['I love you so much', 'love'],
  ['happy mothers day to all the moms out there', 'love'],
  ['I miss him so much, so sad', 'sadness'],
  ['I am so worried about my exam tomorrow', 'worry'],
  ['I hate this stupid weather', 'hate'],
];

/** Sentences for the reference-vs-onnxruntime parity check (also written for this test). */
const PARITY = [
  ...GOLDEN.map(([text]) => text),
  'just got home from work',
  "can't believe the concert is finally tonight!!",
  'why does my phone always die when I need it',
  'what a beautiful morning :)',
  '@friend thanks for the follow!',
  'nothing to do today... so bored',
  'Ugh. Stuck in traffic AGAIN?!',
  'Best. Day. Ever.',
  'LOL that was hilarious',
  'feeling a bit under the weather today',
  'I love 😀😀😀😀😀😀😀',
  'İstanbul trip was amazing',
  'café au lait and croissants',
  "don't worry, be happy",
  'x'.repeat(500),
  '!!!',
  '???',
  '',
  '😀',
];

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

describe('the committed model/sentiment.onnx', () => {
  let session: ort.InferenceSession;

  beforeAll(async () => {
    session = await ort.InferenceSession.create(join(modelDir, 'sentiment.onnx'), {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  });

  afterAll(async () => {
    await session?.release();
  });

  test('matches its card: sha256, size <= 5 MB, labels, opsets', () => {
    expect(card.model.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(card.model.bytes).toBe(bytes.length);
    expect(bytes.length).toBeLessThanOrEqual(5 * 1024 * 1024);
    const proto = onnx.ModelProto.decode(bytes);
    expect(
      Object.fromEntries(proto.opsetImport.map((o) => [o.domain || 'ai.onnx', Number(o.version)])),
    ).toEqual(card.opsets);
    expect(Number(proto.irVersion)).toBe(card.irVersion);
    expect(readOnnxModel(bytes).labels).toEqual(card.labels);
  });

  test('its card records held-out metrics above the quality bar and the classroom baseline', () => {
    expect(card.split).toMatchObject({ testFraction: 0.2, seed: 42 });
    expect(card.heldOut.accuracy).toBeGreaterThanOrEqual(0.355);
    expect(card.heldOut.macroF1).toBeGreaterThanOrEqual(0.2);
    expect(card.heldOut.accuracy).toBeGreaterThan(card.heldOut.majorityClassAccuracy);
    const matrix = card.heldOut.confusionMatrix.matrix;
    const total = matrix.flat().reduce((s, v) => s + v, 0);
    expect(total).toBe(card.split.testRows);
    const diagonal = matrix.reduce((s, row, i) => s + (row[i] ?? 0), 0);
    expect(diagonal / total).toBeCloseTo(card.heldOut.accuracy, 4);
    expect(card.dataset).toMatchObject({ file: 'tweet_emotions.csv', rows: 40000 });
  });

  test('outputs the 13 classes of its card, in the card order', async () => {
    const out = await score(session, ['hello']);
    expect(out.classes).toEqual(card.labels);
    expect(out.dims).toEqual([1, card.labels.length]);
  });

  test.each(GOLDEN)('golden: %j -> %s', async (text, label) => {
    const out = await score(session, [text]);
    expect(out.labels[0]).toBe(label);
  });

  test('the TypeScript reference agrees with onnxruntime (probabilities within 1e-4, same labels)', async () => {
    const reference = new ReferenceScorer(readOnnxModel(bytes));
    const out = await score(session, PARITY);
    PARITY.forEach((text, i) => {
      const ref = reference.predict(text);
      expect({ text, label: out.labels[i] }).toEqual({ text, label: ref.label });
      const worst = Math.max(
        ...(out.probabilities[i] ?? []).map((p, c) => Math.abs(p - (ref.probabilities[c] ?? 0))),
      );
      expect({ text, worst: worst < 1e-4 }).toEqual({ text, worst: true });
    });
  });

  test('gives every sentence a probability distribution, even a batch in which no sentence has a token', async () => {
    for (const batch of [
      ['', '😀', '...', '   '],
      ['😀'],
      PARITY,
      Array.from({ length: 64 }, (_, i) => PARITY[i % PARITY.length] ?? ''),
    ]) {
      const out = await score(session, batch);
      expect(out.labels).toHaveLength(batch.length);
      for (const row of out.probabilities) {
        expect(row.every((p) => Number.isFinite(p) && p > 0)).toBe(true);
        expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
      }
    }
  });
});
