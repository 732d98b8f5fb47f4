import type { CsrMatrix } from './features';
import { ObjectiveEngine } from './objective';

/** Multinomial logistic regression weights: `weights` is `[features, classes]` row-major. */
export interface LinearModel {
  features: number;
  classes: number;
  weights: Float64Array;
  intercepts: Float64Array;
}

/** Trainer settings. */
export interface TrainOptions {
  /** Inverse L2 strength, as scikit-learn's C: loss = C * sum_i w_i * CE_i + ||W||^2 / 2. */
  c: number;
  /** Per-row weight (class weighting); 1 for every row when omitted. */
  sampleWeights?: Float64Array;
  /** L-BFGS iteration cap. */
  maxIterations?: number;
  /**
   * Stop when the largest gradient component falls below this; the objective is a per-row mean,
   * as scikit-learn's lbfgs solver whose default tol is also 1e-4.
   */
  tolerance?: number;
  /** Threads for the objective (default: up to 2, as the machine allows). */
  threads?: number;
  /** Start from these weights (warm start along a regularisation path). */
  initial?: LinearModel;
  /** Called after each iteration (progress reporting). */
  onIteration?: (iteration: number, loss: number) => void;
}

/** Row-wise softmax in place over `k` columns. */
export function softmaxInPlace(z: Float64Array, k: number): void {
  for (let off = 0; off < z.length; off += k) {
    let max = -Infinity;
    for (let c = 0; c < k; c += 1) max = Math.max(max, z[off + c] ?? 0);
    let sum = 0;
    for (let c = 0; c < k; c += 1) {
      const e = Math.exp((z[off + c] ?? 0) - max);
      z[off + c] = e;
      sum += e;
    }
    for (let c = 0; c < k; c += 1) z[off + c] = (z[off + c] ?? 0) / sum;
  }
}

/** Logits `X W + b` for every row, `[rows, classes]`. */
export function decisionFunction(x: CsrMatrix, model: LinearModel): Float64Array {
  const k = model.classes;
  const out = new Float64Array(x.rows * k);
  const { indptr, indices, values } = x;
  const w = model.weights;
  for (let i = 0; i < x.rows; i += 1) {
    const off = i * k;
    for (let c = 0; c < k; c += 1) out[off + c] = model.intercepts[c] ?? 0;
    for (let p = indptr[i] ?? 0, end = indptr[i + 1] ?? 0; p < end; p += 1) {
      const base = (indices[p] ?? 0) * k;
      const v = values[p] ?? 0;
      for (let c = 0; c < k; c += 1) out[off + c] = (out[off + c] ?? 0) + v * (w[base + c] ?? 0);
    }
  }
  return out;
}

/**
 * Objective and gradient over theta = [W (features*classes), b (classes)], scaled by 1/n so the
 * tolerance means the same for any data size: (1/n) sum_i w_i CE_i + ||W||^2 / (2 C n).
 */
function objective(
  theta: Float64Array,
  grad: Float64Array,
  engine: ObjectiveEngine,
  c: number,
  n: number,
  nW: number,
): number {
  const loss = engine.evaluate(theta, grad);
  const reg = 1 / (c * n);
  let sq = 0;
  for (let j = 0; j < nW; j += 1) {
    const t = theta[j]!;
    sq += t * t;
    grad[j]! += reg * t;
  }
  return loss + 0.5 * reg * sq;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i += 1) s += a[i]! * b[i]!;
  return s;
}

/** y += a * x */
function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i += 1) y[i]! += a * x[i]!;
}

/**
 * Fits multinomial logistic regression with L2 regularisation by L-BFGS. Deterministic: no
 * randomness, fixed iteration and summation order (also across thread counts).
 */
