/** @jest-environment ./tests/unit/api/onnx-environment.ts */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ModelLoadError,
  loadClassifier,
  type ClassifierResult,
  type OnnxClassifier,
} from '../../../services/api/src/classifier';
import { DEFAULT_MODEL_PATH } from '../../../services/api/src/settings';
import { contractNamesModel, wrongNamesModel } from './onnx-fixtures';

describe('loadClassifier on the committed model', () => {
  let classifier: OnnxClassifier;
  beforeAll(async () => {
    classifier = await loadClassifier(DEFAULT_MODEL_PATH);
  });
  afterAll(() => classifier.close());

  it('reports the file name, the sha256 of the file bytes and distinct labels read from the graph', () => {
    const sha256 = createHash('sha256').update(readFileSync(DEFAULT_MODEL_PATH)).digest('hex');
    expect(classifier.info.name).toBe('sentiment');
    expect(classifier.info.sha256).toBe(sha256);
    expect(classifier.info.labels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(classifier.info.labels).size).toBe(classifier.info.labels.length);
  });

  it('classifies "I love this!" as love, with probabilities over every label summing to 1', async () => {
    const { predictions, seconds } = await classifier.predict(['I love this!']);
    expect(predictions).toHaveLength(1);
    const [prediction] = predictions;
    expect(prediction!.label).toBe('love');
    expect(Object.keys(prediction!.probabilities)).toEqual(classifier.info.labels);
    const total = Object.values(prediction!.probabilities).reduce((a, b) => a + b, 0);
    expect(total).toBeCloseTo(1, 5);
    expect(seconds).toBeGreaterThan(0);
  });

  it('labels each sentence with its most probable class', async () => {
    const { predictions } = await classifier.predict(['what a day', 'I hate mondays', 'so happy for you']);
    for (const { label, probabilities } of predictions) {
      const best = Math.max(...Object.values(probabilities));
      expect(probabilities[label]).toBe(best);
    }
  });

  it('gives a batch the same predictions as one call per sentence, in order', async () => {
    const sentences = ['I love this!', 'so tired of this', 'going to the beach tomorrow', 'sad news today'];
    const batch = await classifier.predict(sentences);
    const singles: ClassifierResult[] = [];
    for (const s of sentences) singles.push(await classifier.predict([s]));
    expect(singles.every((r) => r.callSize === 1)).toBe(true);
    expect(batch.predictions.map((p) => p.label)).toEqual(singles.map((r) => r.predictions[0]!.label));
    batch.predictions.forEach((p, i) => {
      for (const label of classifier.info.labels) {
        expect(p.probabilities[label]).toBeCloseTo(singles[i]!.predictions[0]!.probabilities[label]!, 6);
      }
    });
  });

  it('merges concurrent calls into one inference call with the same predictions as separate calls', async () => {
    const sentences = ['I love this!', 'so tired of this', 'going to the beach tomorrow'];
    const alone: ClassifierResult[] = [];
    for (const s of sentences) alone.push(await classifier.predict([s]));
    expect(alone.map((r) => r.callSize)).toEqual([1, 1, 1]);
    const together = await Promise.all(sentences.map((s) => classifier.predict([s])));
    expect(together.map((r) => r.callSize)).toEqual([3, 3, 3]);
    expect(together.filter((r) => r.firstInCall)).toHaveLength(1);
    together.forEach((r, i) => {
      expect(r.predictions).toHaveLength(1);
      expect(r.predictions[0]!.label).toBe(alone[i]!.predictions[0]!.label);
      for (const label of classifier.info.labels) {
        expect(r.predictions[0]!.probabilities[label]).toBeCloseTo(
          alone[i]!.predictions[0]!.probabilities[label]!,
          6,
        );
      }
    });
  });

  it('handles text the tokenizer may find odd (emoji, markup, other scripts) without failing', async () => {
    const { predictions } = await classifier.predict([
      '😀😀',
      '<b>&amp;</b>',
      'こんにちは',
      '\u0000\u200b',
      'a'.repeat(5000),
    ]);
    expect(predictions).toHaveLength(5);
    for (const p of predictions) expect(classifier.info.labels).toContain(p.label);
  });
});

describe('loadClassifier failures name the path and the problem', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'api-classifier-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, bytes: Uint8Array | string) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return path;
  };

  it.each([
    ['a missing file', () => join(dir, 'absent.onnx'), /absent\.onnx: file not found \(set MODEL_PATH/],
    ['an empty file', () => write('empty.onnx', ''), /empty\.onnx is not a loadable ONNX model/],
    [
      'random bytes',
      () => write('corrupt.onnx', Buffer.from('not a protobuf \x00\xff'.repeat(40), 'latin1')),
      /corrupt\.onnx is not a loadable ONNX model/,
    ],
    [
      'a graph with other input/output names',
      () => write('names.onnx', wrongNamesModel()),
      /does not match the contract: expected input \[text\] and outputs \[label, probabilities, classes\], got inputs \[x\] and outputs \[y\]/,
    ],
    [
      'classes with a duplicate label',
      () => write('dupes.onnx', contractNamesModel(['joy', 'joy'], 2)),
      /classes must be distinct non-empty labels/,
    ],
    [
      'probabilities narrower than classes',
      () => write('narrow.onnx', contractNamesModel(['joy', 'anger', 'fear'], 2)),
      /probabilities must be \[N, 3\] to match classes/,
    ],
  ])('rejects %s', async (_case, path, message) => {
    const attempt = loadClassifier(path());
    await expect(attempt).rejects.toBeInstanceOf(ModelLoadError);
    await expect(attempt).rejects.toThrow(message);
  });
});
