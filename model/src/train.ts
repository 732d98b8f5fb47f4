import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset } from './dataset';
import { argmaxRows, evaluate, type Metrics } from './metrics';
import { buildOnnxModel, IR_VERSION, MODEL_IO, OPSETS } from './onnx';
import { logits, trainModel, withOffsets, type Hyperparameters, type TrainedModel } from './pipeline';
import { describe, selectModel, type FixedSettings, type SearchSpace, type Selection } from './select';
import { sklearnStratifiedSplit } from './sklearn-split';
import { NORMALIZER_LOCALE, PAD_TOKEN, TOKEN_PATTERN } from './text';

/** File names written into the output directory. */
export const MODEL_FILE = 'sentiment.onnx';
export const CARD_FILE = 'model-card.json';

/** Settings of one training run. */
export interface TrainingSettings {
  /** Held-out fraction for the reported metrics (stratified). */
  testFraction: number;
  /** Cross-validation folds over the training part (model selection). */
  folds: number;
  /** Selection rule: the most accurate candidate whose cross-validated macro-F1 reaches this. */
  macroF1Floor: number;
  seed: number;
  space: SearchSpace;
  fixed: FixedSettings;
}

/** The defaults `npm run train` uses: the 80/20 split and the search space of the committed model. */
export const DEFAULT_TRAINING: TrainingSettings = {
  testFraction: 0.2,
  folds: 3,
  // The bar is macro-F1 >= 0.20; the margin absorbs the cross-validation noise.
  macroF1Floor: 0.205,
  seed: 42,
  space: {
    c: [0.25, 0.5],
    minDf: [2],
    // 10k + 10k columns: cross-validation scores within 0.2 points of 20k + 20k, at half the
    // per-sentence latency (the dense TF-IDF rows and the MatMul weights scale with them).
    maxFeatures: [10000],
    charMaxFeatures: [10000],
    classWeightPower: [0.5, 0.6],
  },
  fixed: { ngramMax: 2, charNgramMin: 3, charNgramMax: 4, maxIterations: 300 },
};

/** What a run produced. */
export interface TrainingResult {
  model: TrainedModel;
  onnx: Uint8Array;
  card: ModelCard;
  selection: Selection;
}