export function trainLogisticRegression(
  x: CsrMatrix,
  y: Int32Array,
  classes: number,
  options: TrainOptions,
): LinearModel {
  const k = classes;
  const dim = x.cols * k + k;
  const sw = options.sampleWeights ?? new Float64Array(x.rows).fill(1);
  const theta = new Float64Array(dim);
  if (options.initial && options.initial.features === x.cols && options.initial.classes === k) {
    theta.set(options.initial.weights);
    theta.set(options.initial.intercepts, x.cols * k);
  }
  const nW = x.cols * k;
  const engine = new ObjectiveEngine(x, y, sw, k, options.threads);
  try {
    minimise(theta, (t, g) => objective(t, g, engine, options.c, x.rows, nW), {
      maxIterations: options.maxIterations ?? 500,
      tolerance: options.tolerance ?? 1e-4,
      onIteration: options.onIteration,
    });
  } finally {
    engine.close();
  }
  return { features: x.cols, classes: k, weights: theta.slice(0, nW), intercepts: theta.slice(nW) };
}

/**
 * Minimises a smooth function by L-BFGS (memory 10, backtracking Armijo line search), starting
 * from and updating `theta` in place. Stops when the largest gradient component is below
 * `tolerance`, the relative decrease stalls, or after `maxIterations`.
 */
export function minimise(
  theta: Float64Array,
  fn: (theta: Float64Array, grad: Float64Array) => number,
  options: {
    maxIterations: number;
    tolerance: number;
    onIteration?: (iteration: number, loss: number) => void;
  },
): Float64Array {
  const dim = theta.length;
  const memory = 10;
  const maxIter = options.maxIterations;
  const tol = options.tolerance;
  let grad = new Float64Array(dim);
  let f = fn(theta, grad);
  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rhoHist: number[] = [];
  const alpha = new Float64Array(memory);
  const dir = new Float64Array(dim);
  const trial = new Float64Array(dim);
  let trialGrad = new Float64Array(dim);

  for (let iter = 1; iter <= maxIter; iter += 1) {
    let gMax = 0;
    for (let j = 0; j < dim; j += 1) gMax = Math.max(gMax, Math.abs(grad[j]!));
    if (gMax < tol) break;

    // Two-loop recursion: dir = -H grad.
    for (let j = 0; j < dim; j += 1) dir[j] = -grad[j]!;
    for (let h = sHist.length - 1; h >= 0; h -= 1) {
      alpha[h] = rhoHist[h]! * dot(sHist[h]!, dir);
      axpy(-alpha[h]!, yHist[h]!, dir);
    }
    const last = sHist.length - 1;
    if (last >= 0) {
      const gamma = dot(sHist[last]!, yHist[last]!) / dot(yHist[last]!, yHist[last]!);
      for (let j = 0; j < dim; j += 1) dir[j]! *= gamma;
    }
    for (let h = 0; h < sHist.length; h += 1) {
      axpy(alpha[h]! - rhoHist[h]! * dot(yHist[h]!, dir), sHist[h]!, dir);
    }
    let slope = dot(grad, dir);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): forget the history, use steepest descent.
      sHist.length = 0;
      yHist.length = 0;
      rhoHist.length = 0;
      for (let j = 0; j < dim; j += 1) dir[j] = -grad[j]!;
      slope = dot(grad, dir);
    }
    let step = sHist.length === 0 ? 1 / Math.sqrt(-slope) : 1;
    let fNew = f;
    let accepted = false;
    for (let ls = 0; ls < 40 && !accepted; ls += 1) {
      for (let j = 0; j < dim; j += 1) trial[j] = theta[j]! + step * dir[j]!;
      fNew = fn(trial, trialGrad);
      accepted = fNew <= f + 1e-4 * step * slope;
      if (!accepted) step *= 0.5;
    }
    if (!accepted) break;
    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    for (let j = 0; j < dim; j += 1) {
      s[j] = trial[j]! - theta[j]!;
      yv[j] = trialGrad[j]! - grad[j]!;
    }
    const sy = dot(s, yv);
    if (sy > 1e-12) {
      if (sHist.length === memory) {
        sHist.shift();
        yHist.shift();
        rhoHist.shift();
      }
      sHist.push(s);
      yHist.push(yv);
      rhoHist.push(1 / sy);
    }
    theta.set(trial);
    [grad, trialGrad] = [trialGrad, grad];
    const fPrev = f;
    f = fNew;
    options.onIteration?.(iter, f);
    if (fPrev - f <= 1e-9 * Math.max(1, Math.abs(f))) break;
  }
  return theta;
}
