import { fitVocabulary, toCsr, type CsrMatrix } from './features';
import { decisionFunction, trainLogisticRegression, type LinearModel } from './logreg';
import { argmaxRows, evaluate, type Metrics } from './metrics';
import { classWeights, type Hyperparameters } from './pipeline';
import { stratifiedSplit } from './split';
import { tokenize } from './text';

/** The search space: every combination is fitted on the fit part and scored on validation. */
export interface SearchSpace {
  c: number[];
  minDf: number[];
  maxFeatures: number[];
  classWeightPower: number[];
}

/** One scored candidate. */
export interface Trial {
  hyperparameters: Hyperparameters;
  accuracy: number;
  macroF1: number;
  score: number;
}

/** Outcome of model selection. */
export interface Selection {
  best: Hyperparameters;
  /** Per-class logit offsets fitted on validation for the best candidate. */
  offsets: number[];
  trials: Trial[];
  /** Validation metrics of the best candidate, before and after the offsets. */
  validation: { withoutOffsets: Metrics; withOffsets: Metrics };
  validationRows: number;
  fitRows: number;
}

/**
 * Selection score: the mean of accuracy and macro-F1. Accuracy alone rewards predicting the two
 * big classes (neutral/worry) only; macro-F1 alone trades too much accuracy for rare classes.
 */
export function selectionScore(m: Pick<Metrics, 'accuracy' | 'macroF1'>): number {
  return (m.accuracy + m.macroF1) / 2;
}

/**
 * Greedy coordinate search of per-class logit offsets that maximise selectionScore on
 * validation logits (a prior correction for the rare classes). Offsets are on a 0.05 grid in
 * [-1, 1]; class 0's offset stays 0 (softmax is shift-invariant).
 */
export function fitOffsets(logits: Float64Array, truth: Int32Array, k: number, rounds = 3): number[] {
  const offsets = new Array<number>(k).fill(0);
  const shifted = Float64Array.from(logits);
  const scoreWith = (): number => selectionScore(evaluate(truth, argmaxRows(shifted, k), k));
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

/** Cartesian product of a search space, with fixed settings filled in. */
export function candidates(
  space: SearchSpace,
  fixed: Pick<Hyperparameters, 'ngramMax' | 'maxIterations'>,
): Hyperparameters[] {
  const out: Hyperparameters[] = [];
  for (const minDf of space.minDf) {
    for (const maxFeatures of space.maxFeatures) {
      for (const classWeightPower of space.classWeightPower) {
        for (const c of space.c) out.push({ ...fixed, c, minDf, maxFeatures, classWeightPower });
      }
    }
  }
  return out;
}

/**
 * Picks hyperparameters on a stratified validation split carved from the given (training) rows
 * only, then fits per-class offsets for the winner on the same validation rows.
 */
export function selectModel(
  texts: readonly string[],
  y: Int32Array,
  k: number,
  space: SearchSpace,
  fixed: Pick<Hyperparameters, 'ngramMax' | 'maxIterations'>,
  options: { validationFraction: number; seed: number; log?: (message: string) => void },
): Selection {
  const log = options.log ?? (() => undefined);
  const split = stratifiedSplit(Array.from(y), options.validationFraction, options.seed);
  const docs = texts.map(tokenize);
  const fitDocs = split.train.map((i) => docs[i] ?? []);
  const valDocs = split.test.map((i) => docs[i] ?? []);
  const yFit = Int32Array.from(split.train, (i) => y[i] ?? 0);
  const yVal = Int32Array.from(split.test, (i) => y[i] ?? 0);
  const all = candidates(space, fixed);
  const trials: Trial[] = [];
  const logitsOf = new Map<Hyperparameters, Float64Array>();
  // Candidates sharing a vocabulary reuse its matrices.
  const matrices = new Map<string, { fit: CsrMatrix; val: CsrMatrix }>();
  all.forEach((hp, n) => {
    const key = `${hp.minDf}/${hp.maxFeatures}`;
    let mats = matrices.get(key);
    if (!mats) {
      const vocab = fitVocabulary(fitDocs, {
        minDf: hp.minDf,
        maxFeatures: hp.maxFeatures,
        ngramMax: hp.ngramMax,
      });
      mats = { fit: toCsr(fitDocs, vocab, hp.ngramMax), val: toCsr(valDocs, vocab, hp.ngramMax) };
      matrices.set(key, mats);
    }
    const perClass = classWeights(yFit, k, hp.classWeightPower);
    const started = Date.now();
    const model: LinearModel = trainLogisticRegression(mats.fit, yFit, k, {
      c: hp.c,
      sampleWeights: Float64Array.from(yFit, (c) => perClass[c] ?? 1),
      maxIterations: hp.maxIterations,
    });
    const z = decisionFunction(mats.val, model);
    const m = evaluate(yVal, argmaxRows(z, k), k);
    const trial = { hyperparameters: hp, accuracy: m.accuracy, macroF1: m.macroF1, score: selectionScore(m) };
    trials.push(trial);
    logitsOf.set(hp, z);
    log(
      `candidate ${n + 1}/${all.length} C=${hp.c} minDf=${hp.minDf} maxFeatures=${hp.maxFeatures} ` +
        `classWeightPower=${hp.classWeightPower}: accuracy ${m.accuracy.toFixed(4)}, macro-F1 ` +
        `${m.macroF1.toFixed(4)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  });
  const winner = trials.reduce((a, b) => (b.score > a.score ? b : a));
  const z = logitsOf.get(winner.hyperparameters) ?? new Float64Array();
  const offsets = fitOffsets(z, yVal, k);
  const shifted = Float64Array.from(z, (v, i) => v + (offsets[i % k] ?? 0));
  return {
    best: winner.hyperparameters,
    offsets,
    trials,
    validation: {
      withoutOffsets: evaluate(yVal, argmaxRows(z, k), k),
      withOffsets: evaluate(yVal, argmaxRows(shifted, k), k),
    },
    validationRows: split.test.length,
    fitRows: split.train.length,
  };
}
