import { argmaxRows, evaluate } from '../../../model/src/metrics';

describe('evaluate', () => {
  test('computes accuracy, per-class and macro F1 and the confusion matrix (rows = truth)', () => {
    const m = evaluate([0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2], 4);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.confusion).toEqual([
      [2, 1, 0, 0],
      [0, 1, 1, 0],
      [0, 0, 1, 0],
      [0, 0, 0, 0],
    ]);
    // class 0: P=1, R=2/3 -> 0.8; class 1: P=1/2, R=1/2; class 2: P=1/2, R=1 -> 2/3; class 3 absent -> 0.
    expect(m.perClassF1.map((v) => Number(v.toFixed(6)))).toEqual([0.8, 0.5, 0.666667, 0]);
    expect(m.macroF1).toBeCloseTo((0.8 + 0.5 + 2 / 3) / 4, 12);
  });

  test('rejects arrays of different length', () => {
    expect(() => evaluate([0], [0, 1], 2)).toThrow(/differ in length/);
  });

  test('argmaxRows picks the first maximum of each row', () => {
    expect(Array.from(argmaxRows([0.1, 0.9, 0.5, 0.5, 0.2, 0.3], 2))).toEqual([1, 0, 1]);
  });
});
