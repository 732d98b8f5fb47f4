import { argmaxRows, evaluate } from '../../../model/src/metrics';
import { classWeights } from '../../../model/src/pipeline';
import { ReferenceScorer } from '../../../model/src/reference';
import { candidates, fitOffsets, pickCandidate, selectionScore } from '../../../model/src/select';

describe('fitOffsets', () => {
  test('raises a class the raw logits never predict when that improves the selection score', () => {
    // Class 2 is always second-best by 0.3 in its own rows: an offset of > 0.3 recovers it.
    const truth = Int32Array.from([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    const rows = [
      [2, 1, 0],
      [2, 1, 0],
      [2, 1, 0],
      [0, 2, 1],
      [0, 2, 1],
      [0, 2, 1],
      [1, 0, 0.7],
      [1, 0, 0.7],
      [1, 0, 0.7],
    ];
    const logits = Float64Array.from(rows.flat());
    const before = selectionScore(evaluate(truth, argmaxRows(logits, 3), 3));
    const offsets = fitOffsets(logits, truth, 3);
    expect(offsets[0]).toBe(0);
    expect(offsets[2]).toBeGreaterThan(0.3);
    const shifted = Float64Array.from(logits, (v, i) => v + (offsets[i % 3] ?? 0));
    const after = evaluate(truth, argmaxRows(shifted, 3), 3);
    expect(selectionScore(after)).toBeGreaterThan(before);
    expect(after.accuracy).toBe(1);
  });

  test('keeps all offsets at zero when nothing improves', () => {
    const truth = Int32Array.from([0, 1]);
    expect(fitOffsets(Float64Array.from([1, 0, 0, 1]), truth, 2)).toEqual([0, 0]);
  });
});

describe('pickCandidate', () => {
  const trials = [
    { accuracy: 0.37, macroF1: 0.19 },
    { accuracy: 0.36, macroF1: 0.21 },
    { accuracy: 0.355, macroF1: 0.22 },
  ];

  test('takes the most accurate candidate whose macro-F1 reaches the floor', () => {
    expect(pickCandidate(trials, 0.205)).toBe(1);
    expect(pickCandidate(trials, 0)).toBe(0);
  });

  test('falls back to the best macro-F1 when no candidate reaches the floor', () => {
    expect(pickCandidate(trials, 0.3)).toBe(2);
  });
});

describe('candidates', () => {
  test('enumerates the grid with C ascending inside each group', () => {
    const grid = candidates(
      { c: [4, 1], minDf: [2], maxFeatures: [10], charMaxFeatures: [0], classWeightPower: [0, 0.5] },
      { ngramMax: 2, charNgramMin: 2, charNgramMax: 4, maxIterations: 5 },
    );
    expect(grid.map((h) => [h.classWeightPower, h.c])).toEqual([
      [0, 1],
      [0, 4],
      [0.5, 1],
      [0.5, 4],
    ]);
  });
});

describe('classWeights', () => {
  test('power 0 is uniform, power 1 is scikit-learn balanced n / (C * n_c)', () => {
    const y = [0, 0, 0, 1];
    expect(Array.from(classWeights(y, 2, 0))).toEqual([1, 1]);
    expect(Array.from(classWeights(y, 2, 1))).toEqual([4 / 6, 2]);
    expect(classWeights(y, 2, 0.5)[1]).toBeCloseTo(Math.sqrt(2), 12);
  });
});

describe('ReferenceScorer', () => {
  test('scores a sentence with no known token as softmax(intercepts)', () => {
    const scorer = new ReferenceScorer({
      labels: ['a', 'b'],
      blocks: [{ analyzer: 'word', minN: 1, maxN: 2, terms: ['x'], idf: Float64Array.from([1]) }],
      linear: {
        features: 1,
        classes: 2,
        weights: Float64Array.from([5, -5]),
        intercepts: Float64Array.from([0, Math.log(3)]),
      },
    });
    const empty = scorer.predict('!!! nothing here');
    expect(empty.label).toBe('b');
    expect(empty.probabilities[1]).toBeCloseTo(0.75, 12);
    expect(scorer.predict('X marks').label).toBe('a');
  });
});
