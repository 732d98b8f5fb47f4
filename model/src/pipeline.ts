import {
  featureMatrix,
  fitInterned,
  gramsOfNormalized,
  internedMatrix,
  internGrams,
  type FittedBlock,
  type InternedGrams,
  type BlockOptions,
  type CsrMatrix,
  type NgramBlock,
} from './features';
import { decisionFunction, trainLogisticRegression, type LinearModel } from './logreg';
import { normalize } from './text';

/** Everything that defines a model, chosen by cross-validation. */
export interface Hyperparameters {
  /** Inverse L2 strength (scikit-learn's C). */
  c: number;
  /** Class weight w_c = (n / (C * n_c))^power: 0 = unweighted, 1 = scikit-learn's "balanced". */
  classWeightPower: number;
  /** Minimum document frequency of an n-gram (both blocks). */
  minDf: number;
  /** Word-block cap. */
  maxFeatures: number;
  /** Longest word n-gram. */
  ngramMax: number;
  /** Character-block cap; 0 leaves the character block out. */
  charMaxFeatures: number;
  /** Shortest and longest character n-gram. */
  charNgramMin: number;
  charNgramMax: number;
  /** L-BFGS iteration cap. */
  maxIterations: number;
}

/** A trained classifier: n-gram blocks (vocabulary + idf) and one linear layer over all their columns. */
export interface TrainedModel {
  labels: string[];
  blocks: NgramBlock[];
  /** `weights` rows follow the blocks' columns in order; per-class offsets are folded into intercepts. */
  linear: LinearModel;
}

/** The feature blocks a set of hyperparameters asks for. */
export function blockOptions(hp: Hyperparameters): BlockOptions[] {
  const word: BlockOptions = {
    analyzer: 'word',
    minN: 1,
    maxN: hp.ngramMax,
    minDf: hp.minDf,
    maxFeatures: hp.maxFeatures,
  };
  if (hp.charMaxFeatures <= 0) return [word];
  return [
    word,
    {
      analyzer: 'char',
      minN: hp.charNgramMin,
      maxN: hp.charNgramMax,
      minDf: hp.minDf,
      maxFeatures: hp.charMaxFeatures,
    },
  ];
}

/** Interned n-grams of every text, one dictionary per block (same order as `options`). */
export function docGrams(options: readonly BlockOptions[], texts: readonly string[]): InternedGrams[] {
  const normalized = texts.map(normalize);
  return options.map((o) => internGrams(normalized.map((t) => gramsOfNormalized(o, t))));
}

/** Fits the blocks on the training texts (`rows` of them, default all) and returns the training matrix. */
export function fitFeatures(
  options: readonly BlockOptions[],
  texts: readonly string[],
  grams: InternedGrams[] = docGrams(options, texts),
  rows?: readonly number[],
): { blocks: NgramBlock[]; parts: { fitted: FittedBlock; interned: InternedGrams }[]; x: CsrMatrix } {
  const parts = options.map((o, b) => {
    const interned = grams[b] ?? { grams: [], docs: [] };
    return { fitted: fitInterned(interned, o, rows), interned };
  });
  return { blocks: parts.map((p) => p.fitted.block), parts, x: internedMatrix(parts, rows) };
}

/** Class weights (n / (C * n_c))^power for integer labels. */
export function classWeights(y: ArrayLike<number>, classes: number, power: number): Float64Array {
  const counts = new Float64Array(classes);
  for (let i = 0; i < y.length; i += 1) counts[y[i] ?? 0] = (counts[y[i] ?? 0] ?? 0) + 1;
  return counts.map((n) => (n === 0 ? 0 : (y.length / (classes * n)) ** power));
}

/** Per-row weights from the class weighting of `hp`. */
export function sampleWeights(y: Int32Array, classes: number, power: number): Float64Array {
  const perClass = classWeights(y, classes, power);
  return Float64Array.from(y, (c) => perClass[c] ?? 1);
}

/** Fits features and logistic regression on texts with integer labels into `labels`. */
export function trainModel(
  texts: readonly string[],
  y: Int32Array,
  labels: readonly string[],
  hp: Hyperparameters,
  onIteration?: (iteration: number, loss: number) => void,
): TrainedModel {
  const { blocks, x } = fitFeatures(blockOptions(hp), texts);
  const linear = trainLogisticRegression(x, y, labels.length, {
    c: hp.c,
    sampleWeights: sampleWeights(y, labels.length, hp.classWeightPower),
    maxIterations: hp.maxIterations,
    onIteration,
  });
  return { labels: [...labels], blocks, linear };
}

/** Adds per-class logit offsets to the intercepts (returns a new model). */
export function withOffsets(model: TrainedModel, offsets: ArrayLike<number>): TrainedModel {
  const intercepts = model.linear.intercepts.map((b, c) => b + (offsets[c] ?? 0));
  return { ...model, linear: { ...model.linear, intercepts } };
}

/** Logits `[texts, classes]` (before softmax) for raw texts. */
export function logits(model: TrainedModel, texts: readonly string[]): Float64Array {
  return decisionFunction(featureMatrix(model.blocks, texts), model.linear);
}
