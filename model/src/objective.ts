import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CsrMatrix } from './features';

/**
 * Softmax cross-entropy and its gradient over rows [rowStart, rowEnd) of a CSR matrix, weights in
 * float32 (the passes are memory-bound on the weight rows). Accumulates into `grad` and returns the
 * weighted loss, both scaled by 1/n.
 *
 * Self-contained on purpose: worker threads evaluate its source text (Function#toString), so it
 * may use no imports, closures or helpers.
 */
function lossAndGradient(
  rowStart: number,
  rowEnd: number,
  indptr: Int32Array,
  indices: Int32Array,
  values: Float64Array,
  y: Int32Array,
  sw: Float64Array,
  theta: Float32Array,
  grad: Float32Array,
  k: number,
  nW: number,
  n: number,
): number {
  const z = new Float64Array(k);
  let loss = 0;
  for (let i = rowStart; i < rowEnd; i += 1) {
    for (let cl = 0; cl < k; cl += 1) z[cl] = theta[nW + cl]!;
    const start = indptr[i]!;
    const end = indptr[i + 1]!;
    for (let p = start; p < end; p += 1) {
      const base = indices[p]! * k;
      const v = values[p]!;
      for (let cl = 0; cl < k; cl += 1) z[cl]! += v * theta[base + cl]!;
    }
    let max = -Infinity;
    for (let cl = 0; cl < k; cl += 1) if (z[cl]! > max) max = z[cl]!;
    let sum = 0;
    for (let cl = 0; cl < k; cl += 1) sum += Math.exp(z[cl]! - max);
    const logSum = max + Math.log(sum);
    const yi = y[i]!;
    const wi = sw[i]! / n;
    loss += wi * (logSum - z[yi]!);
    for (let cl = 0; cl < k; cl += 1) z[cl] = wi * (Math.exp(z[cl]! - logSum) - (cl === yi ? 1 : 0));
    for (let cl = 0; cl < k; cl += 1) grad[nW + cl]! += z[cl]!;
    for (let p = start; p < end; p += 1) {
      const base = indices[p]! * k;
      const v = values[p]!;
      for (let cl = 0; cl < k; cl += 1) grad[base + cl]! += v * z[cl]!;
    }
  }
  return loss;
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const lossAndGradient = ${lossAndGradient.toString()};
const d = workerData;
const ctrl = new Int32Array(d.ctrl);
const losses = new Float64Array(d.losses);
const args = [new Int32Array(d.indptr), new Int32Array(d.indices), new Float64Array(d.values),
  new Int32Array(d.y), new Float64Array(d.sw), new Float32Array(d.theta)];
const grads = d.grads.map((g) => new Float32Array(g));
let generation = 0;
for (;;) {
  Atomics.wait(ctrl, 0, generation);
  generation = Atomics.load(ctrl, 0);
  if (generation < 0) break;
  for (const part of d.parts) {
    grads[part].fill(0);
    losses[part] = lossAndGradient(d.bounds[part], d.bounds[part + 1], ...args, grads[part], d.k, d.nW, d.n);
  }
  Atomics.add(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}
`;

/**
 * Rows are cut into this many parts of about equal non-zeros, each with its own gradient buffer,
 * summed in part order: results are bit-identical whatever the number of threads.
 */
const PARTS = 2;

function shared<T extends Int32Array | Float32Array | Float64Array>(
  make: (sab: SharedArrayBuffer) => T,
  source: T,
): T {
  const out = make(new SharedArrayBuffer(source.byteLength));
  out.set(source);
  return out;
}

/**
 * Evaluates the data term of the logistic-regression objective on up to PARTS threads: the main
 * thread computes part 0 while a worker computes the rest, synchronised with Atomics (so the
 * trainer stays synchronous). Call close() when done.
 */
export class ObjectiveEngine {
  private readonly theta: Float32Array;
  private readonly grads: Float32Array[];
  private readonly losses: Float64Array;
  private readonly ctrl: Int32Array;
  private readonly bounds: number[];
  private readonly workers: Worker[] = [];
  private readonly mainParts: number[];
  private readonly data: [Int32Array, Int32Array, Float64Array, Int32Array, Float64Array];

  constructor(
    x: CsrMatrix,
    y: Int32Array,
    sw: Float64Array,
    private readonly k: number,
    threads: number = Math.min(PARTS, availableParallelism()),
  ) {
    const dim = x.cols * k + k;
    const indptr = shared((b) => new Int32Array(b), x.indptr);
    const indices = shared((b) => new Int32Array(b), x.indices);
    const values = shared((b) => new Float64Array(b), x.values);
    const ys = shared((b) => new Int32Array(b), y);
    const sws = shared((b) => new Float64Array(b), sw);
    this.data = [indptr, indices, values, ys, sws];
    this.theta = new Float32Array(new SharedArrayBuffer(dim * 4));
    this.grads = Array.from({ length: PARTS }, () => new Float32Array(new SharedArrayBuffer(dim * 4)));
    this.losses = new Float64Array(new SharedArrayBuffer(PARTS * 8));
    this.ctrl = new Int32Array(new SharedArrayBuffer(8));
    // Part boundaries at equal shares of the non-zeros.
    const nnz = x.indptr[x.rows] ?? 0;
    this.bounds = [0];
    for (let part = 1; part < PARTS; part += 1) {
      let row = this.bounds[part - 1] ?? 0;
      while (row < x.rows && (x.indptr[row] ?? 0) < (nnz * part) / PARTS) row += 1;
      this.bounds.push(row);
    }
    this.bounds.push(x.rows);
    const workerParts = threads > 1 ? Array.from({ length: PARTS - 1 }, (_, i) => i + 1) : [];
    this.mainParts = threads > 1 ? [0] : Array.from({ length: PARTS }, (_, i) => i);
    if (workerParts.length > 0) {
      this.workers.push(
        new Worker(WORKER_SOURCE, {
          eval: true,
          workerData: {
            ctrl: this.ctrl.buffer,
            losses: this.losses.buffer,
            indptr: indptr.buffer,
            indices: indices.buffer,
            values: values.buffer,
            y: ys.buffer,
            sw: sws.buffer,
            theta: this.theta.buffer,
            grads: this.grads.map((g) => g.buffer),
            parts: workerParts,
            bounds: this.bounds,
            k,
            nW: x.cols * k,
            n: x.rows,
          },
        }),
      );
    }
  }

  /** Loss of the data term at `theta`; writes its gradient into `grad` (float64). */
  evaluate(theta: Float64Array, grad: Float64Array): number {
    const [indptr, indices, values, y, sw] = this.data;
    const nW = theta.length - this.k;
    const n = (this.bounds[PARTS] ?? 0) - (this.bounds[0] ?? 0);
    this.theta.set(theta);
    if (this.workers.length > 0) {
      Atomics.store(this.ctrl, 1, 0);
      Atomics.add(this.ctrl, 0, 1);
      Atomics.notify(this.ctrl, 0);
    }
    for (const part of this.mainParts) {
      const g = this.grads[part] as Float32Array;
      g.fill(0);
      this.losses[part] = lossAndGradient(
        this.bounds[part] ?? 0,
        this.bounds[part + 1] ?? 0,
        indptr,
        indices,
        values,
        y,
        sw,
        this.theta,
        g,
        this.k,
        nW,
        n,
      );
    }
    for (
      let done = Atomics.load(this.ctrl, 1);
      done < this.workers.length;
      done = Atomics.load(this.ctrl, 1)
    ) {
      // One evaluation takes well under a second; a silent minute means the worker is gone.
      if (Atomics.wait(this.ctrl, 1, done, 60_000) === 'timed-out') {
        throw new Error('objective worker thread did not answer within 60 s');
      }
    }
    let loss = 0;
    grad.fill(0);
    for (let part = 0; part < PARTS; part += 1) {
      loss += this.losses[part] ?? 0;
      const g = this.grads[part] as Float32Array;
      for (let j = 0; j < grad.length; j += 1) grad[j]! += g[j]!;
    }
    return loss;
  }

  /** Stops the worker threads. */
  close(): void {
    Atomics.store(this.ctrl, 0, -1);
    Atomics.notify(this.ctrl, 0);
    for (const w of this.workers) void w.terminate();
  }
}
