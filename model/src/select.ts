import { internedMatrix, type CsrMatrix } from './features';
import { decisionFunction, trainLogisticRegression, type LinearModel } from './logreg';
import { argmaxRows, evaluate, type Metrics } from './metrics';
import { blockOptions, docGrams, fitFeatures, sampleWeights, type Hyperparameters } from './pipeline';
import { mulberry32, shuffled, stratifiedSplit } from './split';

/** The search space: every combination is fitted on the fit part and scored on validation. */
export interface SearchSpace {
  c: number[];
  minDf: number[];
  maxFeatures: number[];
  charMaxFeatures: number[];
  classWeightPower: number[];
}

/** Settings every candidate shares. */
export type FixedSettings = Pick<
  Hyperparameters,
  'ngramMax' | 'charNgramMin' | 'charNgramMax' | 'maxIterations'
>;

/** One scored candidate. */
export interface Trial {
  hyperparameters: Hyperparameters;
  accuracy: number;
  macroF1: number;
  score: number;
}

/** Out-of-sample check of per-class offsets on the winner's out-of-fold logits. */
export interface OffsetCheck {
  adopted: boolean;
  /** Metrics of the raw logits and of cross-fitted offsets (fitted on one half, scored on the other). */
  raw: { accuracy: number; macroF1: number };
  crossFitted: { accuracy: number; macroF1: number };
}

/** Outcome of model selection. */
export interface Selection {
  best: Hyperparameters;
  /** Per-class logit offsets for the best candidate (all zero when the cross-fitted check rejects them). */
  offsets: number[];
  offsetCheck: OffsetCheck;
  trials: Trial[];
  /** Pooled out-of-fold metrics of the best candidate, before and after the offsets. */
  validation: { withoutOffsets: Metrics; withOffsets: Metrics };
  folds: number;
  /** Training rows the cross-validation ran on. */
  rows: number;
}

/**
 * Objective for fitting per-class offsets: the mean of accuracy and macro-F1. Accuracy alone
 * rewards predicting the two big classes (neutral/worry) only; macro-F1 alone trades too much
 * accuracy for rare classes.
 */
export function selectionScore(m: Pick<Metrics, 'accuracy' | 'macroF1'>): number {
  return (m.accuracy + m.macroF1) / 2;
}

/**
 * The selection rule, mirroring the acceptance bar (two floors: accuracy and macro-F1):
 * among candidates whose cross-validated macro-F1 reaches `macroF1Floor`, the most accurate;
 * if none does, the one with the best macro-F1. Returns the index of the winner.
 */
export function pickCandidate(
  trials: readonly Pick<Trial, 'accuracy' | 'macroF1'>[],
  macroF1Floor: number,
): number {
  const eligible = trials.map((t, i) => ({ t, i })).filter(({ t }) => t.macroF1 >= macroF1Floor);
  const pool = eligible.length > 0 ? eligible : trials.map((t, i) => ({ t, i }));
  const key = (t: Pick<Trial, 'accuracy' | 'macroF1'>): number =>
    eligible.length > 0 ? t.accuracy : t.macroF1;
  return pool.reduce((best, cur) => (key(cur.t) > key(best.t) ? cur : best)).i;
}

/**
 * Greedy coordinate search of per-class logit offsets that maximise selectionScore on
 * validation logits (a prior correction for the rare classes). Offsets are on a 0.05 grid in
 * [-1, 1]; class 0's offset stays 0 (softmax is shift-invariant).
 */
export function fitOffsets(
  logits: Float64Array,
  truth: Int32Array,
  k: number,
  score: (m: Metrics) => number = selectionScore,
  rounds = 3,
): number[] {
  const offsets = new Array<number>(k).fill(0);
  const shifted = Float64Array.from(logits);
  const scoreWith = (): number => score(evaluate(truth, argmaxRows(shifted, k), k));
  const apply = (c: number, delta: number): void => {
    for (let off = c; off < shifted.length; off += k) shifted[off] = (shifted[off] ?? 0) + delta;
  };
  let best = scoreWith();
  for (let round = 0; round < rounds; round += 1) {
    let improved = false;
    for (let c = 1; c < k; c += 1) {
      const current = offsets[c] ?? 0;
      let bestValue = current;
      for (let step = -20; step <= 20; step += 1) {
        const value = step / 20;
        apply(c, value - current);
        const s = scoreWith();
        // Require a real gain so ties keep the smaller correction.
        if (s > best + 1e-9) {
          best = s;
          bestValue = value;
          improved = true;
        }
        apply(c, current - value);
      }
      apply(c, bestValue - current);
      offsets[c] = bestValue;
    }
    if (!improved) break;
  }
  return offsets;
}

