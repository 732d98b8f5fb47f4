import type { CsrMatrix } from '../../../model/src/features';
import { decisionFunction, trainLogisticRegression } from '../../../model/src/logreg';

/** A small dense problem in CSR form: class c is signalled by feature c, with noise features. */
function toyProblem(): { x: CsrMatrix; y: Int32Array } {
  const rows: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 60; i += 1) {
    const c = i % 3;
    const row = [0, 0, 0, 0];
    row[c] = 1;
    row[3] = (i % 5) / 5;
    rows.push(row);
    y.push(c);
  }
  const indptr = [0];
  const indices: number[] = [];
  const values: number[] = [];
  for (const row of rows) {
    row.forEach((v, j) => {
      if (v !== 0) {
        indices.push(j);
        values.push(v);
      }
    });
    indptr.push(indices.length);
  }
  return {
    x: {
      rows: rows.length,
      cols: 4,
      indptr: Int32Array.from(indptr),
      indices: Int32Array.from(indices),
      values: Float64Array.from(values),
    },
    y: Int32Array.from(y),
  };
}

/** Full gradient of (1/n) sum CE + ||W||^2 / (2Cn) by finite differences of the same objective. */
function objective(
  x: CsrMatrix,
  y: Int32Array,
  k: number,
  c: number,
  w: Float64Array,
  b: Float64Array,
): number {
  const z = decisionFunction(x, { features: x.cols, classes: k, weights: w, intercepts: b });
  let loss = 0;
  for (let i = 0; i < x.rows; i += 1) {
    const row = Array.from(z.subarray(i * k, (i + 1) * k));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
    loss += lse - (row[y[i] ?? 0] ?? 0);
  }
  return loss / x.rows + w.reduce((s, v) => s + v * v, 0) / (2 * c * x.rows);
}

describe('trainLogisticRegression', () => {
  const { x, y } = toyProblem();

  test('reaches a stationary point of the regularised objective', () => {
    const model = trainLogisticRegression(x, y, 3, { c: 10, tolerance: 1e-8, maxIterations: 1000 });
    const f0 = objective(x, y, 3, 10, model.weights, model.intercepts);
    const h = 1e-5;
    for (let j = 0; j < model.weights.length; j += 1) {
      const w = Float64Array.from(model.weights);
      w[j] = (w[j] ?? 0) + h;
      const up = objective(x, y, 3, 10, w, model.intercepts);
      w[j] = (w[j] ?? 0) - 2 * h;
      const down = objective(x, y, 3, 10, w, model.intercepts);
      expect(Math.abs((up - down) / (2 * h))).toBeLessThan(1e-5);
      expect(up).toBeGreaterThanOrEqual(f0 - 1e-12);
    }
  });

  test('separates the toy classes and is deterministic', () => {
    const a = trainLogisticRegression(x, y, 3, { c: 10 });
    const b = trainLogisticRegression(x, y, 3, { c: 10 });
    expect(Array.from(a.weights)).toEqual(Array.from(b.weights));
    const z = decisionFunction(x, a);
    for (let i = 0; i < x.rows; i += 1) {
      const row = Array.from(z.subarray(i * 3, i * 3 + 3));
      expect(row.indexOf(Math.max(...row))).toBe(y[i]);
    }
  });

  test('gives bit-identical weights on one thread and on two (worker thread + main thread)', () => {
    const one = trainLogisticRegression(x, y, 3, { c: 2, threads: 1 });
    const two = trainLogisticRegression(x, y, 3, { c: 2, threads: 2 });
    expect(Array.from(two.weights)).toEqual(Array.from(one.weights));
    expect(Array.from(two.intercepts)).toEqual(Array.from(one.intercepts));
  });

  test('stronger regularisation (smaller C) shrinks the weights', () => {
    const norm = (c: number): number =>
      trainLogisticRegression(x, y, 3, { c }).weights.reduce((s, v) => s + v * v, 0);
    expect(norm(0.1)).toBeLessThan(norm(10));
  });

  test('a warm start converges to the same solution', () => {
    const cold = trainLogisticRegression(x, y, 3, { c: 1, tolerance: 1e-9, maxIterations: 1000 });
    const warmFrom = trainLogisticRegression(x, y, 3, { c: 0.5 });
    const warm = trainLogisticRegression(x, y, 3, {
      c: 1,
      tolerance: 1e-9,
      maxIterations: 1000,
      initial: warmFrom,
    });
    // float32 gradient accumulation limits agreement to about 1e-5.
    warm.weights.forEach((v, j) => expect(v).toBeCloseTo(cold.weights[j] ?? 0, 4));
  });

  test('class weights move predictions toward the up-weighted class', () => {
    const ambiguous: CsrMatrix = {
      rows: 1,
      cols: 4,
      indptr: Int32Array.from([0, 1]),
      indices: Int32Array.from([3]),
      values: Float64Array.from([0.5]),
    };
    const plain = trainLogisticRegression(x, y, 3, { c: 1 });
    const sampleWeights = Float64Array.from(y, (c) => (c === 2 ? 5 : 1));
    const weighted = trainLogisticRegression(x, y, 3, { c: 1, sampleWeights });
    const p = (m: typeof plain): number => {
      const z = decisionFunction(ambiguous, m);
      const e = Array.from(z, Math.exp);
      return (e[2] ?? 0) / e.reduce((s, v) => s + v, 0);
    };
    expect(p(weighted)).toBeGreaterThan(p(plain));
  });
});
