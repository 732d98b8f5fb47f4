import { mulberry32, stratifiedSplit } from '../../../model/src/split';
import { stratifiedFolds } from '../../../model/src/select';

const labels = [...Array<number>(50).fill(0), ...Array<number>(30).fill(1), ...Array<number>(20).fill(2), 3];

describe('stratifiedSplit', () => {
  test('takes round(20%) of every class, keeps parts disjoint and covering, and is reproducible', () => {
    const { train, test } = stratifiedSplit(labels, 0.2, 42);
    const count = (rows: number[], c: number): number => rows.filter((i) => labels[i] === c).length;
    expect([0, 1, 2, 3].map((c) => count(test, c))).toEqual([10, 6, 4, 0]);
    expect(new Set([...train, ...test]).size).toBe(labels.length);
    expect(train.length + test.length).toBe(labels.length);
    expect(stratifiedSplit(labels, 0.2, 42)).toEqual({ train, test });
    expect(stratifiedSplit(labels, 0.2, 43).test).not.toEqual(test);
  });

  test('rejects a fraction outside (0, 1), naming it', () => {
    expect(() => stratifiedSplit(labels, 1, 42)).toThrow(/testFraction must be in \(0, 1\) \(got 1\)/);
  });

  test('mulberry32 is deterministic and uniform-looking in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(xs.reduce((s, v) => s + v, 0) / xs.length).toBeCloseTo(0.5, 1);
  });
});

describe('stratifiedFolds', () => {
  test('spreads every class evenly over the folds', () => {
    const fold = stratifiedFolds(labels, 3, 42);
    for (const c of [0, 1, 2]) {
      const sizes = [0, 1, 2].map((f) => labels.filter((l, i) => l === c && fold[i] === f).length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    expect(() => stratifiedFolds(labels, 1, 42)).toThrow(/folds must be an integer >= 2/);
  });
});