/**
 * Offsets fitted on out-of-fold logits are scored on those same rows, which flatters them. Fit on
 * one stratified half, score on the other (both ways): adopt offsets only if neither accuracy nor
 * macro-F1 gets worse out of sample.
 */
export function checkOffsets(logits: Float64Array, truth: Int32Array, k: number, seed: number): OffsetCheck {
  const halves = stratifiedSplit(Array.from(truth), 0.5, seed);
  const rowsOf = (rows: number[]): { z: Float64Array; y: Int32Array } => {
    const z = new Float64Array(rows.length * k);
    rows.forEach((row, i) => z.set(logits.subarray(row * k, (row + 1) * k), i * k));
    return { z, y: Int32Array.from(rows, (i) => truth[i] ?? 0) };
  };
  const raw = evaluate(truth, argmaxRows(logits, k), k);
  let accuracy = 0;
  let macroF1 = 0;
  for (const [fitRows, scoreRows] of [
    [halves.train, halves.test],
    [halves.test, halves.train],
  ] as const) {
    const fit = rowsOf(fitRows);
    const scored = rowsOf(scoreRows);
    const offsets = fitOffsets(fit.z, fit.y, k);
    const m = evaluate(
      scored.y,
      argmaxRows(
        scored.z.map((v, i) => v + (offsets[i % k] ?? 0)),
        k,
      ),
      k,
    );
    accuracy += m.accuracy / 2;
    macroF1 += m.macroF1 / 2;
  }
  return {
    adopted: accuracy >= raw.accuracy && macroF1 >= raw.macroF1,
    raw: { accuracy: raw.accuracy, macroF1: raw.macroF1 },
    crossFitted: { accuracy, macroF1 },
  };
}

/** Cartesian product of a search space, with fixed settings filled in (C ascending last). */
export function candidates(space: SearchSpace, fixed: FixedSettings): Hyperparameters[] {
  const out: Hyperparameters[] = [];
  for (const minDf of space.minDf) {
    for (const maxFeatures of space.maxFeatures) {
      for (const charMaxFeatures of space.charMaxFeatures) {
        for (const classWeightPower of space.classWeightPower) {
          for (const c of [...space.c].sort((a, b) => a - b)) {
            out.push({ ...fixed, c, minDf, maxFeatures, charMaxFeatures, classWeightPower });
          }
        }
      }
    }
  }
  return out;
}

/** Stratified fold of each row: within each class, shuffled rows are dealt round-robin. */
export function stratifiedFolds(labels: ArrayLike<number>, folds: number, seed: number): Int32Array {
  if (!Number.isInteger(folds) || folds < 2)
    throw new RangeError(`folds must be an integer >= 2 (got ${folds})`);
  const rand = mulberry32(seed);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i += 1) {
    const c = labels[i] ?? 0;
    const rows = byClass.get(c) ?? [];
    rows.push(i);
    byClass.set(c, rows);
  }
  const fold = new Int32Array(labels.length);
  let dealt = 0;
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    // Continue the deal across classes so small classes do not all land in fold 0.
    for (const i of shuffled(byClass.get(c) ?? [], rand)) {
      fold[i] = dealt % folds;
      dealt += 1;
    }
  }
  return fold;
}

/**
 * Picks hyperparameters by stratified k-fold cross-validation on the given (training) rows only:
 * every candidate is scored on its pooled out-of-fold predictions, and the winner's out-of-fold
 * logits then fit the per-class offsets. Within a fold, candidates sharing a vocabulary are
 * fitted in turn (ascending C), each warm-started from the previous solution.
 */