/** The model card written next to the model (see README "Model"). */
export interface ModelCard {
  name: string;
  task: string;
  labels: string[];
  io: Record<string, string>;
  dataset: { file: string; sha256: string; rows: number; classCounts: Record<string, number> };
  split: {
    method: string;
    testFraction: number;
    seed: number;
    trainRows: number;
    testRows: number;
    validation: { method: string; folds: number; seed: number; rows: number };
  };
  heldOut: {
    note: string;
    accuracy: number;
    macroF1: number;
    perClassF1: Record<string, number>;
    confusionMatrix: { rowsAreTrueLabels: true; labels: string[]; matrix: number[][] };
    majorityClass: string;
    majorityClassAccuracy: number;
    classroomBaseline: { accuracy: number; macroF1: number };
  };
  crossValidation: {
    selectionRule: string;
    accuracy: number;
    macroF1: number;
    accuracyBeforeOffsets: number;
    macroF1BeforeOffsets: number;
    offsets: {
      adopted: boolean;
      rule: string;
      raw: Record<string, number>;
      crossFitted: Record<string, number>;
    };
    candidates: (Pick<
      Hyperparameters,
      'c' | 'classWeightPower' | 'minDf' | 'maxFeatures' | 'charMaxFeatures'
    > & {
      accuracy: number;
      macroF1: number;
    })[];
  };
  hyperparameters: Hyperparameters & {
    classLogitOffsets: Record<string, number>;
    tokenPattern: string;
    padToken: string;
    lowercase: string;
    tfidf: string;
  };
  trainedOn: string;
  vocabularySize: { total: number } & Record<string, number>;
  trainingSeconds: { finalFit: number; total: number };
  irVersion: number;
  opsets: Record<string, number>;
  model: { file: string; sha256: string; bytes: number };
  date: string;
  limitations: string[];
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;
const roundAll = (o: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(o).map(([key, v]) => [key, round4(v)]));

function byLabel(labels: readonly string[], values: readonly number[]): Record<string, number> {
  return Object.fromEntries(labels.map((l, i) => [l, round4(values[i] ?? 0)]));
}

/**
 * The whole procedure behind `npm run train`:
 * 1. stratified train/test split (seed);
 * 2. model selection on a validation split carved from the training part only;
 * 3. refit the winner on the training part, evaluate on the untouched test part (card metrics);
 * 4. refit on all rows and export that model.
 */
export function runTraining(
  dataset: Dataset,
  settings: TrainingSettings,
  log: (message: string) => void = () => undefined,
): TrainingResult {
  const started = Date.now();
  const { labels, examples } = dataset;
  const k = labels.length;
  const y = Int32Array.from(examples, (e) => labels.indexOf(e.label));
  const texts = examples.map((e) => e.text);
  const { train, test } = sklearnStratifiedSplit(Array.from(y), settings.testFraction, settings.seed);
  log(
    `split: ${train.length} train / ${test.length} test rows (scikit-learn's stratified train_test_split, ` +
      `random_state ${settings.seed})`,
  );
  const trainTexts = train.map((i) => texts[i] ?? '');
  const trainY = Int32Array.from(train, (i) => y[i] ?? 0);

  const selection = selectModel(trainTexts, trainY, k, settings.space, settings.fixed, {
    folds: settings.folds,
    seed: settings.seed,
    macroF1Floor: settings.macroF1Floor,
    log,
  });
  const hp = selection.best;
  log(`selected ${describe(hp)}; offsets ${selection.offsets.map((o) => o.toFixed(2)).join(' ')}`);

  log(`fitting the selected model on the ${train.length} training rows`);
  const heldOutModel = withOffsets(trainModel(trainTexts, trainY, labels, hp), selection.offsets);
  const testY = Int32Array.from(test, (i) => y[i] ?? 0);
  const heldOut: Metrics = evaluate(
    testY,
    argmaxRows(
      logits(
        heldOutModel,
        test.map((i) => texts[i] ?? ''),
      ),
      k,
    ),
    k,
  );
  log(`held-out: accuracy ${heldOut.accuracy.toFixed(4)}, macro-F1 ${heldOut.macroF1.toFixed(4)}`);

  log(`fitting the final model on all ${examples.length} rows`);
  const finalStarted = Date.now();
  const model = withOffsets(
    trainModel(texts, y, labels, hp, (iteration, loss) => {
      if (iteration % 50 === 0) log(`  L-BFGS iteration ${iteration}: loss ${loss.toFixed(5)}`);
    }),
    selection.offsets,
  );
  const finalFit = (Date.now() - finalStarted) / 1000;
  const onnx = buildOnnxModel(model, {
    dataset_sha256: dataset.sha256,
    trained_on_rows: String(examples.length),
    hyperparameters: JSON.stringify(hp),
  });

  const classCounts = labels.map((_, c) => y.filter((v) => v === c).length);
  const testCounts = labels.map((_, c) => testY.filter((v) => v === c).length);
  const majority = testCounts.indexOf(Math.max(...testCounts));
  const card: ModelCard = {
    name: 'sentiment',
    task: `emotion classification of short English texts (${k} classes)`,
    labels,
    io: {
      [MODEL_IO.input]: 'string [N]: raw sentences',
      [MODEL_IO.label]: 'string [N]: most probable class',
      [MODEL_IO.probabilities]: `float32 [N, ${k}]: softmax over classes, columns in 'classes' order`,
      [MODEL_IO.classes]: `string [${k}]: the label of each probabilities column`,
    },
    dataset: {
      file: dataset.file,
      sha256: dataset.sha256,
      rows: dataset.rows,
      classCounts: Object.fromEntries(labels.map((l, i) => [l, classCounts[i] ?? 0])),
    },
    split: {
      method:
        'scikit-learn train_test_split(test_size, stratify=labels, random_state=seed), reproduced row for row ' +
        '(numpy MT19937 + StratifiedShuffleSplit): the same held-out rows as the classroom baseline',
      testFraction: settings.testFraction,
      seed: settings.seed,
      trainRows: train.length,
      testRows: test.length,
      validation: {
        method: 'stratified k-fold cross-validation on the training part only (test part never seen)',
        folds: selection.folds,
        seed: settings.seed,
        rows: selection.rows,
      },
    },
    heldOut: {
      note:
        'Model-selection run: hyperparameters and offsets chosen by cross-validation on the training part, ' +
        'model fitted on the training part, scored once on the untouched test part. The shipped model is then refitted on all rows.',
      accuracy: round4(heldOut.accuracy),
      macroF1: round4(heldOut.macroF1),
      perClassF1: byLabel(labels, heldOut.perClassF1),
      confusionMatrix: { rowsAreTrueLabels: true, labels, matrix: heldOut.confusion },
      majorityClass: labels[majority] ?? '',
      majorityClassAccuracy: round4((testCounts[majority] ?? 0) / test.length),
      classroomBaseline: { accuracy: 0.348, macroF1: 0.176 },
    },
    crossValidation: {
      selectionRule:
        `${selection.folds}-fold stratified cross-validation on the training part; among candidates with ` +
        `out-of-fold macro-F1 >= ${settings.macroF1Floor}, the most accurate`,
      accuracy: round4(selection.validation.withOffsets.accuracy),
      macroF1: round4(selection.validation.withOffsets.macroF1),
      accuracyBeforeOffsets: round4(selection.validation.withoutOffsets.accuracy),
      macroF1BeforeOffsets: round4(selection.validation.withoutOffsets.macroF1),
      offsets: {
        adopted: selection.offsetCheck.adopted,
        rule: 'fitted on one half of the out-of-fold logits, scored on the other (both ways); adopted only if neither metric falls',
        raw: roundAll(selection.offsetCheck.raw),
        crossFitted: roundAll(selection.offsetCheck.crossFitted),
      },
      candidates: selection.trials.map(({ hyperparameters: h, accuracy, macroF1 }) => ({
        c: h.c,
        classWeightPower: h.classWeightPower,
        minDf: h.minDf,
        maxFeatures: h.maxFeatures,
        charMaxFeatures: h.charMaxFeatures,
        accuracy: round4(accuracy),
        macroF1: round4(macroF1),
      })),
    },
    hyperparameters: {
      ...hp,
      classLogitOffsets: byLabel(labels, selection.offsets),
      tokenPattern: TOKEN_PATTERN,
      padToken: PAD_TOKEN,
      lowercase: `StringNormalizer LOWER, locale ${NORMALIZER_LOCALE}`,
      tfidf:
        'per block (word 1-2-grams; character n-grams of the lowercased text + " PAD"): raw count x smoothed idf ' +
        'ln((1+n)/(1+df))+1, each block L2-normalised, blocks side by side',
    },
    trainedOn: `all ${examples.length} rows of ${dataset.file} (train + test parts), after model selection`,
    vocabularySize: {
      ...Object.fromEntries(
        model.blocks.map((b) => [`${b.analyzer}${b.minN}to${b.maxN}grams`, b.terms.length]),
      ),
      total: model.blocks.reduce((s, b) => s + b.terms.length, 0),
    },
    trainingSeconds: { finalFit: round4(finalFit), total: round4((Date.now() - started) / 1000) },
    irVersion: IR_VERSION,
    opsets: { ...OPSETS },
    model: { file: MODEL_FILE, sha256: createHash('sha256').update(onnx).digest('hex'), bytes: onnx.length },
    date: new Date().toISOString(),
    limitations: [
      `Labels are noisy crowd annotations (CrowdFlower): many tweets fit several emotions and repeated texts carry conflicting labels; held-out accuracy is ${(heldOut.accuracy * 100).toFixed(1)}% (majority class ${(((testCounts[majority] ?? 0) / test.length) * 100).toFixed(1)}%). Treat the label as a hint, and the probabilities as relative, not calibrated, scores (class weighting shifts them toward rare classes).`,
      `Classes with held-out F1 below 0.1 are almost never predicted correctly: ${
        labels.filter((_, c) => (heldOut.perClassF1[c] ?? 0) < 0.1).join(', ') || 'none'
      }.`,
      'English tweets from 2009. Word tokens are ASCII letters, digits, inner apostrophes, ! ? @; character 3-4-grams see everything else (accents, emoji) but only as far as the training tweets contained it. No negation handling beyond bigrams.',
      'Text with no known n-gram gets the prior distribution of the intercepts (e.g. an unseen script).',
      "The held-out rows are those of scikit-learn's train_test_split(stratify, test_size=0.2, random_state=42), where the classroom recipe measures 0.347 / 0.175 (0.348 / 0.176 as reported), so the comparison is like for like.",
      'Held-out figures move by about 1.5 accuracy points between random 20% splits of this size: an earlier evaluation of a close variant (20k + 20k n-grams, class-weight power 0.7) on a different stratified split (own shuffle, seed 42) scored 0.341 / 0.216.',
      'The feature design (adding character 3-4-grams, the 10k + 10k vocabulary, the search ranges) was explored by cross-validation on the training part of that earlier split, which holds most of these held-out rows: treat the held-out figures as slightly optimistic.',
    ],
  };
  return { model, onnx, card, selection };
}

/** Writes the model and its card into `outDir`; returns their paths. */
export function writeArtifacts(
  result: TrainingResult,
  outDir: string,
): { modelPath: string; cardPath: string } {
  mkdirSync(outDir, { recursive: true });
  const modelPath = join(outDir, MODEL_FILE);
  const cardPath = join(outDir, CARD_FILE);
  writeFileSync(modelPath, result.onnx);
  writeFileSync(cardPath, `${JSON.stringify(result.card, null, 2)}\n`);
  return { modelPath, cardPath };
}
