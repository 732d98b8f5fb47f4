import { approximateMode, Mt19937, sklearnStratifiedSplit } from '../../../model/src/sklearn-split';

// Expected values computed with numpy 1.24 / scikit-learn 1.2 (Debian bookworm):
//   np.random.RandomState(42).permutation(10)
//   train_test_split(np.arange(len(y)), test_size=..., random_state=..., stratify=y)
describe("numpy's legacy RandomState (MT19937)", () => {
  test('permutation(10) with seed 42 is [8, 1, 5, 0, 7, 2, 9, 4, 3, 6]', () => {
    expect(new Mt19937(42).permutation(10)).toEqual([8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
  });

  test('permutation(1000) with seed 42 starts like numpy', () => {
    expect(new Mt19937(42).permutation(1000).slice(0, 8)).toEqual([521, 737, 740, 660, 411, 678, 626, 513]);
  });

  test('rejects seeds numpy would reject', () => {
    expect(() => new Mt19937(-1)).toThrow(/seed must be an integer in \[0, 2\^32\)/);
  });
});

describe("scikit-learn's stratified train_test_split", () => {
  test('matches sklearn on a small set whose class remainders tie', () => {
    const y = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3];
    expect(sklearnStratifiedSplit(y, 0.2, 42)).toEqual({
      train: [0, 1, 2, 4, 5, 7, 8, 9, 10, 12, 13, 15, 16],
      test: [3, 6, 11, 14],
    });
  });

  test('matches sklearn with another seed and test size', () => {
    const y = [...Array.from({ length: 50 }, (_, i) => i % 3), 3, 3, 3, 3];
    expect(sklearnStratifiedSplit(y, 0.3, 7).test).toEqual([
      1, 2, 8, 9, 12, 18, 22, 26, 27, 34, 35, 37, 39, 41, 46, 49, 50,
    ]);
  });

  test('approximateMode hands out exactly n draws, floors first', () => {
    const counts = approximateMode([7, 5, 3, 2], 13, new Mt19937(42));
    expect(counts.reduce((s, v) => s + v, 0)).toBe(13);
    counts.forEach((c, i) =>
      expect(c).toBeGreaterThanOrEqual(Math.floor(([7, 5, 3, 2][i] ?? 0) * (13 / 17))),
    );
  });

  test('refuses a class with a single row', () => {
    expect(() => sklearnStratifiedSplit([0, 0, 1], 0.5, 1)).toThrow(/at least 2 rows/);
  });
});