export function selectModel(
  texts: readonly string[],
  y: Int32Array,
  k: number,
  space: SearchSpace,
  fixed: FixedSettings,
  options: { folds: number; seed: number; macroF1Floor: number; log?: (message: string) => void },
): Selection {
  const log = options.log ?? (() => undefined);
  const all = candidates(space, fixed);
  // n-grams depend only on the fixed settings: compute each block's once for all texts.
  const widest = blockOptions({ ...(all[0] as Hyperparameters), charMaxFeatures: 1 });
  const grams = docGrams(widest, texts);
  const fold = stratifiedFolds(y, options.folds, options.seed);
  const oof = all.map(() => new Float64Array(y.length * k));
  for (let f = 0; f < options.folds; f += 1) {
    const fitRows: number[] = [];
    const valRows: number[] = [];
    fold.forEach((g, i) => (g === f ? valRows : fitRows).push(i));
    const yFit = Int32Array.from(fitRows, (i) => y[i] ?? 0);
    const matrices = new Map<string, { fit: CsrMatrix; val: CsrMatrix }>();
    let previous: { key: string; model: LinearModel } | undefined;
    all.forEach((hp, n) => {
      const key = `${hp.minDf}/${hp.maxFeatures}/${hp.charMaxFeatures}`;
      let mats = matrices.get(key);
      if (!mats) {
        const fitted = fitFeatures(blockOptions(hp), texts, grams, fitRows);
        mats = { fit: fitted.x, val: internedMatrix(fitted.parts, valRows) };
        matrices.set(key, mats);
      }
      const started = Date.now();
      const model = trainLogisticRegression(mats.fit, yFit, k, {
        c: hp.c,
        sampleWeights: sampleWeights(yFit, k, hp.classWeightPower),
        maxIterations: hp.maxIterations,
        // Any earlier fit on the same features is a far better start than zeros.
        initial: previous?.key === key ? previous.model : undefined,
      });
      previous = { key, model };
      const z = decisionFunction(mats.val, model);
      const target = oof[n] ?? new Float64Array();
      valRows.forEach((row, r) => target.set(z.subarray(r * k, (r + 1) * k), row * k));
      log(
        `fold ${f + 1}/${options.folds} candidate ${n + 1}/${all.length} ${describe(hp)} ` +
          `(${((Date.now() - started) / 1000).toFixed(1)} s)`,
      );
    });
  }
  const trials: Trial[] = all.map((hp, n) => {
    const m = evaluate(y, argmaxRows(oof[n] ?? new Float64Array(), k), k);
    log(
      `cross-validated ${describe(hp)}: accuracy ${m.accuracy.toFixed(4)}, macro-F1 ${m.macroF1.toFixed(4)}`,
    );
    return { hyperparameters: hp, accuracy: m.accuracy, macroF1: m.macroF1, score: selectionScore(m) };
  });
  const bestAt = pickCandidate(trials, options.macroF1Floor);
  const z = oof[bestAt] ?? new Float64Array();
  const offsetCheck = checkOffsets(z, y, k, options.seed);
  const offsets = offsetCheck.adopted ? fitOffsets(z, y, k) : new Array<number>(k).fill(0);
  log(
    `offsets ${offsetCheck.adopted ? 'adopted' : 'rejected'}: cross-fitted accuracy ` +
      `${offsetCheck.crossFitted.accuracy.toFixed(4)} (raw ${offsetCheck.raw.accuracy.toFixed(4)}), macro-F1 ` +
      `${offsetCheck.crossFitted.macroF1.toFixed(4)} (raw ${offsetCheck.raw.macroF1.toFixed(4)})`,
  );
  const shifted = Float64Array.from(z, (v, i) => v + (offsets[i % k] ?? 0));
  return {
    best: all[bestAt] ?? (all[0] as Hyperparameters),
    offsets,
    offsetCheck,
    trials,
    validation: {
      withoutOffsets: evaluate(y, argmaxRows(z, k), k),
      withOffsets: evaluate(y, argmaxRows(shifted, k), k),
    },
    folds: options.folds,
    rows: y.length,
  };
}

/** One-line description of a candidate for progress logs. */
export function describe(hp: Hyperparameters): string {
  return (
    `C=${hp.c} classWeightPower=${hp.classWeightPower} minDf=${hp.minDf} maxFeatures=${hp.maxFeatures} ` +
    `charMaxFeatures=${hp.charMaxFeatures}`
  );
}
