import { fitVocabulary, toCsr, type Vocabulary } from './features';
import { decisionFunction, trainLogisticRegression, type LinearModel } from './logreg';
import { tokenize } from './text';

/** Everything that defines a model, chosen on validation data. */
export interface Hyperparameters {
  /** Inverse L2 strength (scikit-learn's C). */
  c: number;
  /** Minimum document frequency of an n-gram. */
  minDf: number;
  /** Vocabulary cap. */
  maxFeatures: number;
  /** Longest n-gram. */
  ngramMax: 1 | 2;
  /** Class weight w_c = (n / (C * n_c))^power: 0 = unweighted, 1 = scikit-learn's "balanced". */
  classWeightPower: number;
  /** L-BFGS iteration cap. */
  maxIterations: number;
}

/** A trained classifier: vocabulary + idf + linear layer (+ per-class logit offsets folded into intercepts). */
export interface TrainedModel {
  labels: string[];
  ngramMax: 1 | 2;
  vocab: Vocabulary;
  linear: LinearModel;
}

/** Class weights (n / (C * n_c))^power for integer labels. */
export function classWeights(y: ArrayLike<number>, classes: number, power: number): Float64Array {
  const counts = new Float64Array(classes);
  for (let i = 0; i < y.length; i += 1) counts[y[i] ?? 0] = (counts[y[i] ?? 0] ?? 0) + 1;
  return counts.map((n) => (n === 0 ? 0 : (y.length / (classes * n)) ** power));
}

/** Fits vocabulary, idf and logistic regression on texts with integer labels into `labels`. */
export function trainModel(
  texts: readonly string[],
  y: Int32Array,
  labels: readonly string[],
  hp: Hyperparameters,
  onIteration?: (iteration: number, loss: number) => void,
): TrainedModel {
  const docs = texts.map(tokenize);
  const vocab = fitVocabulary(docs, { minDf: hp.minDf, maxFeatures: hp.maxFeatures, ngramMax: hp.ngramMax });
  const x = toCsr(docs, vocab, hp.ngramMax);
  const perClass = classWeights(y, labels.length, hp.classWeightPower);
  const sampleWeights = Float64Array.from(y, (c) => perClass[c] ?? 1);
  const linear = trainLogisticRegression(x, y, labels.length, {
    c: hp.c,
    sampleWeights,
    maxIterations: hp.maxIterations,
    onIteration,
  });
  return { labels: [...labels], ngramMax: hp.ngramMax, vocab, linear };
}

/** Adds per-class logit offsets to the intercepts (returns a new model). */
export function withOffsets(model: TrainedModel, offsets: ArrayLike<number>): TrainedModel {
  const intercepts = model.linear.intercepts.map((b, c) => b + (offsets[c] ?? 0));
  return { ...model, linear: { ...model.linear, intercepts } };
}

/** Logits `[texts, classes]` (before softmax) for raw texts. */
export function logits(model: TrainedModel, texts: readonly string[]): Float64Array {
  return decisionFunction(toCsr(texts.map(tokenize), model.vocab, model.ngramMax), model.linear);
}
