/**
 * scikit-learn's `train_test_split(X, y, test_size=f, stratify=y, random_state=seed)`, reproduced
 * row for row, so the held-out part is the very split the classroom baseline was measured
 * on. It needs numpy's legacy `RandomState` (MT19937) and sklearn's `StratifiedShuffleSplit`
 * (`_iter_indices` and `_approximate_mode`); tests check both against values computed with
 * numpy/scikit-learn.
 */

const N = 624;
const M = 397;

/** MT19937 seeded like numpy's `RandomState(seed)` for an integer seed. */
export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer in [0, 2^32) (got ${seed})`);
    }
    this.mt[0] = seed >>> 0;
    for (let i = 1; i < N; i += 1) {
      const prev = this.mt[i - 1] ?? 0;
      const x = prev ^ (prev >>> 30);
      this.mt[i] = (Math.imul(1812433253, x) + i) >>> 0;
    }
  }

  /** Next raw 32-bit output. */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index] ?? 0;
    this.index += 1;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy's `random_interval(max)`: uniform in [0, max] by masked rejection. */
  interval(max: number): number {
    if (max === 0) return 0;
    let mask = max;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    mask >>>= 0;
    for (;;) {
      const value = (this.nextUint32() & mask) >>> 0;
      if (value <= max) return value;
    }
  }

  /** `RandomState.permutation(n)`: a shuffled 0..n-1 (legacy Fisher-Yates from the top). */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i -= 1) {
      const j = this.interval(i);
      [out[i], out[j]] = [out[j] ?? 0, out[i] ?? 0];
    }
    return out;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i += 1) {
      const y = ((mt[i] ?? 0) & 0x80000000) | ((mt[(i + 1) % N] ?? 0) & 0x7fffffff);
      mt[i] = ((mt[(i + M) % N] ?? 0) ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.index = 0;
  }
}

/**
 * sklearn's `_approximate_mode(class_counts, n_draws, rng)`: per-class draws proportional to the
 * counts, floors first, the remaining draws going to the largest remainders (ties broken at
 * random with `rng.choice(..., replace=False)`, i.e. a permutation prefix).
 */
export function approximateMode(classCounts: readonly number[], nDraws: number, rng: Mt19937): number[] {
  const total = classCounts.reduce((s, c) => s + c, 0);
  const continuous = classCounts.map((c) => (c / total) * nDraws);
  const floored = continuous.map(Math.floor);
  let needToAdd = Math.round(nDraws - floored.reduce((s, v) => s + v, 0));
  if (needToAdd > 0) {
    const remainder = continuous.map((c, i) => c - (floored[i] ?? 0));
    const values = [...new Set(remainder)].sort((a, b) => b - a);
    for (const value of values) {
      const inds = remainder.flatMap((r, i) => (r === value ? [i] : []));
      const addNow = Math.min(inds.length, needToAdd);
      for (const p of rng.permutation(inds.length).slice(0, addNow)) {
        const at = inds[p] ?? 0;
        floored[at] = (floored[at] ?? 0) + 1;
      }
      needToAdd -= addNow;
      if (needToAdd === 0) break;
    }
  }
  return floored;
}

/**
 * Row indices of `train_test_split(..., test_size=testFraction, stratify=labels,
 * random_state=seed)`: labels are class indices in sorted-label order (as `np.unique` gives).
 * Both parts come back in ascending order (sklearn returns them shuffled; the sets are equal).
 */
export function sklearnStratifiedSplit(
  labels: readonly number[],
  testFraction: number,
  seed: number,
): { train: number[]; test: number[] } {
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`testFraction must be in (0, 1) (got ${testFraction})`);
  }
  const n = labels.length;
  const nTest = Math.ceil(testFraction * n);
  const nTrain = n - nTest;
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  // np.argsort(y_indices, kind="mergesort") split per class: each class's rows in file order.
  const classIndices = classes.map((c) => labels.flatMap((l, i) => (l === c ? [i] : [])));
  const classCounts = classIndices.map((rows) => rows.length);
  if (classCounts.some((count) => count < 2)) {
    throw new RangeError('every class needs at least 2 rows for a stratified split');
  }
  const rng = new Mt19937(seed);
  const nI = approximateMode(classCounts, nTrain, rng);
  const tI = approximateMode(
    classCounts.map((c, i) => c - (nI[i] ?? 0)),
    nTest,
    rng,
  );
  const train: number[] = [];
  const test: number[] = [];
  classIndices.forEach((rows, i) => {
    const perm = rng.permutation(rows.length).map((p) => rows[p] ?? 0);
    const nTrainI = nI[i] ?? 0;
    train.push(...perm.slice(0, nTrainI));
    test.push(...perm.slice(nTrainI, nTrainI + (tI[i] ?? 0)));
  });
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
