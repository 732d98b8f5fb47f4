/** Classification metrics over integer labels `0 .. classes-1`. */
export interface Metrics {
  accuracy: number;
  macroF1: number;
  perClassF1: number[];
  /** `confusion[true][predicted]` counts. */
  confusion: number[][];
}

/** Accuracy, macro-F1 (unweighted mean over all classes), per-class F1 and the confusion matrix. */
export function evaluate(truth: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): Metrics {
  if (truth.length !== predicted.length) {
    throw new RangeError(`truth and predicted differ in length (${truth.length} vs ${predicted.length})`);
  }
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < truth.length; i += 1) {
    const t = truth[i] ?? 0;
    const p = predicted[i] ?? 0;
    const row = confusion[t];
    if (row) row[p] = (row[p] ?? 0) + 1;
    if (t === p) correct += 1;
  }
  const perClassF1 = confusion.map((row, c) => {
    const tp = row[c] ?? 0;
    const actual = row.reduce((s, v) => s + v, 0);
    const predictedCount = confusion.reduce((s, r) => s + (r[c] ?? 0), 0);
    return actual + predictedCount === 0 ? 0 : (2 * tp) / (actual + predictedCount);
  });
  return {
    accuracy: truth.length === 0 ? 0 : correct / truth.length,
    macroF1: perClassF1.reduce((s, v) => s + v, 0) / classes,
    perClassF1,
    confusion,
  };
}

/** Index of the largest value in each row of a `[rows, k]` matrix (first wins on ties). */
export function argmaxRows(scores: ArrayLike<number>, k: number): Int32Array {
  const rows = scores.length / k;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i += 1) {
    let best = 0;
    for (let c = 1; c < k; c += 1) if ((scores[i * k + c] ?? 0) > (scores[i * k + best] ?? 0)) best = c;
    out[i] = best;
  }
  return out;
}
